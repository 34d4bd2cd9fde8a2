package pipeline

import (
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// RowDropper is implemented by a Sink or Processor that drops single rows of
// a message (schemas.CleanSamples) instead of dead-lettering the whole
// message. The runners export its counts as
// telekernel_stage_rows_dropped_total{stage,reason} and in Stats.
type RowDropper interface {
	// DroppedRows returns the rows dropped so far, by reason. Safe for
	// concurrent use.
	DroppedRows() schemas.RowDrops
}

// RowDropCounter counts the rows a stage dropped, by reason. The zero value
// is ready; it is safe for concurrent use. Embed it to implement
// RowDropper.
type RowDropCounter struct {
	badTimestamp, invalidUTF8, badName atomic.Int64
}

// DroppedRows implements RowDropper.
func (c *RowDropCounter) DroppedRows() schemas.RowDrops {
	return schemas.RowDrops{BadTimestamp: c.badTimestamp.Load(), InvalidUTF8: c.invalidUTF8.Load(), BadName: c.badName.Load()}
}

func (c *RowDropCounter) add(d schemas.RowDrops) {
	c.badTimestamp.Add(d.BadTimestamp)
	c.invalidUTF8.Add(d.InvalidUTF8)
	c.badName.Add(d.BadName)
}

// SampleDecoder decodes the samples messages of one stage with one
// allocator and counts the rows it drops. Embed it in a Sink or Processor
// that reads samples: it implements RowDropper. The zero value is ready and
// allocates with memory.DefaultAllocator; its methods are safe for
// concurrent use when Mem is.
type SampleDecoder struct {
	RowDropCounter
	// Mem allocates the decoded records; nil means memory.DefaultAllocator.
	Mem memory.Allocator
}

// DecodeSamples decodes one samples message as the package's DecodeSamples
// does, counting the dropped rows in d. The caller releases the record.
func (d *SampleDecoder) DecodeSamples(r *kgo.Record) (arrow.RecordBatch, error) {
	return DecodeSamples(d.alloc(), r, &d.RowDropCounter)
}

// ReadSamples decodes one samples message as the package's ReadSamples
// does, counting the dropped rows in d. The caller calls the returned
// function once done with the reader.
func (d *SampleDecoder) ReadSamples(r *kgo.Record) (*schemas.SampleReader, func(), error) {
	return ReadSamples(d.alloc(), r, &d.RowDropCounter)
}

func (d *SampleDecoder) alloc() memory.Allocator {
	if d.Mem == nil {
		return memory.DefaultAllocator
	}
	return d.Mem
}

// DecodeSamples decodes a samples message (schemas.DecodeSamples) and drops
// the rows no stage keeps (schemas.CleanSamples: a time outside the sample
// window, a string that is not UTF-8, an empty device or metric), counting
// them in c. Every stage that reads samples decodes with it, so they all
// keep the same rows. Errors are those of schemas.DecodeSamples: the whole
// message is bad and is dead-lettered. The caller releases the record.
func DecodeSamples(mem memory.Allocator, r *kgo.Record, c *RowDropCounter) (arrow.RecordBatch, error) {
	rec, err := schemas.DecodeSamples(mem, kafka.Headers(r), r.Value)
	if err != nil {
		return nil, err
	}
	clean, drops := schemas.CleanSamples(mem, rec)
	rec.Release()
	if drops.Total() > 0 {
		c.add(drops)
	}
	return clean, nil
}

// dropExporter turns a RowDropper's running counts into metric increments.
type dropExporter struct {
	src  RowDropper // nil when the stage drops no rows
	last schemas.RowDrops
}

func newDropExporter(v any) dropExporter {
	d, _ := v.(RowDropper)
	return dropExporter{src: d}
}

// since returns the rows dropped since the last call.
func (e *dropExporter) since() schemas.RowDrops {
	if e.src == nil {
		return schemas.RowDrops{}
	}
	now := e.src.DroppedRows()
	d := now.Sub(e.last)
	e.last = now
	return d
}

// skip runs f and leaves the rows it dropped out of the next since.
func (e *dropExporter) skip(f func()) {
	if e.src == nil {
		f()
		return
	}
	before := e.src.DroppedRows()
	f()
	after := e.src.DroppedRows()
	e.last = e.last.Add(after.Sub(before))
}

// count adds d to the stage's metric and total.
func (m *Metrics) countDrops(stage string, d schemas.RowDrops, total *atomic.Int64) {
	d.Each(func(reason string, n int64) {
		if n > 0 {
			m.droppedRows.WithLabelValues(stage, reason).Add(float64(n))
		}
	})
	total.Add(d.Total())
}

// ReadSamples decodes a samples message as DecodeSamples does and returns a
// reader over its rows with the function that releases the record; the
// caller calls it once done with the reader.
func ReadSamples(mem memory.Allocator, r *kgo.Record, c *RowDropCounter) (*schemas.SampleReader, func(), error) {
	rec, err := DecodeSamples(mem, r, c)
	if err != nil {
		return nil, nil, err
	}
	sr, err := schemas.NewSampleReader(rec)
	if err != nil {
		rec.Release()
		return nil, nil, err
	}
	return sr, rec.Release, nil
}
