package correlate

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// FuzzCorrelate feeds the stage a stream of detections, one JSON value per
// line, seeded with a link going down and back (linkDown). A line the
// detection decoder refuses is a dead letter; every detection it accepts
// must be correlated without an error (an error would stop the stage), and
// the state the stage then writes must restore into a new stage that
// correlates the last detection again without an error.
func FuzzCorrelate(f *testing.F) {
	var seed bytes.Buffer
	for _, d := range linkDown() {
		b, err := schemas.MarshalDetection(d)
		if err != nil {
			f.Fatal(err)
		}
		seed.Write(b)
		seed.WriteByte('\n')
	}
	f.Add(seed.Bytes())
	inv := inventory.Fixed(testInventory())
	newStage := func(t *testing.T) *Stage {
		c, err := New(Config{Topic: "incidents", Input: "input"}, inv, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		c := newStage(t)
		var last *kgo.Record
		for _, line := range bytes.Split(stream, []byte{'\n'}) {
			d, err := schemas.DecodeDetection(nil, line)
			if err != nil {
				continue // a dead letter
			}
			rec := &kgo.Record{Value: line, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "fuzz"))}
			if err := c.Process(context.Background(), rec, func(*kgo.Record) {}); err != nil {
				t.Fatalf("detection %s: %v", line, err)
			}
			last = rec
		}
		again := newStage(t)
		c.Checkpoint(func(p int32, k, v []byte) {
			if err := again.Restore(p, k, v); err != nil {
				t.Fatalf("the state it wrote does not restore: %s: %v", k, err)
			}
		})
		if last != nil {
			if err := again.Process(context.Background(), last, func(*kgo.Record) {}); err != nil {
				t.Fatalf("restored: %v", err)
			}
		}
	})
}
