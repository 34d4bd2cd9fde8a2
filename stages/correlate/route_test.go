package correlate

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// TestRouteKeepsAlertKey: an alert's detections go to the correlate input
// under the key its firing went under, while it fires, though the
// inventory changed in between (leaf1 learned, or moved to another site),
// so its resolution reaches the engine holding its incident, across a
// restore too; the next firing takes the current key. Before, the
// resolution went under the new key, to another input partition when
// there are several, and the incident stayed open for ever.
func TestRouteKeepsAlertKey(t *testing.T) {
	inv := inventory.Fixed(nil) // leaf1 unknown: keyed by its name
	r := NewRoute("input", inv, incidents.Config{})
	route := func(r *Route, d *schemas.Detection) string {
		t.Helper()
		v, err := schemas.MarshalDetection(d)
		if err != nil {
			t.Fatal(err)
		}
		var key string
		rec := &kgo.Record{Partition: 2, Value: v, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
		if err := r.Process(context.Background(), rec, func(out *kgo.Record) { key = string(out.Key) }); err != nil {
			t.Fatal(err)
		}
		return key
	}
	fired := route(r, det(0, schemas.StateFiring, "leaf1", mOper, "name=e1", "link_down"))
	inv.SetLive(testInventory()) // leaf1 in site fra1 now
	restored := NewRoute("input", inv, incidents.Config{})
	r.Checkpoint(func(p int32, k, v []byte) {
		if err := restored.Restore(p, k, v); err != nil {
			t.Fatal(err)
		}
	})
	for name, r := range map[string]*Route{"same": r, "restored": restored} {
		if got := route(r, det(60, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down")); got != fired {
			t.Errorf("%s: the resolution went under %q, its firing under %q", name, got, fired)
		}
		if got := route(r, det(120, schemas.StateFiring, "leaf1", mOper, "name=e1", "link_down")); got != "site\x00fra1" {
			t.Errorf("%s: the next firing went under %q, want the site's key", name, got)
		}
	}
	var keys []string
	r.Checkpoint(func(p int32, k, v []byte) { keys = append(keys, string(k)) })
	if len(keys) != 1 {
		t.Errorf("checkpoint after a resolution and a firing wrote %q, want one record (the alert's key)", keys)
	}
}
