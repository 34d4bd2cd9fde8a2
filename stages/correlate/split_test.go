package correlate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// logRec is a changelog record as Checkpoint emitted it.
type logRec struct{ key, value []byte }

// flapping returns a correlate stage whose partition 0 holds one incident
// of n members (a link firing and resolving, from second from on, never
// quiet long enough to close), and a function that adds one more.
func flapping(t *testing.T, n int) (*Stage, func(i int)) {
	t.Helper()
	c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	state := []string{schemas.StateFiring, schemas.StateResolved}
	add := func(i int) { process(t, c, det(i*10, state[i%2], "leaf1", mOper, "name=e1", "link_down")) }
	for i := range n {
		add(i)
	}
	return c, add
}

// restored returns a new stage restored from log, or the first error.
func restored(log []logRec) (*Stage, error) {
	c, _ := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	for _, r := range log {
		if err := c.Restore(0, r.key, r.value); err != nil {
			return c, err
		}
	}
	return c, nil
}

// sameState fails t unless c2's partition 0 holds c's engine state.
func sameState(t *testing.T, what string, c, c2 *Stage) {
	t.Helper()
	a, _ := c.parts[0].e.MarshalBinary()
	b, _ := c2.parts[0].e.MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Errorf("%s: restored state differs (%d against %d bytes)", what, len(b), len(a))
	}
}

// compacted keeps the latest record of each key, in log order, without
// tombstones: the changelog after the broker compacted all of it.
func compacted(log []logRec) []logRec {
	last := map[string]int{}
	for i, r := range log {
		last[string(r.key)] = i
	}
	var out []logRec
	for i, r := range log {
		if last[string(r.key)] == i && r.value != nil {
			out = append(out, r)
		}
	}
	return out
}

// TestStateInParts: an incident whose gzipped state is larger than
// partMax is written in parts no larger than partMax (plus the head's few
// bytes), which restore joins into the same state; the next checkpoint
// writes a new generation and then deletes the parts of the one before,
// so the changelog, whole or compacted, restores the latest state.
func TestStateInParts(t *testing.T) {
	// A head (part 0, the magic, two varints) fits franz-go's default
	// batch, 1 000 012 bytes, which the broker's default 1 MB
	// message.max.bytes takes.
	if head := partMax + len(splitMagic) + 2*binary.MaxVarintLen64; head > 1_000_000 {
		t.Errorf("a head of up to %d bytes does not fit a default producer batch", head)
	}
	defer func(n int) { partMax = n }(partMax)
	partMax = 1 << 10
	c, add := flapping(t, 400)
	var log []logRec
	checkpoint := func() (keys []string) {
		c.Checkpoint(func(_ int32, k, v []byte) {
			log = append(log, logRec{k, v})
			keys = append(keys, fmt.Sprintf("%s %t", k, v != nil))
			if len(v) > partMax+len(splitMagic)+20 {
				t.Errorf("record %s holds %d bytes, above the part size %d", k, len(v), partMax)
			}
		})
		return keys
	}
	first := checkpoint()
	s := c.parts[0].split["incident/1"]
	if s.gen != 1 || s.parts < 3 || len(first) != s.parts+1 || first[s.parts-1] != "incident/1 true" {
		t.Fatalf("first checkpoint wrote %q (%+v); want the parts of generation 1, the head, the counters", first, s)
	}
	c2, err := restored(log)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "first checkpoint", c, c2)

	add(400)
	second := checkpoint()
	n := c.parts[0].split["incident/1"].parts
	head := strings.Index(strings.Join(second, "|"), "incident/1 true")
	old := strings.Index(strings.Join(second, "|"), "incident/1/part/1/1 false")
	if len(second) < n+s.parts-1 || head < 0 || old < head {
		t.Errorf("second checkpoint wrote %q; want generation 2's parts and head, then generation 1's parts deleted", second)
	}
	for what, l := range map[string][]logRec{"whole changelog": log, "compacted changelog": compacted(log)} {
		c3, err := restored(l)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sameState(t, what, c, c3)
		// The restored stage knows the generation it writes next.
		if got, want := c3.parts[0].split["incident/1"], c.parts[0].split["incident/1"]; got != want {
			t.Errorf("%s: restored split %+v, want %+v", what, got, want)
		}
	}

	// A head whose parts are not before it, and no later record of its
	// key, stops the stage when it processes the partition, naming them.
	var heads []logRec
	for _, r := range log {
		if !strings.Contains(string(r.key), partInfix) {
			heads = append(heads, r)
		}
	}
	c4, err := restored(heads)
	if err != nil {
		t.Fatal(err)
	}
	if err := c4.parts[0].checkRestored(); !errors.Is(err, pipeline.ErrStop) || !strings.Contains(err.Error(), "incident/1: part 1 of") {
		t.Errorf("heads without their parts: %v", err)
	}

	// Forgetting the incident deletes its head, then its parts.
	var gone []string
	p := c.parts[0]
	g := p.split["incident/1"]
	p.emitState(0, "incident/1", nil, func(_ int32, k, v []byte) { gone = append(gone, fmt.Sprintf("%s %t", k, v != nil)) })
	want := []string{"incident/1 false"}
	for i := 1; i < g.parts; i++ {
		want = append(want, fmt.Sprintf("%s false", partKey("incident/1", g.gen, i)))
	}
	if !slices.Equal(gone, want) || len(p.split) != 0 {
		t.Errorf("forgetting a split state wrote %q, want %q", gone, want)
	}
}

// TestStateInPartsMidClean: a restore that reads the changelog while the
// broker's cleaner is part way (the first group of segments cleaned up to
// the deletion of generation 2's parts, the group holding generation 2's
// head not yet) meets that head without its parts; the later head of the
// key replaces it, so the state is restored and the stage goes on, with
// no part left in memory.
func TestStateInPartsMidClean(t *testing.T) {
	defer func(n int) { partMax = n }(partMax)
	partMax = 1 << 10
	c, add := flapping(t, 400)
	var log []logRec
	checkpoint := func() { c.Checkpoint(func(_ int32, k, v []byte) { log = append(log, logRec{k, v}) }) }
	checkpoint()
	add(400)
	checkpoint()
	add(401)
	checkpoint()
	// Cleaned: every record before generation 2's head whose key has a
	// later record up to generation 2's parts' deletion (generation 1's
	// parts and head, generation 2's parts).
	var mid []logRec
	heads := 0
	for _, r := range log {
		if string(r.key) == "incident/1" {
			heads++
		}
		if heads < 2 && r.value != nil && string(r.key) != incidents.MetaKey {
			continue
		}
		mid = append(mid, r)
	}
	c2, err := restored(mid)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.parts[0].checkRestored(); err != nil {
		t.Fatal(err)
	}
	sameState(t, "mid-clean changelog", c, c2)
	if p := c2.parts[0]; len(p.pending) != 0 || len(p.incomplete) != 0 {
		t.Errorf("after restore: %d parts and %d incomplete heads kept", len(p.pending), len(p.incomplete))
	}
}

// TestStateInPartsKafka runs the stage on the real broker with parts of 1
// KiB over an incident of 300 members (about 2 KiB gzipped): its
// transactions take the parts, and a new owner restores the same state
// from the changelog.
func TestStateInPartsKafka(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	defer func(n int) { partMax = n }(partMax)
	partMax = 1 << 10
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	id := fmt.Sprintf("split-%d", time.Now().UnixNano())
	input, group := id+".input", id
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, input, id+".incidents", "dlq"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = adm.DeleteTopics(context.Background(), input, id+".incidents", group+"-changelog") }()
	state := []string{schemas.StateFiring, schemas.StateResolved}
	var dets []*schemas.Detection
	for i := range 300 {
		dets = append(dets, det(i*10, state[i%2], "leaf1", mOper, "name=e1", "link_down"))
	}
	produceDetections(t, ctx, cl, input, dets)
	cfg := Config{Topic: id + ".incidents", Input: input}
	c, _ := New(cfg, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	runToEnd(t, ctx, kc, cl, group, input, c)
	if c.parts[0].split["incident/1"].parts < 2 {
		t.Fatalf("the incident's state was not written in parts: %+v", c.parts[0].split)
	}
	c2, _ := New(cfg, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	parts := 0
	err = kafka.ReadAll(ctx, kc, group+"-changelog", func(r *kgo.Record) {
		if strings.Contains(string(r.Key), partInfix) {
			parts++
		}
		if err := c2.Restore(r.Partition, r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if parts == 0 {
		t.Fatal("no part records in the changelog")
	}
	sameState(t, "from Kafka", c, c2)
}
