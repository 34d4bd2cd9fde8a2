package alertmanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// gettableAlert is the part of Alertmanager's GET /api/v2/alerts answer
// the test checks.
type gettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// alertsFor lists the alerts of one device (active ones only, the API's
// default), or those matching filter when device is empty.
func alertsFor(t *testing.T, base, device string, filter ...string) []gettableAlert {
	t.Helper()
	q := url.Values{"filter": {`device="` + device + `"`}}
	if device == "" {
		q = url.Values{"filter": filter}
	}
	resp, err := http.Get(base + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v2/alerts: HTTP %d", resp.StatusCode)
	}
	var as []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&as); err != nil {
		t.Fatal(err)
	}
	return as
}

// TestAlertmanagerIntegration posts a firing detection to the Alertmanager
// that deploy/local starts, sees it active with the right labels, posts the
// resolved detection and sees it gone.
func TestAlertmanagerIntegration(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	device := "it-" + hex.EncodeToString(b) // unique, so runs and other tests do not meet
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	s := newSink(t, Config{URL: base, Timeout: 5 * time.Second})
	now := time.Now().UTC().Truncate(time.Millisecond)
	firing := detection(device, schemas.StateFiring, schemas.SeverityCritical)
	firing.StartsAt, firing.EventTime, firing.DetectedAt = now.Add(-time.Minute), now, now
	if err := s.Add(ctx, record(t, firing)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"alertname": schemas.AlertName, "device": device, "keys": "name=Ethernet1",
		"metric": "/interfaces/interface/state/counters/in-octets",
	}
	var got []gettableAlert
	for ctx.Err() == nil {
		if got = alertsFor(t, base, device); len(got) == 1 && got[0].Status.State == "active" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Status.State != "active" || !equalMaps(got[0].Labels, want) {
		t.Fatalf("alerts of %s: %+v, want one active with labels %v", device, got, want)
	}
	if got[0].Fingerprint != firing.Fingerprint || firing.Fingerprint != schemas.Fingerprint(firing.Labels) {
		t.Fatalf("Alertmanager's fingerprint %s, the detection's (the tk.detections key) %s: they must be equal", got[0].Fingerprint, firing.Fingerprint)
	}

	resolved := detection(device, schemas.StateResolved, schemas.SeverityCritical)
	end := time.Now().UTC()
	resolved.StartsAt, resolved.EndsAt, resolved.EventTime, resolved.DetectedAt = firing.StartsAt, &end, end, end
	if err := s.Add(ctx, record(t, resolved)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		if got = alertsFor(t, base, device); len(got) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("alerts of %s after resolving: %+v, want none active", device, got)
}

// TestAlertmanagerFingerprintWithSeverityLabel: with severity_label the
// posted label set has severity too, and Alertmanager's fingerprint is
// schemas.Fingerprint of that set (so it differs from the detection's, as
// documented).
func TestAlertmanagerFingerprintWithSeverityLabel(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	device := "it-sev-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := newSink(t, Config{URL: base, Timeout: 5 * time.Second, SeverityLabel: true})
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := detection(device, schemas.StateFiring, schemas.SeverityWarning)
	d.StartsAt, d.EventTime, d.DetectedAt = now.Add(-time.Minute), now, now
	if err := s.Add(ctx, record(t, d)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	withSeverity := map[string]string{"severity": "warning"}
	for k, v := range d.Labels {
		withSeverity[k] = v
	}
	var got []gettableAlert
	for ctx.Err() == nil {
		if got = alertsFor(t, base, device); len(got) == 1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Fingerprint != schemas.Fingerprint(withSeverity) || got[0].Fingerprint == d.Fingerprint {
		t.Fatalf("alerts of %s: %+v, want one with fingerprint %s (not %s)", device, got, schemas.Fingerprint(withSeverity), d.Fingerprint)
	}
}
