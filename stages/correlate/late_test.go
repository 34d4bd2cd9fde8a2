package correlate

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// update is one incident message the stage emitted: the incident and its
// CloudEvents id.
type update struct {
	in   *schemas.Incident
	ceID string
}

// updates runs d through c and returns the incident messages it emitted.
func updates(t *testing.T, c *Stage, d *schemas.Detection) []update {
	t.Helper()
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	var out []update
	r := &kgo.Record{Value: v, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
	if err := c.Process(context.Background(), r, func(rec *kgo.Record) {
		in, err := schemas.UnmarshalIncident(rec.Value)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := schemas.HeaderValue(kafka.Headers(rec), "ce_id")
		out = append(out, update{in, string(id)})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLateEvidenceOnResolved: a link incident resolved at 302 s takes
// late evidence without reopening. A resolution of its alert delivered
// again later (a detect stage restarted, new id, at 400 s) moves updatedAt
// to 400 s, the time of the latest evidence as the contract says, and
// leaves the incident resolved at 302 s: the update is not misleading, it
// lists the evidence it adds. Traffic on a sibling uplink at 20 s that
// arrives after the resolution (its partition behind) joins as an effect
// and leaves updatedAt at 400 s; its update still has a CloudEvents id of
// its own, so a consumer that drops events whose id it has seen does not
// drop it as a repeat of the update before.
func TestLateEvidenceOnResolved(t *testing.T) {
	c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	F, R := schemas.StateFiring, schemas.StateResolved
	var last []update
	for _, d := range []*schemas.Detection{
		det(0, F, "spine1", mOper, "name=e3", "link_down"),
		det(2, F, "leaf1", mOper, "name=e1", "link_down"),
		det(300, R, "spine1", mOper, "name=e3", "link_down"),
		det(302, R, "leaf1", mOper, "name=e1", "link_down"),
	} {
		last = updates(t, c, d)
	}
	resolved := t0.Add(302 * time.Second)
	if len(last) != 1 || last[0].in.State != schemas.IncidentResolved || !last[0].in.ResolvedAt.Equal(resolved) {
		t.Fatalf("the link's resolution gave %d updates, want one resolved at %v", len(last), resolved)
	}
	ids := []string{last[0].ceID}
	check := func(d *schemas.Detection, updated time.Time) {
		t.Helper()
		up := updates(t, c, d)
		if len(up) != 1 {
			t.Fatalf("%s: %d updates, want 1", d.ID, len(up))
		}
		in := up[0].in
		if in.State != schemas.IncidentResolved || !in.ResolvedAt.Equal(resolved) || !in.UpdatedAt.Equal(updated) ||
			!slices.ContainsFunc(in.Evidence, func(e schemas.Evidence) bool { return e.DetectionID == d.ID }) {
			t.Errorf("%s: %s resolved at %v updated at %v with %d evidence; want resolved at %v, updated at %v, listing it",
				d.ID, in.State, in.ResolvedAt, in.UpdatedAt, len(in.Evidence), resolved, updated)
		}
		if slices.Contains(ids, up[0].ceID) {
			t.Errorf("%s: ce_id %q repeats an earlier update's (%q)", d.ID, up[0].ceID, ids)
		}
		ids = append(ids, up[0].ceID)
	}
	again := det(400, R, "spine1", mOper, "name=e3", "link_down")
	check(again, t0.Add(400*time.Second))
	check(det(20, F, "leaf1", mIn, "name=e2", "ewma"), t0.Add(400*time.Second))
}
