package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// SamplesStage feeds the samples table from a Kafka topic of samples
// (Arrow IPC messages): it is the pipeline.Sink a pipeline.Runner drives.
// Add decodes a message and keeps its record; Flush inserts every record
// kept since the last successful Flush as one INSERT (InsertSamples) and
// only then releases them, so the runner commits offsets only after the
// rows are stored. A failed Flush keeps the records: the runner retries it
// with backoff and polls nothing meanwhile, so during a ClickHouse outage
// memory holds at most one flush's worth of rows (RunnerConfig.FlushRows
// plus one poll) and consumption pauses until the server is back.
//
// Errors the same call cannot fix by being repeated (a schema mismatch, bad
// credentials, a closed sink; see IsRetryable) wrap pipeline.ErrStop, so
// the runner stops instead of retrying for ever. Re-delivered messages are
// harmless: the table deduplicates on its sort key (see the package doc).
// A partition the runner gives up with its records not written is dropped
// from the stage (DropPartition), so its next owner alone writes them.
//
// A SamplesStage is used by one runner; its methods are safe for concurrent
// use.
type SamplesStage struct {
	// SampleDecoder decodes the messages and counts the rows of good
	// messages it drops (a time outside the sample window, a string that
	// is not UTF-8); the runner exports the counts.
	pipeline.SampleDecoder
	s *Sink

	mu   sync.Mutex
	recs []arrow.RecordBatch
	from []inputPartition // the partition each of recs came from
	rows int
}

// inputPartition names the Kafka partition a kept record or row came
// from, for DropPartition.
type inputPartition struct {
	topic     string
	partition int32
}

var (
	_ pipeline.Sink             = (*SamplesStage)(nil)
	_ pipeline.PartitionDropper = (*SamplesStage)(nil)
)

// NewSamplesStage returns a stage sink that writes to s. mem allocates the
// decoded records; nil means memory.DefaultAllocator. The caller keeps
// ownership of s (close it after the runner has returned).
func NewSamplesStage(s *Sink, mem memory.Allocator) *SamplesStage {
	return &SamplesStage{s: s, SampleDecoder: pipeline.SampleDecoder{Mem: mem}}
}

// Add decodes one samples message. Input that breaks the contract returns
// an error wrapping schemas.ErrMalformed, ErrUnknownVersion or
// ErrContentType, which the runner dead-letters, so one bad message cannot
// stop the stage. Single rows no stage keeps (schemas.CleanSamples: a time
// outside [schemas.MinSampleTime, schemas.MaxSampleTime), which every
// layout can store, or a string that is not UTF-8) are dropped and counted;
// the rest of the message is kept, the same rows as the Parquet stage keeps.
func (st *SamplesStage) Add(_ context.Context, r *kgo.Record) error {
	rec, err := st.DecodeSamples(r)
	if err != nil {
		return err
	}
	// Rows the table cannot hold would fail the whole insert: dead-letter
	// their message instead.
	one := []arrow.RecordBatch{rec}
	err = func() error {
		if _, err := checkSamples(one); err != nil {
			return err
		}
		if l, ok := st.s.knownLayout(schemas.TableSamples); ok && l == schemas.LayoutLegacy {
			return checkLegacyRange(one)
		}
		return nil
	}()
	if err != nil {
		rec.Release()
		return fmt.Errorf("%w: %w", schemas.ErrMalformed, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.recs = append(st.recs, rec)
	st.from = append(st.from, inputPartition{r.Topic, r.Partition})
	st.rows += int(rec.NumRows())
	return nil
}

// Flush inserts the kept records and returns the number of rows written.
// On error it keeps them for the next Flush.
func (st *SamplesStage) Flush(ctx context.Context) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.recs) == 0 {
		return 0, nil
	}
	n, err := st.s.InsertSamples(ctx, st.recs)
	if err != nil {
		return 0, stageError(err)
	}
	for i, r := range st.recs {
		r.Release()
		st.recs[i] = nil
	}
	st.recs, st.from, st.rows = st.recs[:0], st.from[:0], 0
	return n, nil
}

// DropPartition releases the records kept from topic's partition
// (pipeline.PartitionDropper). The runner calls it when it gives the
// partition up with them not written (its flush on revocation failed, or
// the group took the partition away while a failed flush was retried):
// the partition's next owner reads them again from the committed offset
// and writes them. Kept, they would be written a second time once the
// server is back, or twice in one INSERT if the partition came back to
// this member, which reads it again too: rows that only FINAL hides, that
// no block deduplication catches, and that count twice in the rollups'
// avg and quantiles for good.
func (st *SamplesStage) DropPartition(topic string, partition int32) {
	from := inputPartition{topic, partition}
	st.mu.Lock()
	defer st.mu.Unlock()
	recs, keep := st.recs[:0], st.from[:0]
	for i, r := range st.recs {
		if st.from[i] == from {
			st.rows -= int(r.NumRows())
			r.Release()
			continue
		}
		recs, keep = append(recs, r), append(keep, st.from[i])
	}
	clear(st.recs[len(recs):])
	st.recs, st.from = recs, keep
}

// Pending returns the number of rows kept and not yet inserted.
func (st *SamplesStage) Pending() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.rows
}

// Close releases the records still kept (after the runner has returned;
// they were not committed and will be re-read).
func (st *SamplesStage) Close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range st.recs {
		r.Release()
	}
	st.recs, st.from, st.rows = nil, nil, 0
}

// stageError makes an error that repeating the insert cannot fix stop the
// runner. A cancelled context is left alone: the runner is shutting down.
func stageError(err error) error {
	if IsRetryable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", pipeline.ErrStop, err)
}

// rowStage is the pipeline.Sink of a table fed by decoded rows: Add
// decodes a record and checks its rows against the table's layout (when it
// is known), Flush inserts every row kept since the last successful Flush
// and keeps them on error. Its methods are safe for concurrent use.
type rowStage[T any] struct {
	s     *Sink
	table string
	// decode turns one record into rows; bad input returns an error the
	// runner dead-letters.
	decode func(*kgo.Record) ([]T, error)
	// check reports rows the table in layout l cannot hold.
	check func(rows []T, l schemas.Layout) error
	// insert writes rows as one INSERT.
	insert func(ctx context.Context, rows []T) (int, error)

	mu   sync.Mutex
	rows []T
	from []inputPartition // the partition each of rows came from
}

// Add decodes one message; bad input is dead-lettered by the runner.
func (st *rowStage[T]) Add(_ context.Context, r *kgo.Record) error {
	rows, err := st.decode(r)
	if err != nil {
		return err
	}
	if l, ok := st.s.knownLayout(st.table); ok {
		if err := st.check(rows, l); err != nil {
			return fmt.Errorf("%w: %w", schemas.ErrMalformed, err)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.rows = append(st.rows, rows...)
	for range rows {
		st.from = append(st.from, inputPartition{r.Topic, r.Partition})
	}
	return nil
}

// Flush inserts the kept rows; on error it keeps them.
func (st *rowStage[T]) Flush(ctx context.Context) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.rows) == 0 {
		return 0, nil
	}
	n, err := st.insert(ctx, st.rows)
	if err != nil {
		return 0, stageError(err)
	}
	clear(st.rows)
	st.rows, st.from = st.rows[:0], st.from[:0]
	return n, nil
}

// DropPartition forgets the rows kept from topic's partition
// (pipeline.PartitionDropper), as SamplesStage.DropPartition does: their
// next owner writes them.
func (st *rowStage[T]) DropPartition(topic string, partition int32) {
	from := inputPartition{topic, partition}
	st.mu.Lock()
	defer st.mu.Unlock()
	rows, keep := st.rows[:0], st.from[:0]
	for i := range st.rows {
		if st.from[i] != from {
			rows, keep = append(rows, st.rows[i]), append(keep, st.from[i])
		}
	}
	clear(st.rows[len(rows):])
	st.rows, st.from = rows, keep
}

// Pending returns the number of rows kept and not yet inserted.
func (st *rowStage[T]) Pending() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.rows)
}

// one wraps a decoder of one value per record as a decoder of rows.
func one[T any](decode func([]schemas.Header, []byte) (*T, error)) func(*kgo.Record) ([]T, error) {
	return func(r *kgo.Record) ([]T, error) {
		v, err := decode(kafka.Headers(r), r.Value)
		if err != nil {
			return nil, err
		}
		return []T{*v}, nil
	}
}

// DetectionsStage feeds the detections table from the detection topic (v1
// JSON in the CloudEvents binding), like SamplesStage does for samples.
type DetectionsStage struct{ rowStage[schemas.Detection] }

// PowerStage feeds the power table from the power topic (tk.power, Arrow
// IPC messages of the power contract), like SamplesStage does for samples.
type PowerStage struct{ rowStage[schemas.PowerRow] }

// MaintenanceStage feeds the maintenance table from the maintenance topic
// (tk.maintenance, v1 JSON in the CloudEvents binding).
type MaintenanceStage struct {
	rowStage[schemas.MaintenanceEvent]
}

var (
	_ pipeline.Sink             = (*DetectionsStage)(nil)
	_ pipeline.Sink             = (*PowerStage)(nil)
	_ pipeline.Sink             = (*MaintenanceStage)(nil)
	_ pipeline.PartitionDropper = (*DetectionsStage)(nil)
	_ pipeline.PartitionDropper = (*PowerStage)(nil)
	_ pipeline.PartitionDropper = (*MaintenanceStage)(nil)
)

// NewDetectionsStage returns a stage sink that writes detections to s.
func NewDetectionsStage(s *Sink) *DetectionsStage {
	return &DetectionsStage{rowStage[schemas.Detection]{s: s, table: schemas.TableDetections,
		decode: one(schemas.DecodeDetection),
		check:  func(ds []schemas.Detection, l schemas.Layout) error { _, err := detectionColumns(ds, l); return err },
		insert: s.InsertDetections}}
}

// NewPowerStage returns a stage sink that writes power rows to s.
func NewPowerStage(s *Sink) *PowerStage {
	return &PowerStage{rowStage[schemas.PowerRow]{s: s, table: schemas.TablePower,
		decode: func(r *kgo.Record) ([]schemas.PowerRow, error) {
			return schemas.DecodePower(kafka.Headers(r), r.Value)
		},
		check:  func(rows []schemas.PowerRow, l schemas.Layout) error { _, err := powerCols(rows, l); return err },
		insert: s.InsertPower}}
}

// NewMaintenanceStage returns a stage sink that writes maintenance events
// to s.
func NewMaintenanceStage(s *Sink) *MaintenanceStage {
	return &MaintenanceStage{rowStage[schemas.MaintenanceEvent]{s: s, table: schemas.TableMaintenance,
		decode: one(schemas.DecodeMaintenance),
		check: func(evs []schemas.MaintenanceEvent, l schemas.Layout) error {
			_, err := maintenanceCols(evs, l)
			return err
		},
		insert: s.InsertMaintenance}}
}
