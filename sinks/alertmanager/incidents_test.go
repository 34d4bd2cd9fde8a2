package alertmanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// incident returns a link incident between dev-a and dev-b with n member
// detections, open, or resolved at end.
func incident(id, site string, n int, end *time.Time, start time.Time) *schemas.Incident {
	in := &schemas.Incident{Version: schemas.IncidentVersion, ID: id, State: schemas.IncidentOpen, OpenedAt: start, UpdatedAt: start,
		Severity: schemas.SeverityCritical, Rule: schemas.RuleLink, Cause: "link " + id + "-a:Ethernet1 — " + id + "-b:Ethernet1 down",
		Confidence: 0.9, Action: "check the optic and fibre on " + id + "-a:Ethernet1",
		Entities: []schemas.Entity{{Kind: schemas.EntityInterface, Device: id + "-b", Name: "Ethernet1", Site: site},
			{Kind: schemas.EntityInterface, Device: id + "-a", Name: "Ethernet1", Site: site}}}
	for i := range n {
		in.Evidence = append(in.Evidence, schemas.Evidence{Time: start.Add(time.Duration(i) * time.Second), Role: schemas.EvidenceMember,
			DetectionID: "d" + string(rune('0'+i%10)), Fingerprint: "fp", State: schemas.StateFiring, Device: id + "-a",
			Metric: "/interfaces/interface/state/oper-status", Keys: "name=Ethernet1", Detector: "state", Severity: schemas.SeverityCritical})
	}
	if end != nil {
		in.State, in.ResolvedAt, in.UpdatedAt = schemas.IncidentResolved, end, *end
	}
	return in
}

func incidentRecord(t testing.TB, in *schemas.Incident) *kgo.Record {
	t.Helper()
	v, err := schemas.MarshalIncident(in)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Key: []byte(in.ID), Value: v}
}

func TestIncidentAlert(t *testing.T) {
	in := incident("inc", "par1", 25, nil, t0)
	l := IncidentLabels(in)
	want := map[string]string{"alertname": IncidentAlertName, "incident_id": "inc", "cause_kind": "link", "site": "par1", "device": "inc-a,inc-b"}
	if !equalMaps(l, want) {
		t.Errorf("labels %v, want %v", l, want)
	}
	s := newSink(t, Config{URL: newFakeAM(t).URL, Source: SourceIncidents})
	a := s.incidentEvent(in).alert
	m := a.Annotations["members"]
	if lines := strings.Split(m, "\n"); len(lines) != maxMembers+1 || lines[maxMembers] != "… and 5 more" || !strings.Contains(lines[0], "inc-a /interfaces/interface/state/oper-status name=Ethernet1 (state, firing)") {
		t.Errorf("members annotation:\n%s", m)
	}
	in.EvidenceOmitted = 7 // a long incident: its evidence lists some of its members
	a = s.incidentEvent(in).alert
	if m := a.Annotations["members"]; !strings.HasSuffix(m, "\n… and 12 more") || a.Annotations["member_count"] != "32" {
		t.Errorf("with 7 members omitted: member_count %s, members annotation ending %q", a.Annotations["member_count"], m[max(0, len(m)-40):])
	}
	if a.Annotations["cause"] != in.Cause || a.Annotations["confidence"] != "0.90" || a.Annotations["suggested_action"] != in.Action || !a.StartsAt.Equal(t0) {
		t.Errorf("alert %+v", a)
	}
	if err := s.Add(context.Background(), &kgo.Record{Value: []byte(`{"version":1}`)}); !errors.Is(err, schemas.ErrMalformed) {
		t.Errorf("bad incident: %v, want ErrMalformed", err)
	}
	if err := s.Add(context.Background(), &kgo.Record{}); err != nil || s.Pending() != 0 {
		t.Errorf("tombstone: %v, %d pending; want skipped", err, s.Pending())
	}
	s.RestoreIncidents(context.Background(), in, incident("gone", "", 1, &t0, t0))
	if s.Firing() != 1 {
		t.Errorf("restored %d firing, want 1", s.Firing())
	}
}

// TestIncidentLabelsAfterRestart posts an open incident, then an update
// in which a device of another site joined and the cause kind changed
// (the alert keeps its first labels: one page), then restarts the bridge,
// which restores the incident's latest update (app.restoreIncidents reads
// the compacted topic): it posts the labels Alertmanager holds, not the
// update's, which would be a second alert. Alertmanager unreachable at the
// restore: the incident is restored, one WARN line says so, and the
// flush fails (to be retried) until the labels can be read.
func TestIncidentLabelsAfterRestart(t *testing.T) {
	am := newFakeAM(t)
	ctx := context.Background()
	c := &clock{t: t0}
	s1 := newSink(t, Config{URL: am.URL, Source: SourceIncidents}, WithClock(c.now))
	in := incident("inc", "par1", 2, nil, t0)
	first := IncidentLabels(in)
	for _, update := range []func(){func() {}, func() {
		in.Rule = schemas.RuleDevice
		in.Entities = append(in.Entities, schemas.Entity{Kind: schemas.EntityDevice, Device: "inc-c", Site: "par2"})
	}} {
		update()
		if err := s1.Add(ctx, incidentRecord(t, in)); err != nil {
			t.Fatal(err)
		}
		if _, err := s1.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if maps.Equal(IncidentLabels(in), first) {
		t.Fatal("the update did not change the labels")
	}
	before := len(am.received())
	s2 := newSink(t, Config{URL: am.URL, Source: SourceIncidents}, WithClock(c.now))
	s2.RestoreIncidents(ctx, in, incident("other", "par3", 1, nil, t0))
	if _, err := s2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, p := range am.received() {
		for _, a := range p {
			got[a.Labels["incident_id"]] = a.Labels
		}
	}
	if len(am.received()) == before || !maps.Equal(got["inc"], first) {
		t.Errorf("after the restart incident inc is posted with labels %v, want its first post's %v", got["inc"], first)
	}
	if want := IncidentLabels(incident("other", "par3", 1, nil, t0)); !maps.Equal(got["other"], want) {
		t.Errorf("an incident Alertmanager does not hold: labels %v, want its own %v", got["other"], want)
	}

	var logs testenv.LogBuffer
	down := newSink(t, Config{URL: "http://127.0.0.1:1", Source: SourceIncidents, Timeout: time.Second}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	down.RestoreIncidents(ctx, in) // restored; their labels are read by the first flush
	if !strings.Contains(logs.String(), "cannot read the incident alerts it holds") || strings.Count(logs.String(), "level=WARN") != 1 {
		t.Errorf("Alertmanager down: want one WARN line saying what could not be read, got:\n%s", logs.String())
	}
	if _, err := down.Flush(ctx); err == nil || !strings.Contains(err.Error(), "cannot read the incident alerts it holds") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Alertmanager down: Flush = %v, want one line saying what could not be read", err)
	}
	if down.Firing() != 1 {
		t.Errorf("Alertmanager down: %d restored, want the open incident", down.Firing())
	}
}

// TestAlertmanagerIncidentIntegration posts an incident's updates (opened,
// then a device joins, then resolved) to the Alertmanager that
// deploy/local starts: exactly one alert is active at a time, with
// Alertmanager's fingerprint equal to schemas.Fingerprint of the labels,
// and none once resolved.
func TestAlertmanagerIncidentIntegration(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "it-inc-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := newSink(t, Config{URL: base, Timeout: 5 * time.Second, Source: SourceIncidents})
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	post := func(in *schemas.Incident) {
		t.Helper()
		if err := s.Add(ctx, incidentRecord(t, in)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// active returns the active alerts of the incident once they are n.
	active := func(n int) []gettableAlert {
		t.Helper()
		var got []gettableAlert
		for ctx.Err() == nil {
			got = nil
			for _, a := range alertsFor(t, base, "", `incident_id="`+id+`"`) {
				if a.Status.State == "active" {
					got = append(got, a)
				}
			}
			if len(got) == n {
				return got
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("incident %s: %d active alerts %+v, want %d", id, len(got), got, n)
		return nil
	}
	in := incident(id, "par1", 2, nil, start)
	post(in)
	got := active(1)
	if l := IncidentLabels(in); got[0].Fingerprint != schemas.Fingerprint(l) || !equalMaps(got[0].Labels, l) {
		t.Fatalf("alert %+v, want labels %v and fingerprint %s", got[0], l, schemas.Fingerprint(l))
	}
	// A third device joins and the cause kind changes: the alert keeps
	// its first labels (one alert, one page), the annotations follow.
	first := got[0].Fingerprint
	in.Rule = schemas.RuleDevice
	in.Entities = append(in.Entities, schemas.Entity{Kind: schemas.EntityDevice, Device: id + "-c", Site: "par1"})
	in.Evidence = append(in.Evidence, schemas.Evidence{Time: start.Add(5 * time.Second), Role: schemas.EvidenceEffect, DetectionID: "dc", State: schemas.StateFiring,
		Device: id + "-c", Metric: "m", Detector: "robust_z", Severity: schemas.SeverityWarning})
	post(in)
	if got := active(1); got[0].Fingerprint != first || got[0].Labels["cause_kind"] != schemas.RuleLink || got[0].Annotations["cause_kind"] != schemas.RuleDevice {
		t.Fatalf("after a device joined: %+v, want the first alert (fingerprint %s) still, the only one", got, first)
	}
	// A restarted bridge restores the incident's latest update: the alert
	// it posts is still the first one.
	s2 := newSink(t, Config{URL: base, Timeout: 5 * time.Second, Source: SourceIncidents})
	s2.RestoreIncidents(ctx, in)
	if _, err := s2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := active(1); got[0].Fingerprint != first {
		t.Fatalf("after a restart: %+v, want the first alert (fingerprint %s) still, the only one", got, first)
	}
	end := time.Now().UTC()
	post(incident(id, "par1", 3, &end, start))
	active(0)
}
