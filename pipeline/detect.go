package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/schemas"
)

// DetectConfig configures the detect stage: counters become rates
// (detectors/rate), then counter rates and gauges are scored by the
// ensemble of detectors (detectors/ensemble: robust z-score, EWMA,
// seasonal baseline, CUSUM, and the streaming forest when enabled), whose
// calibrated score, gated by the baseline deviation, fires and resolves
// alerts with hysteresis. States are not scored: a state change is itself
// the event.
//
// An alert fires when the ensemble's score reaches detectors.*.fire (a
// member breaks its recent record on the series) on a point at least
// alert.fire_z baseline standard deviations from the expected value, that
// is outside the reported band; it resolves after alert.clear points
// within alert.resolve_z.
type DetectConfig struct {
	// Counters configures the robust z-score baseline of counter rates
	// (the ensemble's robust_z member). Its MinMAD defaults to 1 (unit/s)
	// so sporadic error counts on a quiet counter do not fire; its Window
	// defaults to robustz.DefaultWindow. A robust_z section under
	// detectors overrides it.
	Counters robustz.Config `yaml:"counters"`
	// Gauges configures the robust z-score baseline of gauges.
	Gauges robustz.Config `yaml:"gauges"`
	// Alert configures the baseline gate of alerts: fire_z is the least
	// deviation of a firing point (and the half-width of the reported
	// band), resolve_z the deviation below which clear points resolve the
	// alert, confirm the points needed to fire. Fields set under
	// detectors (min_z, resolve_z, band_z, confirm, clear) override it.
	Alert alert.Config `yaml:"alert"`
	// Hold is the most points that are kept out of a series' robust
	// baseline while its alert fires (points still at |z| >=
	// alert.resolve_z), so a burst of any length is one alert that
	// resolves when the series returns. After Hold points the new level is
	// accepted as normal and the alert resolves. Default DefaultHold.
	Hold int `yaml:"hold"`
	// Detectors configures the ensemble by metric kind (counters, gauges)
	// and by metric path (metrics: the first matching override wins).
	// Its members default to ensemble.DefaultDetectors (the forest is
	// off: it keeps about 33 KB per series).
	Detectors ensemble.MetricsConfig `yaml:"detectors"`
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
	if err := c.ensembleConfig(c.Detectors.Counters, true).Validate(); err != nil {
		return fmt.Errorf("detectors.counters.%w", err)
	}
	if err := c.ensembleConfig(c.Detectors.Gauges, false).Validate(); err != nil {
		return fmt.Errorf("detectors.gauges.%w", err)
	}
	for i, o := range c.Detectors.Metrics {
		if o.Metric == "" {
			return fmt.Errorf("detectors.metrics[%d].metric: must not be empty", i)
		}
		for _, counter := range []bool{true, false} {
			if err := c.ensembleConfig(o.Config, counter).Validate(); err != nil {
				return fmt.Errorf("detectors.metrics[%d].%w", i, err)
			}
		}
	}
	return nil
}

// EnsembleConfig returns the ensemble configuration of a series of metric
// (a counter's rate when counter is true), with every default applied.
// c must have its defaults applied.
func (c DetectConfig) EnsembleConfig(metric string, counter bool) ensemble.Config {
	return c.ensembleConfig(c.Detectors.Match(metric, counter), counter)
}

func (c DetectConfig) ensembleConfig(e ensemble.Config, counter bool) ensemble.Config {
	if e.RobustZ == (robustz.Config{}) {
		e.RobustZ = c.Gauges
		if counter {
			e.RobustZ = c.Counters
		}
	}
	if e.MinZ == 0 {
		e.MinZ = c.Alert.FireZ
	}
	if e.ResolveZ == 0 && e.MinZ == c.Alert.FireZ {
		e.ResolveZ = c.Alert.ResolveZ
	}
	if e.Confirm == 0 {
		e.Confirm = c.Alert.Confirm
	}
	if e.Clear == 0 {
		e.Clear = c.Alert.Clear
	}
	if e.Hold == 0 {
		e.Hold = c.Hold
	}
	if counter {
		e = ensemble.CounterDefaults(e)
	}
	return e.WithDefaults()
}

type seriesState struct {
	kind    schemas.Kind
	points  uint64 // values scored since the series began
	counter rate.Counter
	e       *ensemble.Ensemble
	onset   ensemble.Mask     // the members that fired the current (or last) alert
	top     ensemble.Member   // the one with the largest score then
	dirty   bool              // changed since the last checkpoint
	key     schemas.SeriesKey // the map key, kept to avoid rebuilding it per row
}

// partState is the state of the series of one input partition: the unit
// that moves between stage instances on a rebalance.
type partState struct {
	series map[schemas.SeriesKey]*seriesState
	dirty  []schemas.SeriesKey
}

// shareKey names the ensemble configuration of a series: its kind and
// metric.
type shareKey struct {
	counter bool
	metric  string
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

	parts  map[int32]*partState
	shared map[shareKey]*ensemble.Shared // per kind and metric, built on first use
	inRec  map[uint64]*seriesState       // series of the record being processed, by SeriesIndex
	names  []string                      // scratch for detector names

	nseries    atomic.Int64
	emitted    atomic.Int64
	stateBytes atomic.Int64 // sum of StateBytes over the series held
}

// NewDetect returns the detect stage emitting detections to topic.
func NewDetect(cfg DetectConfig, topic string, m *Metrics, log *slog.Logger) (*Detect, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return &Detect{cfg: cfg, topic: topic, mem: memory.NewGoAllocator(), log: log.With("stage", "detect"),
		metrics: m, now: time.Now, parts: map[int32]*partState{}, shared: map[shareKey]*ensemble.Shared{}}, nil
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

// ensembleOf returns the shared ensemble configuration of a series.
func (d *Detect) ensembleOf(kind schemas.Kind, metric string) (*ensemble.Shared, error) {
	k := shareKey{counter: kind == schemas.KindCounter, metric: metric}
	if sh := d.shared[k]; sh != nil {
		return sh, nil
	}
	sh, err := ensemble.NewShared(d.cfg.EnsembleConfig(metric, k.counter))
	if err != nil {
		return nil, fmt.Errorf("detect: %s: %w", metric, err)
	}
	k.metric = strings.Clone(metric)
	d.shared[k] = sh
	return sh, nil
}

// addSeries puts st in ps under k and counts it.
func (d *Detect) addSeries(ps *partState, k schemas.SeriesKey, st *seriesState) {
	if old := ps.series[k]; old != nil {
		d.stateBytes.Add(-int64(old.e.StateBytes()))
	} else {
		d.nseries.Add(1)
	}
	st.key = k
	ps.series[k] = st
	d.stateBytes.Add(int64(st.e.StateBytes()))
}

func (d *Detect) removeSeries(ps *partState, k schemas.SeriesKey) {
	if old := ps.series[k]; old != nil {
		d.stateBytes.Add(-int64(old.e.StateBytes()))
		d.nseries.Add(-1)
		delete(ps.series, k)
	}
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
		if st == nil {
			k := schemas.SeriesKey{Device: sr.Device(i), Metric: sr.Metric(i), Keys: sr.Keys(i)}
			st = ps.series[k]
			if st == nil {
				sh, err := d.ensembleOf(kind, k.Metric)
				if err != nil {
					return fmt.Errorf("%w: %v", ErrStop, err)
				}
				st = &seriesState{kind: kind, e: sh.New()}
				d.addSeries(ps, schemas.SeriesKey{Device: strings.Clone(k.Device), Metric: strings.Clone(k.Metric), Keys: strings.Clone(k.Keys)}, st)
			}
			d.inRec[idx] = st
			if !st.dirty {
				st.dirty = true
				ps.dirty = append(ps.dirty, st.key)
			}
		}
		ts := sr.TS(i)
		var x float64
		if kind == schemas.KindCounter {
			v, ok := sr.U64(i)
			if !ok {
				continue // a null value carries nothing to score
			}
			r, res := st.counter.Update(ts, v)
			if res != rate.OK {
				continue
			}
			x = r
		} else {
			var ok bool
			if x, ok = sr.F64(i); !ok {
				continue
			}
		}
		st.points++
		startedAt := st.e.StartedAt()
		res := st.e.Update(ts, x)
		switch res.Transition {
		case ensemble.Fired:
			st.onset, st.top = res.Cause, res.CauseTop
			if err := d.emit(emit, st, schemas.StateFiring, ts, st.e.StartedAt(), x, &res); err != nil {
				return err
			}
		case ensemble.Resolved:
			if err := d.emit(emit, st, schemas.StateResolved, ts, startedAt, x, &res); err != nil {
				return err
			}
		}
	}
	d.metrics.series.WithLabelValues("detect").Set(float64(d.nseries.Load()))
	d.metrics.stateBytes.WithLabelValues("detect").Set(float64(d.StateBytes()))
	return nil
}

// seriesOverhead approximates the memory of a series beyond its detector
// state: the rest of seriesState and its map entry with key strings.
const seriesOverhead = 200

// StateBytes returns the approximate memory of all series' state: the
// detectors' StateBytes plus seriesOverhead per series. Safe for
// concurrent use.
func (d *Detect) StateBytes() int64 {
	return d.stateBytes.Load() + seriesOverhead*d.nseries.Load()
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
			emit(p, stateKey(nil, k), appendState(nil, st))
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
		d.removeSeries(ps, k)
		return nil
	}
	st, err := d.decodeState(value, k.Metric)
	if err != nil {
		if errors.Is(err, errStateVersion) || errors.Is(err, errStateConfig) {
			d.log.Warn("cannot restore series state; it starts cold", "series", k.String(), "err", err)
			return nil
		}
		return fmt.Errorf("restore %s: %w", k, err)
	}
	d.addSeries(ps, k, st)
	return nil
}

// Drop implements Processor.
func (d *Detect) Drop(partition int32) {
	if ps, ok := d.parts[partition]; ok {
		for k := range ps.series {
			d.removeSeries(ps, k)
		}
		delete(d.parts, partition)
	}
}

// SeriesStates returns the encoded state of every series held, keyed by
// series, for tests that compare instances.
func (d *Detect) SeriesStates() map[schemas.SeriesKey][]byte {
	out := map[schemas.SeriesKey][]byte{}
	for _, ps := range d.parts {
		for k, st := range ps.series {
			out[k] = appendState(nil, st)
		}
	}
	return out
}

func (d *Detect) emit(emit func(*kgo.Record), st *seriesState, state string, ts, startsAt int64, x float64, r *ensemble.Result) error {
	k := st.key
	labels := schemas.AlertLabels(k.Device, k.Metric, k.Keys)
	fp := schemas.Fingerprint(labels)
	d.names = st.onset.Names(d.names[:0])
	cfg := st.e.Shared().Config()
	// A firing detection carries the best score of the points that fired
	// it (the record they broke); a resolved one the calm point's score.
	score := r.Score
	if state == schemas.StateFiring {
		score = r.Peak
	}
	det := &schemas.Detection{
		Version:    schemas.DetectionVersion,
		ID:         fmt.Sprintf("%s-%d-%s", fp, ts, state),
		EventTime:  time.Unix(0, ts).UTC(),
		DetectedAt: d.now().UTC(),
		State:      state,
		Device:     k.Device, Metric: k.Metric, Keys: k.Keys,
		Detector:  st.top.String(),
		Detectors: slices.Clone(d.names),
		Score:     score,
		// The incident's severity, on the firing and the resolved event.
		Severity: ensemble.Severity(r.Peak, cfg.Fire, cfg.Critical),
		Observed: x,
		Expected: r.Expected,
		Band:     schemas.Band{Lower: r.Lower, Upper: r.Upper},
		Labels:   labels,
		Annotations: map[string]string{
			"summary": fmt.Sprintf("%s %s on %s %s", k.Metric, state, k.Device, k.Keys),
			"description": fmt.Sprintf("observed %.6g, expected %.6g in [%.6g, %.6g] (%.1f sigma, score %.3f); fired by %s",
				x, r.Expected, r.Lower, r.Upper, r.Z, score, strings.Join(d.names, ", ")),
		},
		StartsAt:    time.Unix(0, startsAt).UTC(),
		Fingerprint: fp,
	}
	if state == schemas.StateResolved {
		end := time.Unix(0, ts).UTC()
		det.EndsAt = &end
	}
	d.log.Info("detection", "state", state, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "observed", x, "expected", r.Expected, "z", r.Z, "score", r.Score,
		"detectors", det.Detectors, "severity", det.Severity)
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
