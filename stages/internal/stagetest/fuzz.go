package stagetest

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// FleetTicks returns ticks of f, one message per tick (every device's
// samples), on partition 0. edit (nil: none) sees a copy of each sample
// with its tick's index first, may change it, and keeps it by returning
// true: the fleet reuses one sample, whose fields an edit of it would
// leave to the samples after it.
func FleetTicks(t testing.TB, f *sim.Fleet, ticks int, edit func(tick int, s *schemas.Sample) bool) []*kgo.Record {
	t.Helper()
	hs := kafka.RecordHeaders(schemas.SamplesHeaders())
	var recs []*kgo.Record
	for i := range ticks {
		b := schemas.NewSampleBuilder(memory.NewGoAllocator())
		f.Next(func(s *schemas.Sample) {
			c := *s
			if edit == nil || edit(i, &c) {
				b.Append(&c)
			}
		})
		rec := b.NewRecord()
		val, err := schemas.EncodeSamples(nil, rec)
		rec.Release()
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "samples", Value: val, Headers: hs})
	}
	return recs
}

// EditedTicks returns ticks of a fleet of cfg at its Start and Interval,
// one message per tick as FleetTicks gives them, each sample stamped with
// its tick's time, after edit (which reports whether it changed the
// sample) changed exactly want of them: a test of what a stage does with
// some values fails, rather than passes, when the fleet stops sending
// the samples it edits.
func EditedTicks(t testing.TB, cfg sim.Config, ticks, want int, edit func(tick int, s *schemas.Sample) bool) []*kgo.Record {
	t.Helper()
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	edited := 0
	recs := FleetTicks(t, fleet, ticks, func(i int, s *schemas.Sample) bool {
		s.TS = cfg.Start.Add(time.Duration(i) * cfg.Interval).UnixNano()
		if edit(i, s) {
			edited++
		}
		return true
	})
	if edited != want {
		t.Fatalf("edited %d samples, want %d: the fleet's samples changed", edited, want)
	}
	return recs
}

// FuzzRestore fuzzes the Restore of a stage made by newStage with
// arbitrary changelog records, seeded with those it checkpoints after
// processing warm: a record either is refused with an error (the runner
// then stops with one line naming the partition) or is restored, after
// which the stage processes next without an error and what it checkpoints
// restores into a new stage. A changelog record never panics the stage,
// and what it accepts it can carry on from.
func FuzzRestore(f *testing.F, newStage func(testing.TB) pipeline.Processor, warm, next []*kgo.Record) {
	p := newStage(f)
	for _, r := range warm {
		if err := p.Process(context.Background(), r, func(*kgo.Record) {}); err != nil {
			f.Fatal(err)
		}
	}
	seeds := 0
	p.Checkpoint(func(_ int32, k, v []byte) {
		f.Add(k, v)
		seeds++
	})
	if seeds == 0 {
		f.Fatal("the warm-up checkpointed nothing to seed from")
	}
	f.Fuzz(func(t *testing.T, key, value []byte) {
		p := newStage(t)
		if err := p.Restore(0, key, value); err != nil {
			return
		}
		for _, r := range next {
			if err := p.Process(context.Background(), r, func(*kgo.Record) {}); err != nil {
				t.Fatalf("after restoring %q: %v", key, err)
			}
		}
		again := newStage(t)
		p.Checkpoint(func(part int32, k, v []byte) {
			if err := again.Restore(part, k, v); err != nil {
				t.Fatalf("after restoring %q, the state it wrote does not restore: %q: %v", key, k, err)
			}
		})
	})
}
