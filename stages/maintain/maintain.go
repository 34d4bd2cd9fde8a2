package maintain

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/expiry"
	"github.com/telekernel/telekernel/stages/internal/modelstage"
)

// Config configures the maintain stage: Model the signals,
// thresholds, trend windows and case lifecycle (see
// detectors/maintenance.Config); Source the CloudEvents source of
// maintenance events, default DefaultSource.
type Config struct {
	modelstage.Config[maintenance.Config] `yaml:",inline"`
}

// DefaultSource is the default CloudEvents source of maintenance
// events.
const DefaultSource = "telekernel/maintain"

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Config = c.Config.Defaults(DefaultSource)
	return c
}

type maintainPart struct {
	t *maintenance.Tracker
	// clock.Newest is the partition's clock: the newest sample time of
	// its devices, each moved onto it by its offset (devs; clock.SweptTo
	// is not used). lastExpire is where the last sweep was.
	clock      expiry.Clock
	lastExpire int64
	clockAt    [2]int64 // clock.Newest and lastExpire at the last checkpoint
	devs       expiry.Devices
	// dev and devName are the device of the last sample (dev nil: not
	// known): a record is usually one device's.
	dev      *expiry.Device
	devName  string
	restored bool // restored from the changelog: devices without keys are dropped before the next record
	// unplaced are the devices new to the partition whose samples so far
	// were taken at its clock, not placed (aheadOf): where the sample
	// that places one finds the keys they dated after it, its clock is
	// behind the partition's, and they are taken back to it. Their
	// offset records say so (expiry.Devices.KeepUnplaced), so a restored
	// partition has them too (restoredUnplaced).
	unplaced map[string]bool
}

// maintainClockKey is the changelog key of a partition's clock (its
// newest sample time, on the partition's clock, and lastExpire), so a new
// owner expires silent series at the same points of device time as the
// last one would have. It cannot be a series key: those have three
// NUL-separated parts.
const maintainClockKey = "maintain-clock\x00"

// maintainDeviceKeyPrefix starts the changelog key of a device's readings
// (latest covariate values and PSU readings); the device name follows.
const maintainDeviceKeyPrefix = "maintain-device\x00"

// maintainOffsetKeyPrefix starts the changelog key of a device's offset
// onto the partition's clock (expiry.Devices.TakeChanged; only a device
// whose offset is not 0, or that is not placed yet, has one); the device
// name follows.
const maintainOffsetKeyPrefix = "maintain-offset\x00"

func (p *maintainPart) appendClock(dst []byte) []byte {
	dst = binary.AppendVarint(dst, p.clock.Newest)
	return binary.AppendVarint(dst, p.lastExpire)
}

func (p *maintainPart) restoreClock(b []byte) error {
	maxTS, n := binary.Varint(b)
	if n <= 0 {
		return fmt.Errorf("maintain: partition clock record of %d bytes does not decode", len(b))
	}
	last, m := binary.Varint(b[n:])
	if m <= 0 || n+m != len(b) {
		return fmt.Errorf("maintain: partition clock record of %d bytes does not decode", len(b))
	}
	p.clock.Newest, p.lastExpire = maxTS, last
	p.clockAt = [2]int64{maxTS, last}
	return nil
}

// Stage is the maintain stage: it reads sample batches, follows the
// health trends of gauges per input partition, and emits maintenance
// events (schemas.MaintenanceEvent, JSON, key = the case's key) as cases
// open, move and close. Each series' trend state is checkpointed to the
// changelog, so a case survives a rebalance. It implements Processor.
// Stage is not safe for concurrent use except for Emitted.
type Stage struct {
	pipeline.SampleDecoder // decodes the samples, counts the rows of good messages dropped
	cfg                    Config
	topic                  string
	log                    *slog.Logger
	metrics                *pipeline.Metrics
	now                    func() time.Time
	parts                  map[int32]*maintainPart
	// kept are the metrics the tracker keeps state of, by kind: only
	// their samples place a device on its partition's clock, so a device
	// is known while it holds keys.
	kept [2]map[string]bool // [0] gauges, [1] counters
	// dropped are telekernel_maintain_dropped_values_total's counters,
	// by maintenance.Drop.
	dropped [maintenance.DropReasons]prometheus.Counter
	emitted atomic.Int64
}

var _ pipeline.Processor = (*Stage)(nil)

// New returns the maintain stage, writing events to topic.
func New(cfg Config, topic string, m *pipeline.Metrics, log *slog.Logger) (*Stage, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("maintain: %w", err)
	}
	st := &Stage{cfg: cfg, topic: topic, SampleDecoder: pipeline.SampleDecoder{Mem: memory.NewGoAllocator()}, log: log.With("stage", "maintain"),
		metrics: m, now: time.Now, parts: map[int32]*maintainPart{}, kept: [2]map[string]bool{{}, {}}}
	for r := range st.dropped {
		st.dropped[r] = m.MaintainDropped(maintenance.Drop(r).String())
	}
	for _, sig := range cfg.Model.WithDefaults().Signals {
		st.kept[0][sig.Metric] = !sig.Counter
		st.kept[1][sig.Metric] = sig.Counter
		for _, m := range []string{sig.DeviceThresholdMetric, sig.Covariate} {
			if m != "" {
				st.kept[0][m] = true
			}
		}
		if sig.Metric == schemas.MetricPSUEfficiency {
			for _, m := range []string{schemas.MetricPSUOutPower, schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent, schemas.MetricPSUInPower} {
				st.kept[0][m] = true
			}
		}
	}
	return st, nil
}

func (m *Stage) part(n int32) *maintainPart {
	p := m.parts[n]
	if p == nil {
		t, _ := maintenance.New(m.cfg.Model) // validated in New
		p = &maintainPart{t: t, devs: expiry.Devices{Tol: expiry.Tolerance(m.stale())}}
		m.parts[n] = p
	}
	return p
}

// Process implements Processor.
func (m *Stage) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	sr, release, err := m.ReadSamples(r)
	if err != nil {
		return err
	}
	defer release()
	p := m.part(r.Partition)
	if p.restored {
		p.restored = false
		p.restoredUnplaced()
		p.forgetKeyless(false)
		m.correctRestored(r.Partition, p)
	}
	for i := 0; i < sr.Len(); i++ {
		ts := sr.TS(i)
		dev, metric, keys, kind := sr.Device(i), sr.Metric(i), sr.Keys(i), sr.Kind(i)
		var kept bool
		switch kind {
		case schemas.KindGauge:
			kept = m.kept[0][metric]
		case schemas.KindCounter:
			kept = m.kept[1][metric]
		default:
			continue
		}
		if p.devName != dev || p.devName == "" {
			p.dev = p.devs.Lookup(dev)
			p.devName = strings.Clone(dev)
		}
		added := false
		if kept && p.dev == nil {
			p.dev, added = p.devs.Get(dev), true
		}
		undated := false
		if p.dev != nil && kind == schemas.KindGauge && p.aheadOf(ts) {
			if f, _ := sr.F64(i); !p.t.Dates(metric, f) {
				// Stamped far ahead, and no key keeps its time: its value
				// is taken, not its time, and it places no device.
				ts, undated = p.present(), true
				if added {
					if p.unplaced == nil {
						p.unplaced = map[string]bool{}
					}
					p.unplaced[p.devName] = true
					p.devs.KeepUnplaced(p.dev, p.devName)
				}
			}
		}
		if p.dev != nil && p.mayBeBehind(ts) {
			m.behind(r.Partition, p, ts, metric, keys)
		}
		if kind == schemas.KindGauge {
			f, _ := sr.F64(i)
			p.t.Observe(ts, dev, metric, keys, f)
		} else {
			u, _ := sr.U64(i)
			p.t.ObserveCounter(ts, dev, metric, keys, u)
		}
		if p.dev != nil {
			if !undated {
				p.devs.Place(&p.clock, p.dev, p.devName, ts)
				if len(p.unplaced) != 0 && p.unplaced[p.devName] {
					delete(p.unplaced, p.devName)
					p.t.StepBack(p.devName, ts)
				}
			}
		} else { // a device that holds no key of the tracker's
			p.devs.Pass(&p.clock, ts)
		}
	}
	p.devs.RecordDone(p.t.Latest)
	for why, n := range p.t.TakeDropped() {
		if n > 0 {
			m.dropped[why].Add(float64(n))
		}
	}
	// Close the cases of series that went silent, once a bucket.
	if p.clock.Newest-p.lastExpire >= int64(m.cfg.Model.Bucket) {
		m.expire(p)
		p.lastExpire = p.clock.Newest
	}
	now := m.now().UTC()
	for _, e := range p.t.Take() {
		e.DetectedAt = now
		val, err := schemas.MarshalMaintenance(&e)
		if err != nil {
			return fmt.Errorf("%w: %v", pipeline.ErrStop, err)
		}
		m.log.Info("maintenance", "state", e.State, "device", e.Device, "component", e.Component, "signal", e.Signal,
			"predicted_failure", e.PredictedFailure, "confidence", e.Confidence, "close_reason", e.CloseReason)
		emit(&kgo.Record{Topic: m.topic, Key: []byte(e.Key), Value: val, Headers: kafka.RecordHeaders(schemas.MaintenanceHeaders(&e, m.cfg.Source))})
	}
	n := 0
	for _, p := range m.parts {
		n += p.t.Series()
	}
	m.metrics.SetSeries("maintain", float64(n))
	return nil
}

// Checkpoint implements Processor: one changelog record per series changed
// since the last checkpoint, one per device whose readings (covariates, PSU)
// changed, and the partition's clock when it moved.
func (m *Stage) Checkpoint(emit func(partition int32, key, value []byte)) {
	for n, p := range m.parts {
		if clock := [2]int64{p.clock.Newest, p.lastExpire}; clock != p.clockAt {
			p.clockAt = clock
			emit(n, []byte(maintainClockKey), p.appendClock(nil))
		}
		p.devs.TakeChanged(func(dev string, val []byte) {
			emit(n, []byte(maintainOffsetKeyPrefix+dev), val)
		})
		p.t.TakeDirtyDevices(func(dev string) {
			val, ok := p.t.AppendDeviceState(nil, dev)
			if !ok {
				val = nil // its readings expired: a tombstone
			}
			emit(n, []byte(maintainDeviceKeyPrefix+dev), val)
		})
		p.t.TakeDirty(func(k schemas.SeriesKey) {
			val, ok := p.t.AppendState(nil, k)
			if !ok {
				val = nil // forgotten: a tombstone
			}
			emit(n, pipeline.StateKey(nil, k), val)
		})
	}
}

// Restore implements Processor. A state of another version or of a signal
// no longer configured is skipped with a warning: that series starts cold.
func (m *Stage) Restore(partition int32, key, value []byte) error {
	if string(key) == maintainClockKey {
		if value == nil {
			return nil
		}
		return m.part(partition).restoreClock(value)
	}
	if dev, ok := strings.CutPrefix(string(key), maintainOffsetKeyPrefix); ok {
		p := m.part(partition)
		p.restored = true
		if err := p.devs.RestoreOffset(dev, value); err != nil {
			return fmt.Errorf("maintain: %w", err)
		}
		return nil
	}
	if dev, ok := strings.CutPrefix(string(key), maintainDeviceKeyPrefix); ok {
		p := m.part(partition)
		p.restored = true
		if value == nil {
			p.t.ForgetDevice(dev)
			return nil
		}
		p.devs.Restored(dev)
		if err := p.t.RestoreDeviceState(dev, value); err != nil {
			if errors.Is(err, maintenance.ErrIncompatibleState) {
				m.log.Warn("cannot restore a device's readings; its covariates and PSU efficiency wait for new readings", "device", dev, "err", err)
				return nil
			}
			return err
		}
		return nil
	}
	k, err := pipeline.ParseStateKey(key)
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	p := m.part(partition)
	p.restored = true
	if value == nil {
		p.t.Forget(k)
		return nil
	}
	p.devs.Restored(k.Device)
	if err := p.t.RestoreState(k, value); err != nil {
		if errors.Is(err, maintenance.ErrIncompatibleState) {
			m.log.Warn("cannot restore maintenance state; the series starts cold", "series", k.String(), "err", err)
			return nil
		}
		return fmt.Errorf("restore %s: %w", k, err)
	}
	return nil
}

// Drop implements Processor.
func (m *Stage) Drop(partition int32) { delete(m.parts, partition) }

// Committed implements Processor.
func (m *Stage) Committed(n int) { m.emitted.Add(int64(n)) }

// Emitted returns the number of events committed. Safe for concurrent
// use.
func (m *Stage) Emitted() int64 { return m.emitted.Load() }

// Tracker returns the tracker of an input partition, or nil; for tests and
// reports. Not safe for concurrent use with Process.
func (m *Stage) Tracker(partition int32) *maintenance.Tracker {
	if p := m.parts[partition]; p != nil {
		return p.t
	}
	return nil
}
