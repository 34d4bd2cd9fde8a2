package alertmanager

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Tests against the real Alertmanager (deploy/local) behind a proxy that
// misbehaves as the proxies in front of Alertmanager do.

// amProxy is a reverse proxy to the real Alertmanager at base. While down
// is set it answers 503 (a load balancer with no backend); a POST body
// over maxBody bytes (when set) gets 413, as nginx's client_max_body_size.
type amProxy struct {
	*httptest.Server
	down    atomic.Bool
	maxBody atomic.Int64
	tooBig  atomic.Int64 // requests answered 413
	// poison, when set, makes a POST whose body holds it answered 422
	// without passing it on, as Alertmanager answers a body that does not
	// match its schema (storing none of its alerts).
	poison atomic.Pointer[string]
	// noReads makes a GET answered 403, as a proxy that lets only the
	// alerts' POST through.
	noReads atomic.Bool
}

func newAMProxy(t *testing.T, base string) *amProxy {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &amProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodGet && p.noReads.Load() {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			if limit := p.maxBody.Load(); limit > 0 && int64(len(b)) > limit {
				p.tooBig.Add(1)
				http.Error(w, "<html><head><title>413 Request Entity Too Large</title></head></html>", http.StatusRequestEntityTooLarge)
				return
			}
			if poison := p.poison.Load(); poison != nil && bytes.Contains(b, []byte(*poison)) {
				http.Error(w, `{"code":602,"message":"labels in body is required"}`, http.StatusUnprocessableEntity)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// uniqueName returns prefix and random hex, so runs and tests sharing the
// Alertmanager do not meet.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// activeAlerts polls the real Alertmanager until the active alerts
// matching filter are want, or a deadline passes, and returns the last
// answer.
func activeAlerts(t *testing.T, base, filter string, want int) []gettableAlert {
	t.Helper()
	var got []gettableAlert
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = got[:0]
		for _, a := range alertsFor(t, base, "", filter) {
			if a.Status.State == "active" {
				got = append(got, a)
			}
		}
		if len(got) == want {
			break
		}
	}
	return got
}

// TestRedirectedPostIsNotLost: an Alertmanager URL that answers a POST with
// a 301 or 302 (a proxy redirecting http to https, or to a path with a
// trailing slash) stops the bridge with one line naming where it
// redirects. Before, the client followed the redirect with a GET, which
// Alertmanager answers 200 with its alert list: the flush succeeded, the
// offsets were committed and the alerts never reached Alertmanager.
func TestRedirectedPostIsNotLost(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, base+r.URL.RequestURI(), code)
		}))
		defer redirect.Close()
		device := uniqueName("it-redir-")
		s := newSink(t, Config{URL: redirect.URL, Timeout: 5 * time.Second})
		d := detection(device, schemas.StateFiring, schemas.SeverityCritical)
		d.StartsAt = time.Now().UTC().Add(-time.Minute)
		add(t, s, d)
		_, err := s.Flush(context.Background())
		if err == nil && len(activeAlerts(t, base, `device="`+device+`"`, 1)) == 0 {
			t.Fatalf("HTTP %d: the flush succeeded and Alertmanager holds no alert of %s: the alert is lost", code, device)
		}
		if !errors.Is(err, pipeline.ErrStop) || !strings.Contains(err.Error(), base) || strings.Contains(err.Error(), "\n") {
			t.Errorf("HTTP %d: err = %v, want a stop naming where the url redirects, on one line", code, err)
		}
		if s.Pending() != 1 {
			t.Errorf("HTTP %d: Pending = %d after the refused flush, want 1", code, s.Pending())
		}
	}
}

// TestTemporaryRedirectIsFollowed: a 307 or 308 keeps the POST and its
// body, so the alert reaches Alertmanager.
func TestTemporaryRedirectIsFollowed(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusPermanentRedirect)
	}))
	defer redirect.Close()
	device := uniqueName("it-redir308-")
	s := newSink(t, Config{URL: redirect.URL, Timeout: 5 * time.Second})
	d := detection(device, schemas.StateFiring, schemas.SeverityCritical)
	d.StartsAt = time.Now().UTC().Add(-time.Minute)
	add(t, s, d)
	flush(t, s, 1)
	if got := activeAlerts(t, base, `device="`+device+`"`, 1); len(got) != 1 {
		t.Fatalf("alerts of %s: %+v, want one active", device, got)
	}
}

// TestTooLargeBatchIsSplit: a proxy in front of Alertmanager that limits
// request bodies (nginx's client_max_body_size, 1 MiB by default) answers
// a burst of alerts 413. The bridge splits the batch until the parts fit,
// so every alert reaches Alertmanager; one too large alone is posted with
// its annotations cut, and only one whose labels do not fit is dropped
// (one WARN line each, the drop counted as too_large). Before, a 413 was
// an "unexpected HTTP 413" that stopped the bridge, and its restart read
// the same burst again and stopped again: no alert of the burst, nor any
// after it, was ever posted.
func TestTooLargeBatchIsSplit(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	p := newAMProxy(t, base)
	const limit = 32 << 10
	p.maxBody.Store(limit)
	var logs testenv.LogBuffer
	m := NewMetrics(prometheus.NewRegistry())
	s := newSink(t, Config{URL: p.URL, Timeout: 5 * time.Second}, WithMetrics(m), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	prefix := uniqueName("it-413-")
	const n = 120 // ~500 bytes each: ~60 KiB in one batch
	now := time.Now().UTC()
	for i := range n {
		d := detection(fmt.Sprintf("%s-%03d", prefix, i), schemas.StateFiring, schemas.SeverityWarning)
		d.StartsAt = now.Add(-time.Minute)
		add(t, s, d)
	}
	long := detection(prefix+"-long", schemas.StateFiring, schemas.SeverityWarning)
	long.StartsAt = now.Add(-time.Minute)
	long.Annotations["description"] = strings.Repeat("a very long description ", limit/16)
	huge := detection(prefix+"-huge"+strings.Repeat("x", limit), schemas.StateFiring, schemas.SeverityWarning)
	huge.StartsAt = now.Add(-time.Minute)
	add(t, s, long, huge)

	if _, err := s.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if p.tooBig.Load() == 0 {
		t.Fatal("the proxy never answered 413: the test does not test the limit")
	}
	got := activeAlerts(t, base, `device=~"`+prefix+`-.*"`, n+1)
	if len(got) != n+1 {
		t.Fatalf("Alertmanager holds %d active alerts of the burst, want %d (all but the one whose labels are too large)", len(got), n+1)
	}
	for _, a := range got {
		if a.Labels["device"] == prefix+"-long" && len(a.Annotations["description"]) > maxAnnotation {
			t.Errorf("the alert too large alone was posted with a description of %d bytes", len(a.Annotations["description"]))
		}
	}
	if v := testutil.ToFloat64(m.dropped.WithLabelValues("too_large")); v != 1 {
		t.Errorf("dropped{too_large} = %v, want 1 (the alert whose labels are too large)", v)
	}
	if c := strings.Count(logs.String(), "too large"); c != 2 || !strings.Contains(logs.String(), prefix+"-long") || !strings.Contains(logs.String(), "dropping it") {
		t.Errorf("want one WARN for the alert posted cut, naming it, and one for the dropped one; got %d:\n%s", c, logs.String())
	}
	// The re-posts of the firing alerts fit too.
	s.now = func() time.Time { return now.Add(2 * time.Minute) }
	if _, err := s.Flush(context.Background()); err != nil {
		t.Fatalf("re-post Flush: %v", err)
	}
}

// TestRestoreIncidentsWhileAlertmanagerUnreachable: a bridge restarting
// while Alertmanager cannot be reached (it is restarting too, or the proxy
// in front of it has no backend yet) still posts an incident that grew
// while it was down with the labels of its first post, once Alertmanager
// answers. Before, RestoreIncidents failed to read the labels Alertmanager
// held and restored the incident with its current ones: the first flush
// posted a second alert (a second page) while the first one fired on
// until its endsAt and then resolved, the incident still open.
func TestRestoreIncidentsWhileAlertmanagerUnreachable(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	ctx := context.Background()
	id := uniqueName("it-inc-down-")
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	in := incident(id, "par1", 2, nil, start)
	first := IncidentLabels(in)

	s1 := newSink(t, Config{URL: base, Timeout: 5 * time.Second, Source: SourceIncidents})
	if err := s1.Add(ctx, incidentRecord(t, in)); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	filter := `incident_id="` + id + `"`
	if got := activeAlerts(t, base, filter, 1); len(got) != 1 {
		t.Fatalf("incident %s: %+v, want one active alert", id, got)
	}

	// While the bridge is down a device of another site joins.
	in.Entities = append(in.Entities, schemas.Entity{Kind: schemas.EntityDevice, Device: id + "-c", Site: "par2"})
	if equalMaps(IncidentLabels(in), first) {
		t.Fatal("the update did not change the labels")
	}

	p := newAMProxy(t, base)
	p.down.Store(true)
	var logs testenv.LogBuffer
	s2 := newSink(t, Config{URL: p.URL, Timeout: 5 * time.Second, Source: SourceIncidents}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	s2.RestoreIncidents(ctx, in) // it logs that Alertmanager is unreachable
	if _, err := s2.Flush(ctx); err == nil {
		t.Fatal("a flush through a proxy answering 503 succeeded")
	}
	p.down.Store(false)
	if _, err := s2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := activeAlerts(t, base, filter, 1)
	if len(got) != 1 || !equalMaps(got[0].Labels, first) {
		t.Fatalf("incident %s: active alerts %+v, want one, with its first labels %v", id, got, first)
	}
	if strings.Count(logs.String(), "level=WARN") > 1 {
		t.Errorf("more than one WARN line:\n%s", logs.String())
	}
}

// TestOneRejectedAlertDoesNotDropTheBatch: Alertmanager answers a request
// whose body does not match its schema 422 and stores none of its alerts.
// The bridge splits such a request down to the alert rejected alone, so
// the other alerts of the batch reach Alertmanager and only that one is
// dropped (one WARN line with its labels, counted rejected). Before, the
// whole batch was dropped and counted rejected: 40 firing alerts never
// paged for one bad one.
func TestOneRejectedAlertDoesNotDropTheBatch(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	p := newAMProxy(t, base)
	prefix := uniqueName("it-422-")
	poison := prefix + "-poison"
	p.poison.Store(&poison)
	var logs testenv.LogBuffer
	m := NewMetrics(prometheus.NewRegistry())
	s := newSink(t, Config{URL: p.URL, Timeout: 5 * time.Second}, WithMetrics(m), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	const n = 40
	now := time.Now().UTC()
	for i := range n + 1 {
		device := fmt.Sprintf("%s-%03d", prefix, i)
		if i == n/2 {
			device = poison
		}
		d := detection(device, schemas.StateFiring, schemas.SeverityWarning)
		d.StartsAt = now.Add(-time.Minute)
		add(t, s, d)
	}
	flush(t, s, n+1)
	if got := activeAlerts(t, base, `device=~"`+prefix+`-.*"`, n); len(got) != n {
		t.Fatalf("Alertmanager holds %d active alerts of the batch, want %d (all but the rejected one)", len(got), n)
	}
	if v := testutil.ToFloat64(m.dropped.WithLabelValues("rejected")); v != 1 {
		t.Errorf("dropped{rejected} = %v, want 1", v)
	}
	if c := strings.Count(logs.String(), "rejected an alert"); c != 1 || !strings.Contains(logs.String(), poison) {
		t.Errorf("want one WARN naming the rejected alert, got %d:\n%s", c, logs.String())
	}
}

// TestDeviceAheadFiringExpires: a firing detection of a device whose clock
// runs an hour ahead is posted with startsAt now and endsAt now + 4 ×
// resend_interval, so if the bridge stops posting it (it stopped, or lost
// the partition) Alertmanager resolves it within minutes, as documented.
// Before, endsAt was the device's startsAt + 4 × resend_interval: the
// alert stayed firing in Alertmanager for the hour and four minutes.
func TestDeviceAheadFiringExpires(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	device := uniqueName("it-ahead-")
	s := newSink(t, Config{URL: base, Timeout: 5 * time.Second})
	now := time.Now().UTC()
	d := detection(device, schemas.StateFiring, schemas.SeverityCritical)
	d.StartsAt, d.EventTime, d.DetectedAt = now.Add(time.Hour), now.Add(time.Hour), now
	add(t, s, d)
	flush(t, s, 1)
	resp, err := http.Get(base + "/api/v2/alerts?" + url.Values{"filter": {`device="` + device + `"`}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []struct{ StartsAt, EndsAt time.Time }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	limit := time.Now().Add(endsAtFactor*DefaultResendInterval + time.Second)
	if len(got) != 1 || got[0].EndsAt.After(limit) || got[0].StartsAt.After(time.Now()) {
		t.Fatalf("alerts of %s: %+v, want one with startsAt not after now and endsAt before %v", device, got, limit)
	}
}

// TestRestoreIncidentsReadsRefused: behind a proxy that lets the alerts'
// POST through but answers a GET 403, a bridge restarted with an open
// incident posts it with its current labels and keeps running, as it did
// before the first flush read the labels Alertmanager holds. Before, in
// the first version of that read, the 403 stopped the bridge for good at
// its first flush: no incident was ever posted again.
func TestRestoreIncidentsReadsRefused(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	ctx := context.Background()
	id := uniqueName("it-inc-noreads-")
	in := incident(id, "par1", 2, nil, time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond))
	p := newAMProxy(t, base)
	p.noReads.Store(true)
	var logs testenv.LogBuffer
	s := newSink(t, Config{URL: p.URL, Timeout: 5 * time.Second, Source: SourceIncidents}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	s.RestoreIncidents(ctx, in)
	if _, err := s.Flush(ctx); err != nil {
		t.Fatalf("the first flush: %v\n%s", err, logs.String())
	}
	got := activeAlerts(t, base, `incident_id="`+id+`"`, 1)
	if len(got) != 1 || !equalMaps(got[0].Labels, IncidentLabels(in)) {
		t.Fatalf("incident %s: active alerts %+v, want one with its current labels", id, got)
	}
	if !strings.Contains(logs.String(), "refuses to list the alerts it holds") {
		t.Errorf("no WARN line saying the labels could not be read:\n%s", logs.String())
	}
}
