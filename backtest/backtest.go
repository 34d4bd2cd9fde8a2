package backtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// Source yields recorded samples in event time.
type Source interface {
	// Next returns the next batch: samples of one device, in timestamp
	// order within each series, every series in timestamp order across
	// batches. It returns io.EOF after the last batch. The slice belongs to
	// the source and is valid until the next call.
	Next(ctx context.Context) ([]schemas.Sample, error)
	// Close releases the source's files.
	Close() error
}

// SkipCounter is an optional ability of a Source: it counts the cells of
// its data that it skipped as holding no value (a wide CSV's nan, NA,
// null…, infinities). Run copies the count to Stats.Skipped.
type SkipCounter interface {
	// Skipped returns the cells skipped so far.
	Skipped() int64
}

// Span is the event-time range of one device's samples, Unix nanoseconds,
// and the number of times its timestamp advanced (Steps).
type Span struct {
	First, Last int64
	Steps       int64
}

// Hours returns the span's length in hours.
func (s Span) Hours() float64 { return float64(s.Last-s.First) / float64(time.Hour) }

// Stats describes a replay.
type Stats struct {
	Points int64 // samples replayed
	// Skipped counts the cells of the data that the source skipped as
	// missing values (a SkipCounter: a wide CSV's nan, NA, N/A, null,
	// None, - and infinities); empty cells are not counted.
	Skipped int64
	// Dropped counts the samples of Points the detect stage dropped on
	// their own (schemas.CleanSamples: a bad time, invalid UTF-8, a bad
	// name), as every stage reading them would.
	Dropped    schemas.RowDrops
	Batches    int64         // Arrow batches handed to the detect stage
	Detections int           // detections emitted (firing and resolved)
	Firing     int           // firing detections
	Elapsed    time.Duration // wall time of the replay
	// Devices is, per device, the event-time range of its samples. In
	// the Stats given to a progress function it is Run's own map: read it
	// there, do not keep it.
	Devices map[string]Span
	// StateSeries are the series that carried state samples (oper-status
	// and the like): detections on them are state-based.
	StateSeries map[schemas.SeriesKey]bool
}

// Option configures Run.
type Option func(*options)

type options struct {
	log      *slog.Logger
	progress func(Stats)
	every    time.Duration
}

// WithLogger sets the logger the detect stage logs to; default
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithProgress calls f with the running Stats at most once per every
// (default 5 s when every is 0) while the replay runs, on Run's goroutine.
func WithProgress(every time.Duration, f func(Stats)) Option {
	return func(o *options) {
		o.progress, o.every = f, every
		if o.every <= 0 {
			o.every = 5 * time.Second
		}
	}
}

// detectionsTopic is the topic name the detect stage stamps on its records;
// nothing is produced.
const detectionsTopic = "backtest.detections"

// Run replays src through a fresh detect stage configured by cfg (the
// `detect:` section of the configuration; defaults applied as the stage
// does) and returns every detection it emitted, in emission order, with
// the replay's Stats. It closes nothing: the caller closes src. A Process
// error (a batch the stage cannot decode, an invalid configuration) ends
// the replay with the detections emitted so far.
func Run(ctx context.Context, cfg detect.Config, src Source, opts ...Option) ([]schemas.Detection, Stats, error) {
	o := options{log: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	st := Stats{Devices: map[string]Span{}, StateSeries: map[schemas.SeriesKey]bool{}}
	det, err := detect.New(cfg, detectionsTopic, pipeline.NewMetrics(prometheus.NewRegistry()), o.log)
	if err != nil {
		return nil, st, fmt.Errorf("cannot start the detect stage: %w", err)
	}
	var (
		out     []schemas.Detection
		emitErr error
	)
	emit := func(r *kgo.Record) {
		d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
		if err != nil {
			emitErr = errors.Join(emitErr, fmt.Errorf("cannot decode a detection: %w", err))
			return
		}
		out = append(out, *d)
		if d.State == schemas.StateFiring {
			st.Firing++
		}
	}
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	headers := kafka.RecordHeaders(schemas.SamplesHeaders())
	start := time.Now()
	lastProgress := start
	var offset int64
	skips, _ := src.(SkipCounter)
	for {
		if err := ctx.Err(); err != nil {
			return out, st.finish(start, out), err
		}
		batch, err := src.Next(ctx)
		if skips != nil {
			st.Skipped = skips.Skipped()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, st.finish(start, out), err
		}
		if len(batch) == 0 {
			continue
		}
		rec, err := encode(sb, batch)
		if err != nil {
			return out, st.finish(start, out), err
		}
		st.count(batch)
		r := &kgo.Record{Topic: "backtest.samples", Key: []byte(batch[0].Device), Value: rec, Headers: headers, Offset: offset}
		offset++
		err = det.Process(ctx, r, emit)
		st.Dropped = det.DroppedRows()
		if err != nil {
			return out, st.finish(start, out), fmt.Errorf("detect stage: %w", err)
		}
		if emitErr != nil {
			return out, st.finish(start, out), emitErr
		}
		if o.progress != nil && time.Since(lastProgress) >= o.every {
			lastProgress = time.Now()
			o.progress(st.finish(start, out))
		}
	}
	return out, st.finish(start, out), nil
}

// encode builds the batch's Arrow record and encodes it as a samples
// message value.
func encode(sb *schemas.SampleBuilder, batch []schemas.Sample) ([]byte, error) {
	for i := range batch {
		sb.Append(&batch[i])
	}
	rec := sb.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		return nil, fmt.Errorf("cannot encode samples of %s: %w", batch[0].Device, err)
	}
	return val, nil
}

// count adds a batch of one device to the points, batches, device spans
// and state series.
func (s *Stats) count(batch []schemas.Sample) {
	s.Points += int64(len(batch))
	s.Batches++
	dev := batch[0].Device
	sp, ok := s.Devices[dev]
	if !ok {
		sp = Span{First: batch[0].TS, Last: batch[0].TS}
	}
	for i := range batch {
		smp := &batch[i]
		if smp.TS > sp.Last {
			sp.Last = smp.TS
			sp.Steps++
		}
		sp.First = min(sp.First, smp.TS)
		if smp.Kind == schemas.KindState {
			if k := smp.Series(); !s.StateSeries[k] {
				s.StateSeries[k] = true
			}
		}
	}
	s.Devices[dev] = sp
}

// finish returns a copy of s with the elapsed time and detection count.
func (s *Stats) finish(start time.Time, out []schemas.Detection) Stats {
	c := *s
	c.Elapsed = time.Since(start)
	c.Detections = len(out)
	return c
}
