package power

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
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/power"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
	"github.com/telekernel/telekernel/stages/internal/expiry"
	"github.com/telekernel/telekernel/stages/internal/modelstage"
)

// Config configures the power stage: Model the power models, windows,
// residual anomaly and savings (see detectors/power.Config); Source the
// CloudEvents source of residual detections, default DefaultSource.
type Config struct {
	modelstage.Config[power.Config] `yaml:",inline"`
	// DeviceExpiry drops the state of a device that had no sample for
	// this long of event time (behind the newest sample of its input
	// partition), resolving first its residual alert if it fires: its
	// memory is freed, a tombstone replaces its changelog record, and a
	// device that comes back starts fresh (its port state, counter
	// baselines and residual history; the model of its device model is
	// shared and stays). A port or PSU of a device that reports on without
	// it for as long is dropped from the device's state. Default
	// DefaultDeviceExpiry; a negative value keeps every device, port and
	// PSU for ever; at least expiry.Min (1m).
	DeviceExpiry time.Duration `yaml:"device_expiry"`
}

// DefaultSource is the default CloudEvents source of the power
// stage's detections.
const DefaultSource = "telekernel/power"

// DefaultDeviceExpiry is power.device_expiry unless set: a day without a
// sample, as detect.series_expiry.
const DefaultDeviceExpiry = 24 * time.Hour

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Config = c.Config.Defaults(DefaultSource)
	if c.DeviceExpiry == 0 {
		c.DeviceExpiry = DefaultDeviceExpiry
	}
	return c
}

// Validate reports the first bad field, with its path below power.
func (c Config) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	return expiry.Check("device_expiry", c.DeviceExpiry)
}

// Detector is the detector name of the power stage's residual
// detections.
const Detector = "power_residual"

// Changelog key prefixes of the power stage: a model's state (the model
// name follows) and a device's state (the device name follows).
const (
	powerStateKeyPrefix  = "power-model\x00"
	powerDeviceKeyPrefix = "power-device\x00"
	// powerOffsetKeyPrefix starts the key of a device's offset onto its
	// partition's clock (expiry.Devices.TakeChanged; only a device whose
	// offset is not 0 has one); the device name follows.
	powerOffsetKeyPrefix = "power-offset\x00"
)

// Stage is the power stage: it reads sample batches, keeps a power
// estimator per input partition (devices are keyed by name, so a device's
// samples are on one partition), and emits, per device and window, one
// tk.power message (Arrow, schemas.PowerSchema) and, when a device's
// measured power departs from its model, firing and resolved detections on
// the detection topic. The fitted models and each device's whole state
// (port speed, admin and oper status, transceiver, bundle; counter
// baselines and rates; PSU readings; the open tick and window; residual
// history) are checkpointed to the changelog in the transaction that
// consumed the samples, so a new owner after a rebalance or a crash
// continues exactly where the last commit left off. A device without a
// sample for Config.DeviceExpiry of event time is dropped, its residual
// alert resolved first and a tombstone written (expire.go), so devices
// decommissioned or renamed do not accumulate. It implements Processor.
// Stage is not safe for concurrent use except for Emitted and Devices.
type Stage struct {
	pipeline.SampleDecoder // decodes the samples, counts the rows of good messages dropped
	cfg                    Config
	topic                  string
	det                    detections.Builder // to the detection topic
	log                    *slog.Logger
	metrics                *pipeline.Metrics
	// unmeasured are telekernel_power_unmeasured_ticks_total's counters,
	// by power.Unmeasured.
	unmeasured [power.UnmeasuredReasons]prometheus.Counter
	// dropped are telekernel_power_dropped_values_total's counters, by
	// power.Drop.
	dropped [power.DropReasons]prometheus.Counter

	parts map[int32]*part

	devices atomic.Int64
	emitted atomic.Int64
	// pending counts the power messages emitted since the last commit
	// (Committed) or abort (Drop, which follows one); Committed moves them
	// to rows, so Rows counts tk.power's messages alone, not the stage's
	// residual detections.
	pending int64
	rows    atomic.Int64
}

var _ pipeline.Processor = (*Stage)(nil)

// part is the state of one input partition.
type part struct {
	e       *power.Estimator
	written map[string]uint64 // fit points of each model at its last checkpoint
	// clock is power.device_expiry's sweep clock (expire.go); gone, the
	// devices expired since the last checkpoint: tombstones for their
	// changelog records.
	clock expiry.Clock
	gone  []string
	// devs are the devices' offsets onto the clock; dev and devName the
	// device of the last sample (a record is usually one device's).
	devs    expiry.Devices
	dev     *expiry.Device
	devName string
	// restored: records were restored since the last record; the clock
	// is read back from the devices before the next (their offsets may
	// come after them in the changelog).
	restored bool
}

// New returns the power stage, writing power rows to topic and
// residual detections to detectionsTopic.
func New(cfg Config, topic, detectionsTopic string, m *pipeline.Metrics, log *slog.Logger) (*Stage, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("power: %w", err)
	}
	p := &Stage{cfg: cfg, topic: topic, det: detections.Builder{Topic: detectionsTopic, Source: cfg.Source, Metrics: m, Now: time.Now},
		SampleDecoder: pipeline.SampleDecoder{Mem: memory.NewGoAllocator()}, log: log.With("stage", "power"), metrics: m, parts: map[int32]*part{}}
	for r := range p.unmeasured {
		p.unmeasured[r] = m.PowerUnmeasured(power.Unmeasured(r).String())
	}
	for r := range p.dropped {
		p.dropped[r] = m.PowerDropped(power.Drop(r).String())
	}
	return p, nil
}

func (p *Stage) part(n int32) *part {
	pt := p.parts[n]
	if pt == nil {
		e, _ := power.New(p.cfg.Model) // validated in New
		pt = &part{e: e, written: map[string]uint64{}, devs: expiry.Devices{Tol: expiry.Tolerance(p.cfg.DeviceExpiry)}}
		p.parts[n] = pt
	}
	return pt
}

// Process implements Processor.
func (p *Stage) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	sr, release, err := p.ReadSamples(r)
	if err != nil {
		return err
	}
	defer release()
	pt := p.part(r.Partition)
	e := pt.e
	if pt.restored {
		p.restoredClock(pt)
	}
	before := e.Devices()
	for i := 0; i < sr.Len(); i++ {
		kind := sr.Kind(i)
		var u uint64
		var f float64
		var s string
		switch kind {
		case schemas.KindCounter:
			u, _ = sr.U64(i)
		case schemas.KindGauge:
			f, _ = sr.F64(i)
		default:
			s, _ = sr.Str(i)
		}
		dev, ts, metric, keys := sr.Device(i), sr.TS(i), sr.Metric(i), sr.Keys(i)
		if pt.dev == nil || pt.devName != dev {
			pt.dev, pt.devName = pt.devs.Get(dev), strings.Clone(dev)
		}
		if pt.mayBeBehind(ts) {
			p.behind(r.Partition, pt, ts, metric, keys)
		}
		e.Observe(ts, dev, metric, keys, kind, u, f, s)
		pt.devs.Place(&pt.clock, pt.dev, pt.devName, ts)
	}
	p.recordDone(pt)
	p.devices.Add(int64(e.Devices() - before))
	out := e.Take()
	for why, n := range out.Unmeasured {
		if n > 0 {
			p.unmeasured[why].Add(float64(n))
		}
	}
	for why, n := range out.Dropped {
		if n > 0 {
			p.dropped[why].Add(float64(n))
		}
	}
	if out.Unwritable > 0 {
		p.log.Warn("power windows closed without rows: a mean or an energy of theirs is not finite (a PSU reading or a model far out of range)", "partition", r.Partition, "windows", out.Unwritable)
	}
	if err := p.emitRows(emit, out.Rows); err != nil {
		return err
	}
	for i := range out.Residuals {
		if err := p.emitResidual(emit, &out.Residuals[i]); err != nil {
			return err
		}
	}
	if err := p.expire(r.Partition, pt, emit); err != nil {
		return err
	}
	p.metrics.SetSeries("power", float64(p.devices.Load()))
	return nil
}

// emitRows writes one message per device and window.
func (p *Stage) emitRows(emit func(*kgo.Record), rows []schemas.PowerRow) error {
	hs := Headers()
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].Device == rows[i].Device && rows[j].WindowStart == rows[i].WindowStart {
			j++
		}
		val, err := schemas.EncodePower(nil, rows[i:j])
		if err != nil {
			return fmt.Errorf("%w: %v", pipeline.ErrStop, err)
		}
		emit(&kgo.Record{Topic: p.topic, Key: []byte(rows[i].Device), Value: val, Headers: hs})
		p.pending++
		i = j
	}
	return nil
}

// Headers returns the Kafka headers of a tk.power message.
func Headers() []kgo.RecordHeader { return kafka.RecordHeaders(schemas.PowerHeaders()) }

// emitResidual emits the detection of a residual alert's transition. A
// firing one is critical when the residual is twice its band off the
// device's usual residual, warning otherwise; a resolved one is info.
func (p *Stage) emitResidual(emit func(*kgo.Record), r *power.Residual) error {
	det := p.residualDetection(r.Device, r.Firing, r.TS, r.StartsAt)
	det.Score = math.Min(1, math.Abs(r.Z)/(2*p.cfg.Model.ResidualZ))
	det.Severity = schemas.SeverityInfo
	if r.Firing {
		det.Severity = alert.Grade(math.Abs(r.Relative-r.Baseline), 0, 2*r.Threshold)
	}
	expected := r.Modelled * (1 + r.Baseline)
	band := r.Modelled * r.Threshold
	det.Observed, det.Expected, det.Band = r.Measured, expected, schemas.Band{Lower: expected - band, Upper: expected + band}
	det.Annotations["description"] = fmt.Sprintf("measured %.1f W, modelled %.1f W (%+.1f %%, usually %+.1f %%; robust z %.1f): a PSU losing efficiency, a failed fan, or hardware the model does not know",
		r.Measured, r.Modelled, 100*r.Relative, 100*r.Baseline, r.Z)
	p.log.Info("power residual", "state", det.State, "device", r.Device, "measured_w", r.Measured, "modelled_w", r.Modelled, "z", r.Z)
	return p.det.Send(emit, det)
}

// residualDetection returns the detection of a transition of device's
// residual alert with what every one has: the series (the device's PSU
// input power), the labels (the detector's included), the detector and
// the summary.
func (p *Stage) residualDetection(device string, firing bool, ts, startsAt int64) *schemas.Detection {
	k := schemas.SeriesKey{Device: device, Metric: schemas.MetricPSUInPower}
	labels := schemas.AlertLabels(k.Device, k.Metric, k.Keys)
	labels["detector"] = Detector
	det := p.det.New(detections.Transition{Series: k, Firing: firing, TS: ts, StartsAt: startsAt}, labels)
	det.Detector, det.Detectors = Detector, []string{Detector}
	det.Annotations["summary"] = fmt.Sprintf("power of %s departs from its model", device)
	return det
}

// Checkpoint implements Processor: a tombstone for every device expired
// since the last checkpoint that did not come back, the state of every
// model whose fit moved since the last checkpoint, keyed by model name,
// and of every device whose port state or residual history changed, keyed
// by device name.
func (p *Stage) Checkpoint(emit func(partition int32, key, value []byte)) {
	for n, pt := range p.parts {
		e := pt.e
		p.checkpointGone(n, pt, emit)
		pt.devs.TakeChanged(func(dev string, val []byte) {
			emit(n, []byte(powerOffsetKeyPrefix+dev), val)
		})
		e.TakeDirty(func(dev string) {
			val, ok := e.AppendDeviceState(nil, dev)
			if !ok {
				val = nil
			}
			emit(n, []byte(powerDeviceKeyPrefix+dev), val)
		})
		for _, name := range e.Models() {
			m := e.Model(name)
			if pt.written[name] == m.Points() {
				continue
			}
			pt.written[name] = m.Points()
			emit(n, []byte(powerStateKeyPrefix+name), m.AppendState(nil))
		}
	}
}

// Restore implements Processor. A model state of another version or
// another set of speeds is skipped with a warning: that model starts from
// its priors.
func (p *Stage) Restore(partition int32, key, value []byte) error {
	pt := p.part(partition)
	e := pt.e
	pt.restored = true
	if dev, ok := strings.CutPrefix(string(key), powerOffsetKeyPrefix); ok {
		if err := pt.devs.RestoreOffset(dev, value); err != nil {
			return fmt.Errorf("power: %w", err)
		}
		return nil
	}
	if dev, ok := strings.CutPrefix(string(key), powerDeviceKeyPrefix); ok {
		if value == nil {
			if e.DeviceModel(dev) != nil {
				e.Forget(dev)
				p.devices.Add(-1)
			}
			return nil
		}
		known := e.DeviceModel(dev) != nil
		if err := e.RestoreDeviceState(dev, value); err != nil {
			if errors.Is(err, power.ErrIncompatibleState) {
				p.log.Warn("cannot restore device power state; it starts cold", "device", dev, "err", err)
				return nil
			}
			return fmt.Errorf("restore power device %s: %w", dev, err)
		}
		if !known {
			p.devices.Add(1)
		}
		pt.devs.Restored(dev)
		return nil
	}
	name, ok := strings.CutPrefix(string(key), powerStateKeyPrefix)
	if !ok {
		return fmt.Errorf("power: changelog key %q is neither a model, a device nor an offset key", key)
	}
	if value == nil {
		return nil
	}
	m := e.Model(name)
	if err := m.RestoreState(value); err != nil {
		if errors.Is(err, power.ErrIncompatibleState) {
			p.log.Warn("cannot restore power model; it starts from its priors", "model", name, "err", err)
			return nil
		}
		return fmt.Errorf("restore power model %s: %w", name, err)
	}
	pt.written[name] = m.Points()
	return nil
}

// Drop implements Processor.
func (p *Stage) Drop(partition int32) {
	p.pending = 0 // the transaction aborted (or its partition went): its messages are not committed
	if pt, ok := p.parts[partition]; ok {
		p.devices.Add(-int64(pt.e.Devices()))
		delete(p.parts, partition)
	}
}

// Committed implements Processor.
func (p *Stage) Committed(n int) {
	p.emitted.Add(int64(n))
	p.rows.Add(min(p.pending, int64(n)))
	p.pending = 0
}

// Emitted returns the number of messages committed, power messages and
// residual detections. Safe for concurrent use.
func (p *Stage) Emitted() int64 { return p.emitted.Load() }

// Rows returns the number of power messages committed (one per device
// and window). Safe for concurrent use.
func (p *Stage) Rows() int64 { return p.rows.Load() }

// Devices returns the number of devices tracked. Safe for concurrent use.
func (p *Stage) Devices() int { return int(p.devices.Load()) }

// Estimator returns the estimator of an input partition, or nil; for tests
// and reports. Not safe for concurrent use with Process.
func (p *Stage) Estimator(partition int32) *power.Estimator {
	if pt := p.parts[partition]; pt != nil {
		return pt.e
	}
	return nil
}
