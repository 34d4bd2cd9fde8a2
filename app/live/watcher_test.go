package live

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestWatcherAdd checks that a record of each output topic reaches the
// State, that one that does not decode is counted as an error and
// nothing else, and that an incident tombstone is neither.
func TestWatcherAdd(t *testing.T) {
	cfg := Config{Detections: "det", Maintenance: "mnt", Power: "pwr", Incidents: "inc"}
	w := &Watcher{cfg: cfg, state: NewState(), next: map[string]map[int32]int64{}}
	for _, topic := range []string{"det", "mnt", "pwr", "inc"} {
		w.next[topic] = map[int32]int64{}
		w.add(&kgo.Record{Topic: topic, Value: []byte("not a message")})
	}
	w.add(&kgo.Record{Topic: "inc"}) // a tombstone
	if snap := w.state.Snapshot(); snap.Errors != 4 || snap.Counts.Detections != 0 {
		t.Fatalf("after 4 bad records and a tombstone: %d errors, counts %+v", snap.Errors, snap.Counts)
	}
	d := detection(schemas.StateFiring, "robust_z", "sim-03", "name=Ethernet3", t0)
	d.ID, d.DetectedAt, d.Version, d.Severity = "id-1", t0, schemas.DetectionVersion, schemas.SeverityWarning
	d.Labels = schemas.AlertLabels(d.Device, d.Metric, d.Keys)
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: "det", Value: v, Offset: 7}
	for _, h := range schemas.DetectionHeaders(d, "test") {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	w.add(r)
	if snap := w.state.Snapshot(); snap.Errors != 4 || snap.Counts.Detections != 1 || len(snap.Alerts) != 1 {
		t.Fatalf("after a detection: %d errors, counts %+v, alerts %+v", snap.Errors, snap.Counts, snap.Alerts)
	}
	if w.next["det"][0] != 8 {
		t.Errorf("next offset %d, want 8", w.next["det"][0])
	}
}
