package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/schemas"
)

// DetectConfig configures the detect stage: counters become rates, then
// counters and gauges are scored by a robust z-score and alerts fire and
// resolve with hysteresis. States are not scored yet.
type DetectConfig struct {
	// Counters configures the robust z-score of counter rates. Its MinMAD
	// defaults to 1 (unit/s) so sporadic error counts on a quiet counter
	// do not fire.
	Counters robustz.Config `yaml:"counters"`
	// Gauges configures the robust z-score of gauges.
	Gauges robustz.Config `yaml:"gauges"`
	// Alert configures firing and resolving.
	Alert alert.Config `yaml:"alert"`
	// Hold is the most points that are kept out of a series' baseline while
	// its alert fires (points still at |z| >= alert.resolve_z), so a burst
	// of any length is one alert that resolves when the series returns.
	// After Hold points the new level is accepted as normal and the alert
	// resolves. Default DefaultHold.
	Hold int `yaml:"hold"`
	// Source is the CloudEvents source of detections; default
	// "telekernel/detect".
	Source string `yaml:"source"`
}

// DefaultHold is the default of DetectConfig.Hold: one hour at a 10 s
// sample interval.
const DefaultHold = 360

// WithDefaults returns c with zero fields set to their defaults.
func (c DetectConfig) WithDefaults() DetectConfig {
	if c.Counters.MinMAD == 0 {
		c.Counters.MinMAD = 1
	}
	c.Counters = c.Counters.WithDefaults()
	c.Gauges = c.Gauges.WithDefaults()
	c.Alert = c.Alert.WithDefaults()
	if c.Source == "" {
		c.Source = "telekernel/detect"
	}
	if c.Hold == 0 {
		c.Hold = DefaultHold
	}
	return c
}

// Validate reports the first bad field, with its path.
func (c DetectConfig) Validate() error {
	if err := c.Counters.Validate(); err != nil {
		return fmt.Errorf("counters.%w", err)
	}
	if err := c.Gauges.Validate(); err != nil {
		return fmt.Errorf("gauges.%w", err)
	}
	if err := c.Alert.Validate(); err != nil {
		return fmt.Errorf("alert.%w", err)
	}
	if c.Hold < 0 {
		return fmt.Errorf("hold: %d must not be negative", c.Hold)
	}
	return nil
}

type seriesState struct {
	counter rate.Counter
	z       *robustz.Detector
	alert   alert.State
	held    int32 // points kept out of the baseline in the current incident
}

// Detect is the detect stage as a Sink: it decodes sample batches, updates
// per-series detector state and produces detection events to its output
// topic. Its Flush waits until Kafka acknowledged every detection, so the
// runner commits input offsets only after the outputs are durable
// (at-least-once; detection ids are stable, so consumers deduplicate
// re-deliveries by id).
type Detect struct {
	cfg     DetectConfig
	out     *kgo.Client
	topic   string
	mem     memory.Allocator
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time

	series  map[schemas.SeriesKey]*seriesState
	nseries atomic.Int64
	pending int

	mu       sync.Mutex
	firstErr error
	emitted  int64
}

// NewDetect returns the detect stage producing to topic through out, a
// client the caller owns.
func NewDetect(cfg DetectConfig, out *kgo.Client, topic string, m *Metrics, log *slog.Logger) (*Detect, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return &Detect{cfg: cfg, out: out, topic: topic, mem: memory.NewGoAllocator(), log: log.With("stage", "detect"),
		metrics: m, now: time.Now, series: map[schemas.SeriesKey]*seriesState{}}, nil
}

var _ Sink = (*Detect)(nil)

// Add implements Sink.
func (d *Detect) Add(ctx context.Context, r *kgo.Record) error {
	rec, err := schemas.DecodeSamples(d.mem, headersOf(r), r.Value)
	if err != nil {
		return err
	}
	defer rec.Release()
	sr, err := schemas.NewSampleReader(rec)
	if err != nil {
		return err
	}
	for i := 0; i < sr.Len(); i++ {
		kind := sr.Kind(i)
		if kind == schemas.KindState {
			continue
		}
		// Look up with strings that alias the record; clone only to insert.
		k := schemas.SeriesKey{Device: sr.Device(i), Metric: sr.Metric(i), Keys: sr.Keys(i)}
		st := d.series[k]
		if st == nil {
			cfg := d.cfg.Gauges
			if kind == schemas.KindCounter {
				cfg = d.cfg.Counters
			}
			st = &seriesState{z: robustz.New(cfg)}
			k = schemas.SeriesKey{Device: strings.Clone(k.Device), Metric: strings.Clone(k.Metric), Keys: strings.Clone(k.Keys)}
			d.series[k] = st
			d.nseries.Store(int64(len(d.series)))
		}
		ts := sr.TS(i)
		var x float64
		if kind == schemas.KindCounter {
			v, _ := sr.U64(i)
			r, res := st.counter.Update(ts, v)
			if res != rate.OK {
				continue
			}
			x = r
		} else {
			x, _ = sr.F64(i)
		}
		s := st.z.Score(x)
		if st.alert.Firing && math.Abs(s.Z) >= d.cfg.Alert.ResolveZ && int(st.held) < d.cfg.Hold {
			// Keep the incident out of the baseline, so it does not become
			// the new normal halfway through and fire again when it ends.
			st.held++
		} else {
			st.z.Add(x)
		}
		if !s.WarmedUp {
			continue
		}
		startedAt := st.alert.StartsAt
		switch st.alert.Update(&d.cfg.Alert, ts, s.Z) {
		case alert.Fired:
			d.emit(ctx, k, schemas.StateFiring, ts, st.alert.StartsAt, x, s)
		case alert.Resolved:
			st.held = 0
			d.emit(ctx, k, schemas.StateResolved, ts, startedAt, x, s)
		}
	}
	d.metrics.series.WithLabelValues("detect").Set(float64(len(d.series)))
	return nil
}

func (d *Detect) emit(ctx context.Context, k schemas.SeriesKey, state string, ts, startsAt int64, x float64, s robustz.Score) {
	labels := schemas.AlertLabels(k.Device, k.Metric, k.Keys)
	fp := schemas.Fingerprint(labels)
	det := &schemas.Detection{
		Version:    schemas.DetectionVersion,
		ID:         fmt.Sprintf("%s-%d-%s", fp, ts, state),
		EventTime:  time.Unix(0, ts).UTC(),
		DetectedAt: d.now().UTC(),
		State:      state,
		Device:     k.Device, Metric: k.Metric, Keys: k.Keys,
		Detector:  "robust_z",
		Detectors: []string{"robust_z"},
		Score:     alert.Score(&d.cfg.Alert, s.Z),
		Severity:  alert.Severity(&d.cfg.Alert, s.Z),
		Observed:  x,
		Expected:  s.Median,
		Band:      schemas.Band{Lower: s.Median - d.cfg.Alert.FireZ*s.Sigma, Upper: s.Median + d.cfg.Alert.FireZ*s.Sigma},
		Labels:    labels,
		Annotations: map[string]string{
			"summary":     fmt.Sprintf("%s %s on %s %s", k.Metric, state, k.Device, k.Keys),
			"description": fmt.Sprintf("observed %.6g, expected %.6g (robust z %.1f)", x, s.Median, s.Z),
		},
		StartsAt:    time.Unix(0, startsAt).UTC(),
		Fingerprint: fp,
	}
	if state == schemas.StateResolved {
		end := time.Unix(0, ts).UTC()
		det.EndsAt = &end
	}
	d.log.Info("detection", "state", state, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "observed", x, "expected", s.Median, "z", s.Z, "severity", det.Severity)
	val, err := schemas.MarshalDetection(det)
	if err != nil {
		d.fail(err)
		return
	}
	hs := schemas.DetectionHeaders(det, d.cfg.Source)
	kh := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		kh[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	d.pending++
	d.metrics.outputs.WithLabelValues(state).Inc()
	d.out.Produce(ctx, &kgo.Record{Topic: d.topic, Key: []byte(fp), Value: val, Headers: kh}, func(_ *kgo.Record, err error) {
		if err != nil {
			d.fail(fmt.Errorf("produce detection to %s: %w", d.topic, err))
			return
		}
		d.mu.Lock()
		d.emitted++
		d.mu.Unlock()
	})
}

func (d *Detect) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.firstErr == nil {
		d.firstErr = err
	}
}

// Flush implements Sink: it waits for every produced detection.
func (d *Detect) Flush(ctx context.Context) (int, error) {
	if err := d.out.Flush(ctx); err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.firstErr; err != nil {
		d.firstErr = nil
		// The client gave up on a detection (its retries are unbounded, so
		// this is fatal: auth, topic deleted). Stop without committing so a
		// restart re-reads the input and produces it again.
		return 0, fmt.Errorf("%w: %v", ErrStop, err)
	}
	n := d.pending
	d.pending = 0
	return n, nil
}

// Pending implements Sink.
func (d *Detect) Pending() int { return d.pending }

// Emitted returns the number of detections Kafka acknowledged.
func (d *Detect) Emitted() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.emitted
}

// Series returns the number of series with state. Safe for concurrent use.
func (d *Detect) Series() int { return int(d.nseries.Load()) }
