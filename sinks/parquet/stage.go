package parquet

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
)

// Stage feeds a Writer from a Kafka topic of samples (Arrow IPC messages):
// it is the pipeline.Sink a pipeline.Runner drives. Add decodes a message
// and buffers its rows; Flush writes the files and returns only when they
// are durable, so the runner commits offsets after the files exist. A failed
// Flush keeps the rows and the runner retries it with backoff, polling
// nothing meanwhile, so a slow or full disk pauses consumption.
//
// When the runner gives a partition up with its rows buffered and not
// written (the flush on its revocation failed, or the group took it away),
// DropPartition drops them: the next owner writes them, and a later file of
// them from this member would replace that owner's committed files. When a
// partition is read again from an earlier offset all the same, Add drops
// the partition's buffered rows of that offset and after, which are being
// re-read (Writer.DiscardFrom), instead of failing with ErrOffsetOrder.
//
// The Writer's methods are safe for concurrent use, and so are Stage's.
type Stage struct {
	// SampleDecoder decodes the messages and counts the rows of good
	// messages it drops (a time outside the sample window, a string that
	// is not UTF-8); the runner exports the counts.
	pipeline.SampleDecoder
	w *Writer
}

var (
	_ pipeline.Sink             = (*Stage)(nil)
	_ pipeline.PartitionDropper = (*Stage)(nil)
)

// NewStage returns a stage sink that writes with w. mem allocates the
// decoded records, which are released before Add returns; nil means
// memory.DefaultAllocator.
func NewStage(w *Writer, mem memory.Allocator) *Stage {
	return &Stage{w: w, SampleDecoder: pipeline.SampleDecoder{Mem: mem}}
}

// Add decodes one samples message and buffers its rows. Input that breaks
// the contract returns an error wrapping schemas.ErrMalformed,
// ErrUnknownVersion or ErrContentType, which the runner dead-letters. Single
// rows no stage keeps (schemas.CleanSamples) are dropped and counted; the
// rest of the message is kept, the same rows as the other stages keep.
func (s *Stage) Add(_ context.Context, r *kgo.Record) error {
	rec, err := s.DecodeSamples(r)
	if err != nil {
		return err
	}
	defer rec.Release()
	err = s.w.AddTimed(r.Topic, r.Partition, r.Offset, r.Timestamp, rec)
	if errors.Is(err, ErrOffsetOrder) {
		s.w.DiscardFrom(r.Topic, r.Partition, r.Offset)
		err = s.w.AddTimed(r.Topic, r.Partition, r.Offset, r.Timestamp, rec)
	}
	return err
}

// Flush writes every buffered row and returns the number of rows written.
func (s *Stage) Flush(ctx context.Context) (int, error) {
	files, err := s.w.Flush(ctx)
	n := 0
	for _, f := range files {
		n += int(f.Rows)
	}
	return n, err
}

// Pending returns the number of rows buffered and not yet written.
func (s *Stage) Pending() int { return s.w.BufferedRows() }

// DropPartition drops the rows buffered for topic's partition, which the
// runner gave up without writing them (pipeline.PartitionDropper).
func (s *Stage) DropPartition(topic string, partition int32) { s.w.Discard(topic, partition) }
