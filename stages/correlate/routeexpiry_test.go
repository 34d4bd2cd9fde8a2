package correlate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// routeAt routes d on detections partition 0 and returns its key.
func routeAt(t *testing.T, r *Route, d *schemas.Detection) string {
	t.Helper()
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	var key string
	rec := &kgo.Record{Value: v, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
	if err := r.Process(context.Background(), rec, func(out *kgo.Record) { key = string(out.Key) }); err != nil {
		t.Fatal(err)
	}
	return key
}

// TestRouteForgetsStaleAlertKeys: alerts that fire and never resolve (a
// device decommissioned while its links were down) left their routing key
// in Route for ever, and in its changelog: 1000 of them held 1000 keys
// however much time passed. With engine.stale_after, Route keeps a key for
// as long as the engine may hold the alert's incident waiting for its
// resolution (2 × stale_after + lateness after it fired, in event time),
// then forgets it and writes its tombstone; keys restored from the
// changelog count from the first detection after the restore. Without
// stale_after the engine keeps such incidents open, and Route their keys.
func TestRouteForgetsStaleAlertKeys(t *testing.T) {
	const n = 1000
	cfg := incidents.Config{StaleAfter: time.Hour, Lateness: 30 * time.Minute}
	horizon := int((2*cfg.StaleAfter + cfg.Lateness) / time.Second)
	fire := func(r *Route) {
		for i := range n {
			routeAt(t, r, det(i, schemas.StateFiring, fmt.Sprintf("gone%d", i), mOper, "name=e1", "link_down"))
		}
	}
	later := func(sec int) *schemas.Detection {
		return det(sec, schemas.StateFiring, "leaf1", mOper, "name=e9", "link_down")
	}
	checkpoint := func(r *Route) (keys, tombstones int) {
		r.Checkpoint(func(_ int32, _, v []byte) {
			if v == nil {
				tombstones++
			} else {
				keys++
			}
		})
		return keys, tombstones
	}

	r := NewRoute("input", inventory.Fixed(nil), cfg)
	fire(r)
	if k, ts := checkpoint(r); k != n || ts != 0 {
		t.Fatalf("first checkpoint: %d keys, %d tombstones; want %d keys", k, ts, n)
	}
	routeAt(t, r, later(horizon-10)) // the first alerts are still held
	if got := len(r.parts[0].keys); got != n+1 {
		t.Errorf("%d keys held before the horizon, want %d", got, n+1)
	}
	routeAt(t, r, later(2*n+horizon))
	if got := len(r.parts[0].keys); got != 1 {
		t.Errorf("%d keys held after the horizon, want 1 (the latest alert's)", got)
	}
	if k, ts := checkpoint(r); ts != n || k != 1 {
		t.Errorf("checkpoint after the horizon: %d keys, %d tombstones; want 1 and %d", k, ts, n)
	}

	// Without stale_after, the keys stay, as the engine's incidents do.
	never := NewRoute("input", inventory.Fixed(nil), incidents.Config{})
	fire(never)
	routeAt(t, never, later(100*horizon))
	if got := len(never.parts[0].keys); got != n+1 {
		t.Errorf("without stale_after: %d keys held, want %d", got, n+1)
	}
}

// TestRouteRestoredKeysExpire: keys restored from the changelog, whose
// firing time it does not hold, are forgotten a horizon after the first
// detection the partition routes after the restore.
func TestRouteRestoredKeysExpire(t *testing.T) {
	cfg := incidents.Config{StaleAfter: time.Hour, Lateness: 30 * time.Minute}
	horizon := int((2*cfg.StaleAfter + cfg.Lateness) / time.Second)
	r := NewRoute("input", inventory.Fixed(nil), cfg)
	for i := range 10 {
		if err := r.Restore(0, []byte(alertKeyPrefix+fmt.Sprint("fp", i)), []byte("gone")); err != nil {
			t.Fatal(err)
		}
	}
	routeAt(t, r, det(0, schemas.StateFiring, "leaf1", mOper, "name=e9", "link_down"))
	routeAt(t, r, det(horizon-1, schemas.StateFiring, "leaf1", mOper, "name=e8", "link_down"))
	if got := len(r.parts[0].keys); got != 12 {
		t.Errorf("%d keys within the horizon of the restore, want 12", got)
	}
	routeAt(t, r, det(horizon+1, schemas.StateFiring, "leaf1", mOper, "name=e7", "link_down"))
	if got := len(r.parts[0].keys); got != 2 {
		t.Errorf("%d keys past the horizon of the restore, want 2 (e8's and e7's)", got)
	}
}
