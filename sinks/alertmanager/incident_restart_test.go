package alertmanager

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestIncidentResolvedWhileBridgeDown: an incident is posted open (labels
// L1); while the bridge is down the correlate stage updates it (a device
// of another site joins: labels L2) and then resolves it. The restarted
// bridge restores as app.restoreIncidents does (the latest update of every
// incident of the compacted topic: resolved) and then reads the two
// updates again from its committed offset.
//
// An incident keeps the labels of its first post for its whole life:
// RestoreIncidents reads the labels Alertmanager holds (L1) although the
// incident is resolved, and the updates read again are posted with them,
// so L1 ends resolved and no other alert is posted. Before, Alertmanager
// was asked only for open incidents: the open update was posted with L2, a
// second alert (a second page when posted in another flush than the
// resolution), the resolution resolved L2, and L1 fired until its endsAt.
func TestIncidentResolvedWhileBridgeDown(t *testing.T) {
	am := newFakeAM(t)
	ctx := context.Background()
	c := &clock{t: t0.Add(time.Minute)}
	in := incident("inc", "par1", 2, nil, t0)
	first := IncidentLabels(in)

	s1 := newSink(t, Config{URL: am.URL, Source: SourceIncidents}, WithClock(c.now))
	if err := s1.Add(ctx, incidentRecord(t, in)); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// While the bridge is down: a device of another site joins, then the
	// incident resolves.
	grown := incident("inc", "par1", 3, nil, t0)
	grown.Entities = append(grown.Entities, schemas.Entity{Kind: schemas.EntityDevice, Device: "inc-c", Site: "par2"})
	end := t0.Add(2 * time.Minute)
	resolved := incident("inc", "par1", 3, &end, t0)
	resolved.Entities = grown.Entities
	if maps.Equal(IncidentLabels(grown), first) {
		t.Fatal("the update did not change the labels")
	}

	c.t = t0.Add(3 * time.Minute)
	s2 := newSink(t, Config{URL: am.URL, Source: SourceIncidents}, WithClock(c.now))
	// app.restoreIncidents: the latest update of each incident in the topic.
	s2.RestoreIncidents(ctx, resolved)
	// Then the runner reads on from the group's committed offset.
	for _, u := range []*schemas.Incident{grown, resolved} {
		if err := s2.Add(ctx, incidentRecord(t, u)); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var firstResolved bool
	for i, p := range am.received() {
		for _, a := range p {
			state := "firing"
			if !a.EndsAt.After(c.t) {
				state = "resolved"
			}
			t.Logf("post %d: %s %v", i, state, a.Labels)
			if !maps.Equal(a.Labels, first) {
				t.Errorf("post %d: incident inc posted %s with labels %v, not its first post's %v: a second alert for one incident", i, state, a.Labels, first)
			}
			if maps.Equal(a.Labels, first) {
				firstResolved = state == "resolved"
			}
		}
	}
	if !firstResolved {
		t.Errorf("the incident resolved, but its alert (labels %v) was last posted firing: Alertmanager shows it firing until its endsAt", first)
	}
}

// TestIncidentHeldLabelsKeptOnFailedFlush: the labels Alertmanager held
// for an incident restored resolved are kept while the Flush that posts
// its update fails, so the retry posts them too.
func TestIncidentHeldLabelsKeptOnFailedFlush(t *testing.T) {
	am := newFakeAM(t, 200, 503)
	ctx := context.Background()
	c := &clock{t: t0.Add(time.Minute)}
	in := incident("inc", "par1", 2, nil, t0)
	first := IncidentLabels(in)
	s1 := newSink(t, Config{URL: am.URL, Source: SourceIncidents}, WithClock(c.now))
	if err := s1.Add(ctx, incidentRecord(t, in)); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	end := t0.Add(2 * time.Minute)
	resolved := incident("inc", "par1", 3, &end, t0)
	resolved.Entities = append(resolved.Entities, schemas.Entity{Kind: schemas.EntityDevice, Device: "inc-c", Site: "par2"})
	c.t = t0.Add(3 * time.Minute)
	s2 := newSink(t, Config{URL: am.URL, Source: SourceIncidents}, WithClock(c.now))
	s2.RestoreIncidents(ctx, resolved)
	if err := s2.Add(ctx, incidentRecord(t, resolved)); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Flush(ctx); err == nil {
		t.Fatal("the first flush after the restart did not fail")
	}
	if _, err := s2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	posts := am.received()
	last := posts[len(posts)-1]
	if len(posts) != 2 || len(last) != 1 || !maps.Equal(last[0].Labels, first) || last[0].EndsAt.After(c.t) {
		t.Errorf("posts %v, want the first post's labels %v resolved after the retry", posts, first)
	}
}
