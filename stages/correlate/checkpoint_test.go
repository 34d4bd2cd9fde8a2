package correlate

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// storm returns a correlate stage whose partition 0 holds an open device
// incident (8 ports down) on each of n devices, and a function that
// processes one more detection.
func storm(tb testing.TB, n int) (*Stage, func(*schemas.Detection) int) {
	c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	add := func(d *schemas.Detection) int { return process(tb, c, d) }
	for dev := range n {
		for p := range 8 {
			add(det(dev%50, schemas.StateFiring, fmt.Sprintf("leaf%04d", dev), mOper, fmt.Sprintf("name=Ethernet%d", p), "link_down"))
		}
	}
	return c, add
}

// TestCheckpointWritesWhatChanged: after a storm of 300 device incidents
// on one partition, the checkpoint writes one small record per incident
// and the counters; a detection joining one incident then checkpoints
// that incident alone. Before, every checkpoint wrote the partition's
// whole state as one record, which the broker's message size bounded.
func TestCheckpointWritesWhatChanged(t *testing.T) {
	c, add := storm(t, 300)
	n, largest := 0, 0
	c.Checkpoint(func(p int32, k, v []byte) { n++; largest = max(largest, len(v)) })
	if n != 301 || largest > 4096 {
		t.Errorf("the storm's checkpoint wrote %d records, the largest %d B; want 301 (300 incidents, the counters) of at most 4 KiB", n, largest)
	}
	add(det(60, schemas.StateFiring, "leaf0007", mOper, "name=Ethernet9", "link_down"))
	var keys []string
	c.Checkpoint(func(p int32, k, v []byte) { keys = append(keys, string(k)) })
	if len(keys) != 1 || keys[0] != "incident/8" {
		t.Errorf("a detection joining leaf0007's incident checkpointed %q, want [incident/8]", keys)
	}
}

// process runs detection d through c, as read from the detections topic,
// and returns its encoded size.
func process(tb testing.TB, c *Stage, d *schemas.Detection) int {
	tb.Helper()
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		tb.Fatal(err)
	}
	r := &kgo.Record{Value: v, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
	if err := c.Process(context.Background(), r, func(*kgo.Record) {}); err != nil {
		tb.Fatal(err)
	}
	return len(v)
}

// TestRestoreOtherVersion: a state record of a version this build does
// not read (one a newer build wrote, before a rollback) starts its
// incident, counters or partition cold, as the detect stage's series do,
// instead of stopping the stage at every restore; the records beside it
// still restore.
func TestRestoreOtherVersion(t *testing.T) {
	newStage := func() *Stage {
		c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := newStage()
	dets := linkDown()
	for _, d := range dets[:5] { // the link's incident (incident/1) and the temperature's (incident/2)
		process(t, c, d)
	}
	type rec struct{ key, value []byte }
	var log []rec
	c.Checkpoint(func(_ int32, k, v []byte) { log = append(log, rec{k, v}) })
	newer := func(v []byte) []byte {
		raw, err := decompress(v)
		if err != nil {
			t.Fatal(err)
		}
		raw[1] = 9
		return c.zip.compress(raw)
	}
	for _, r := range log {
		if string(r.key) == "incident/1" || string(r.key) == incidents.MetaKey {
			r.value = newer(r.value)
		}
		log = append(log, r)
	}
	log = log[len(log)/2:]
	whole, _ := c.parts[0].e.MarshalBinary()
	whole[1] = 9
	log = append([]rec{{[]byte(engineKey), c.zip.compress(whole)}}, log...)

	again := newStage()
	for _, r := range log {
		if err := again.Restore(0, r.key, r.value); err != nil {
			t.Fatalf("%s: %v", r.key, err)
		}
	}
	if open := again.parts[0].e.Open(); len(open) != 1 || open[0].Rule != schemas.RuleHardware {
		t.Errorf("restored %d incidents, want the temperature's alone", len(open))
	}
	for _, d := range dets[5:] {
		process(t, again, d)
	}
}

// TestOpenedAcrossRestore: another partition's restore inside the open
// transaction (the runner drops a partition before restoring it) does
// not forget the incidents this partition opened in that transaction.
func TestOpenedAcrossRestore(t *testing.T) {
	c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	process(t, c, linkDown()[0]) // opens the link's incident on partition 0
	c.Drop(1)
	if err := c.Restore(1, []byte(incidents.MetaKey), nil); err != nil {
		t.Fatal(err)
	}
	c.Committed(1)
	if n := c.Opened(); n != 1 {
		t.Errorf("Opened() = %d after the commit, want 1", n)
	}
}

// TestOpenedOneSeriesTwoAlerts: two alerts of one series at one sample
// (the ensemble's and a rule's, whose fingerprints differ: see
// incidents.TestOneSeriesTwoAlerts) are one incident, opened once. The
// second joins it, and the id it would have opened is the incident's (the
// id is the series and the event time); before, Process took that for an
// incident opened, and Opened (the run summary's incident count) counted
// it twice.
func TestOpenedOneSeriesTwoAlerts(t *testing.T) {
	c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ens := det(0, schemas.StateFiring, "leaf1", mTemp, "name=CPU0", "robust_z")
	rule := det(0, schemas.StateFiring, "leaf1", mTemp, "name=CPU0", "drift")
	rule.Labels["rule"] = "drift"
	rule.Fingerprint, rule.ID = schemas.Fingerprint(rule.Labels), rule.ID+"/drift"
	process(t, c, ens)
	process(t, c, rule)
	c.Committed(2)
	if held := c.parts[0].e.Open(); len(held) != 1 {
		t.Fatalf("%d incidents held, want 1", len(held))
	}
	if n := c.Opened(); n != 1 {
		t.Errorf("Opened() = %d for one incident, want 1", n)
	}
}

// TestDroppedResolutionCounted: the resolution of an alert no incident
// holds (its firing came before the stage's state, or went to another
// input partition, as after an inventory change re-keys its device) changes
// nothing, and is counted by reason and logged once. Before, only the
// engine's state kept the count: nothing showed it.
func TestDroppedResolutionCounted(t *testing.T) {
	var logged bytes.Buffer
	c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	process(t, c, det(0, schemas.StateFiring, "spine1", mOper, "name=e3", "link_down"))
	process(t, c, det(60, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down"))
	process(t, c, det(60, schemas.StateResolved, "leaf1", mTemp, "name=Inlet", "robust_z"))
	if n := testutil.ToFloat64(c.updates.dropped.WithLabelValues(ReasonUnknownAlert)); n != 1 {
		t.Errorf("dropped %v, want 1 (the temperature's resolution)", n)
	}
	if n := strings.Count(logged.String(), "skipped the resolution"); n != 1 || !strings.Contains(logged.String(), "device=leaf1") {
		t.Errorf("logged %d lines about it, want 1 naming leaf1:\n%s", n, logged.String())
	}
}
