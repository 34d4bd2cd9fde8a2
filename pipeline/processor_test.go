package pipeline

import (
	"context"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// seriesProc is the runtime tests' Processor: it decodes samples as every
// stage does (ReadSamples) and counts the distinct series it saw. It keeps
// no changelog state and emits nothing.
type seriesProc struct {
	RowDropCounter
	seen map[schemas.SeriesKey]bool
	n    atomic.Int64
}

var _ Processor = (*seriesProc)(nil)

func newSeriesProc() *seriesProc { return &seriesProc{seen: map[schemas.SeriesKey]bool{}} }

func (p *seriesProc) Process(_ context.Context, r *kgo.Record, _ func(*kgo.Record)) error {
	sr, release, err := ReadSamples(memory.NewGoAllocator(), r, &p.RowDropCounter)
	if err != nil {
		return err
	}
	defer release()
	for i := 0; i < sr.Len(); i++ {
		k := schemas.SeriesKey{Device: sr.Device(i), Metric: sr.Metric(i), Keys: sr.Keys(i)}
		if !p.seen[k] {
			p.seen[k] = true
			p.n.Add(1)
		}
	}
	return nil
}

func (p *seriesProc) Checkpoint(func(partition int32, key, value []byte)) {}
func (p *seriesProc) Restore(int32, []byte, []byte) error                 { return nil }
func (p *seriesProc) Drop(int32)                                          {}
func (p *seriesProc) Committed(int)                                       {}

// Series returns the distinct series seen.
func (p *seriesProc) Series() int { return int(p.n.Load()) }
