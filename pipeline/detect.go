package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
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
	kind    schemas.Kind
	points  uint64 // values scored or used as baseline since the series began
	counter rate.Counter
	z       *robustz.Detector
	alert   alert.State
	held    int32             // points kept out of the baseline in the current incident
	dirty   bool              // changed since the last checkpoint
	key     schemas.SeriesKey // the map key, kept to avoid rebuilding it per row
}

// partState is the state of the series of one input partition: the unit
// that moves between stage instances on a rebalance.
type partState struct {
	series map[schemas.SeriesKey]*seriesState
	dirty  []schemas.SeriesKey
}

// Detect is the detect stage: it decodes sample batches, keeps per-series
// detector state per input partition, and emits detection events. It
// implements Processor, for the exactly-once TransactRunner, which
// checkpoints its state to a compacted changelog topic and restores it on
// another instance after a rebalance. Detect is not safe for concurrent use
// except for the counters (Emitted, Series, StateBytes).
type Detect struct {
	cfg     DetectConfig
	topic   string
	mem     memory.Allocator
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time

	parts   map[int32]*partState
	scratch []float64
	inRec   map[uint64]*seriesState // series of the record being processed, by SeriesIndex

	nseries atomic.Int64
	emitted atomic.Int64
}

// NewDetect returns the detect stage emitting detections to topic.
func NewDetect(cfg DetectConfig, topic string, m *Metrics, log *slog.Logger) (*Detect, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return &Detect{cfg: cfg, topic: topic, mem: memory.NewGoAllocator(), log: log.With("stage", "detect"),
		metrics: m, now: time.Now, parts: map[int32]*partState{}}, nil
}

var _ Processor = (*Detect)(nil)

func (d *Detect) part(p int32) *partState {
	ps := d.parts[p]
	if ps == nil {
		ps = &partState{series: map[schemas.SeriesKey]*seriesState{}}
		d.parts[p] = ps
	}
	return ps
}

func (d *Detect) newSeries(kind schemas.Kind) *seriesState {
	cfg := d.cfg.Gauges
	if kind == schemas.KindCounter {
		cfg = d.cfg.Counters
	}
	return &seriesState{kind: kind, z: robustz.New(cfg)}
}

// Process implements Processor.
func (d *Detect) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	rec, err := schemas.DecodeSamples(d.mem, headersOf(r), r.Value)
	if err != nil {
		return err
	}
	defer rec.Release()
	sr, err := schemas.NewSampleReader(rec)
	if err != nil {
		return err
	}
	ps := d.part(r.Partition)
	if d.inRec == nil {
		d.inRec = map[uint64]*seriesState{}
	}
	clear(d.inRec)
	for i := 0; i < sr.Len(); i++ {
		kind := sr.Kind(i)
		if kind == schemas.KindState {
			continue
		}
		// Find the series once per record by its dictionary indices; the
		// string lookup aliases the record and clones only to insert.
		idx := sr.SeriesIndex(i)
		st := d.inRec[idx]
		k := schemas.SeriesKey{}
		if st == nil {
			k = schemas.SeriesKey{Device: sr.Device(i), Metric: sr.Metric(i), Keys: sr.Keys(i)}
			st = ps.series[k]
			if st == nil {
				st = d.newSeries(kind)
				st.key = schemas.SeriesKey{Device: strings.Clone(k.Device), Metric: strings.Clone(k.Metric), Keys: strings.Clone(k.Keys)}
				ps.series[st.key] = st
				d.nseries.Add(1)
			}
			d.inRec[idx] = st
			if !st.dirty {
				st.dirty = true
				ps.dirty = append(ps.dirty, st.key)
			}
		}
		k = st.key
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
		st.points++
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
			if err := d.emit(emit, k, schemas.StateFiring, ts, st.alert.StartsAt, x, s); err != nil {
				return err
			}
		case alert.Resolved:
			st.held = 0
			if err := d.emit(emit, k, schemas.StateResolved, ts, startedAt, x, s); err != nil {
				return err
			}
		}
	}
	d.metrics.series.WithLabelValues("detect").Set(float64(d.nseries.Load()))
	d.metrics.stateBytes.WithLabelValues("detect").Set(float64(d.nseries.Load()) * float64(d.seriesBytes()))
	return nil
}

// seriesBytes approximates the memory of one series' state: the detector
// window plus the rest of seriesState and its map entry with key strings.
func (d *Detect) seriesBytes() int {
	return 16*max(d.cfg.Counters.Window, d.cfg.Gauges.Window) + 16 + 200
}

// Checkpoint implements Processor: one changelog record per series changed
// since the last checkpoint, keyed by series.
func (d *Detect) Checkpoint(emit func(partition int32, key, value []byte)) {
	for p, ps := range d.parts {
		for _, k := range ps.dirty {
			st := ps.series[k]
			if st == nil {
				continue
			}
			st.dirty = false
			var val []byte
			val, d.scratch = appendState(nil, st, d.scratch)
			emit(p, stateKey(nil, k), val)
		}
		ps.dirty = ps.dirty[:0]
	}
}

// Restore implements Processor. A record of an unknown state version is
// skipped with a warning: that series starts cold.
func (d *Detect) Restore(partition int32, key, value []byte) error {
	k, err := parseStateKey(key)
	if err != nil {
		return err
	}
	ps := d.part(partition)
	if value == nil { // a tombstone
		if _, ok := ps.series[k]; ok {
			delete(ps.series, k)
			d.nseries.Add(-1)
		}
		return nil
	}
	st, err := decodeState(value, &d.cfg)
	if err != nil {
		if errors.Is(err, errStateVersion) {
			d.log.Warn("cannot restore series state; it starts cold", "series", k.String(), "err", err)
			return nil
		}
		return fmt.Errorf("restore %s: %w", k, err)
	}
	if _, ok := ps.series[k]; !ok {
		d.nseries.Add(1)
	}
	st.key = k
	ps.series[k] = st
	return nil
}

// Drop implements Processor.
func (d *Detect) Drop(partition int32) {
	if ps, ok := d.parts[partition]; ok {
		d.nseries.Add(-int64(len(ps.series)))
		delete(d.parts, partition)
	}
}

// SeriesStates returns the encoded state of every series held, keyed by
// series, for tests that compare instances.
func (d *Detect) SeriesStates() map[schemas.SeriesKey][]byte {
	out := map[schemas.SeriesKey][]byte{}
	for _, ps := range d.parts {
		for k, st := range ps.series {
			out[k], d.scratch = appendState(nil, st, d.scratch)
		}
	}
	return out
}

func (d *Detect) emit(emit func(*kgo.Record), k schemas.SeriesKey, state string, ts, startsAt int64, x float64, s robustz.Score) error {
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
		return fmt.Errorf("%w: %v", ErrStop, err)
	}
	hs := schemas.DetectionHeaders(det, d.cfg.Source)
	kh := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		kh[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	d.metrics.outputs.WithLabelValues(state).Inc()
	emit(&kgo.Record{Topic: d.topic, Key: []byte(fp), Value: val, Headers: kh})
	return nil
}

// Committed implements Processor: n detections became visible.
func (d *Detect) Committed(n int) { d.emitted.Add(int64(n)) }

// Emitted returns the number of detections committed to Kafka. Safe for
// concurrent use.
func (d *Detect) Emitted() int64 { return d.emitted.Load() }

// Series returns the number of series with state. Safe for concurrent use.
func (d *Detect) Series() int { return int(d.nseries.Load()) }
