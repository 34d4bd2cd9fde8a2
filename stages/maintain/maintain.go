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
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
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
	t          *maintenance.Tracker
	maxTS      int64 // newest device time seen
	lastExpire int64
	clockAt    [2]int64 // maxTS and lastExpire at the last checkpoint
}

// maintainClockKey is the changelog key of a partition's clock (maxTS and
// lastExpire), so a new owner expires silent series at the same points of
// device time as the last one would have. It cannot be a series key: those
// have three NUL-separated parts.
const maintainClockKey = "maintain-clock\x00"

// maintainDeviceKeyPrefix starts the changelog key of a device's readings
// (latest covariate values and PSU readings); the device name follows.
const maintainDeviceKeyPrefix = "maintain-device\x00"

func (p *maintainPart) appendClock(dst []byte) []byte {
	dst = binary.AppendVarint(dst, p.maxTS)
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
	p.maxTS, p.lastExpire = maxTS, last
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
	emitted                atomic.Int64
}

var _ pipeline.Processor = (*Stage)(nil)

// New returns the maintain stage, writing events to topic.
func New(cfg Config, topic string, m *pipeline.Metrics, log *slog.Logger) (*Stage, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("maintain: %w", err)
	}
	return &Stage{cfg: cfg, topic: topic, SampleDecoder: pipeline.SampleDecoder{Mem: memory.NewGoAllocator()}, log: log.With("stage", "maintain"),
		metrics: m, now: time.Now, parts: map[int32]*maintainPart{}}, nil
}

func (m *Stage) part(n int32) *maintainPart {
	p := m.parts[n]
	if p == nil {
		t, _ := maintenance.New(m.cfg.Model) // validated in New
		p = &maintainPart{t: t}
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
	for i := 0; i < sr.Len(); i++ {
		ts := sr.TS(i)
		switch sr.Kind(i) {
		case schemas.KindGauge:
			f, _ := sr.F64(i)
			p.t.Observe(ts, sr.Device(i), sr.Metric(i), sr.Keys(i), f)
		case schemas.KindCounter:
			u, _ := sr.U64(i)
			p.t.ObserveCounter(ts, sr.Device(i), sr.Metric(i), sr.Keys(i), u)
		default:
			continue
		}
		p.maxTS = max(p.maxTS, ts)
	}
	// Close the cases of series that went silent, once a bucket.
	if p.maxTS-p.lastExpire >= int64(m.cfg.Model.Bucket) {
		p.t.Expire(p.maxTS)
		p.lastExpire = p.maxTS
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
		if clock := [2]int64{p.maxTS, p.lastExpire}; clock != p.clockAt {
			p.clockAt = clock
			emit(n, []byte(maintainClockKey), p.appendClock(nil))
		}
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
	if dev, ok := strings.CutPrefix(string(key), maintainDeviceKeyPrefix); ok {
		if value == nil {
			m.part(partition).t.ForgetDevice(dev)
			return nil
		}
		if err := m.part(partition).t.RestoreDeviceState(dev, value); err != nil {
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
	if value == nil {
		p.t.Forget(k)
		return nil
	}
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
