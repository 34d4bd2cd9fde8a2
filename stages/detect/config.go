package detect

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/drift"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/multivar"
	"github.com/telekernel/telekernel/detectors/peer"
	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/expiry"
)

// Config configures the detect stage: counters become rates
// (detectors/rate), then counter rates and gauges are scored by the
// ensemble of detectors (detectors/ensemble: robust z-score, EWMA,
// seasonal baseline, CUSUM, and the streaming forest when enabled), whose
// calibrated score, gated by the baseline deviation, fires and resolves
// alerts with hysteresis. States are not scored: a state change is itself
// the event (detectors/stateevents: link, session and component down,
// admin down, flapping, carrier-transitions increments, established-
// neighbours drops), and an interface's counter rates and gauges are kept
// out of the ensemble while it is down.
//
// An alert fires when the ensemble's score reaches detectors.*.fire (a
// member breaks its recent record on the series) on a point at least
// detectors.*.min_z baseline standard deviations from the expected value,
// that is outside the reported band; it resolves after detectors.*.clear
// points within detectors.*.resolve_z. Those gate settings have one home,
// the ensemble section that applies to the series (detectors.counters,
// detectors.gauges or the first matching detectors.metrics[] entry).
//
// A series takes its samples in time order: one not newer than the
// series' latest (a repeat, a duplicate a second collector resends during
// a target move, a sample reordered or published late) is dropped. One
// more than expiry.StepBack (10 minutes) behind counts toward its device's
// clock stepping back (NTP's first sync, a time zone set right, an RTC
// reset at a reboot, one sample stamped far ahead): once the device's
// samples behind span expiry.StepConfirm (a minute) of its time and
// continue into an input record after the one they began in, with none of
// its series sampled newer meanwhile, each of its series newer than the
// step is taken back to it and takes the device's samples again from
// there. Counters and gauges keep their baselines; a counter's next
// sample starts its rate again (none spans the step); a state series
// starts again from its latest value, an alert of it that fires resolved
// ("the clock of device D stepped back by ..."). The samples until then
// are dropped: a minute of them when the device's samples come a record
// each, the rest of the record the step falls in (at least a minute) when
// its collector batches them. Samples behind from a second source never
// take it back while records of the device's own newer samples come
// between the source's; two records behind in a row, with nothing newer
// between, are taken for a step. See stages/detect/clockstep.go.
type Config struct {
	// Counters is the deprecated spelling of detectors.counters.robust_z,
	// still read: WithDefaults writes it into detectors.counters when that
	// leaves robust_z unset, and a detectors.metrics[] entry that leaves
	// robust_z unset takes it for counter rates, as before; Deprecated
	// names it.
	Counters robustz.Config `yaml:"counters"`
	// Gauges is the deprecated spelling of detectors.gauges.robust_z, read
	// as Counters is.
	Gauges robustz.Config `yaml:"gauges"`
	// Alert is the deprecated spelling of the baseline gate of alerts
	// (fire_z, resolve_z, confirm, clear), still read: WithDefaults writes
	// it into every detectors section that leaves min_z, resolve_z,
	// confirm or clear unset (see gateFrom), and Deprecated names it. The
	// gate's home is detectors.{counters,gauges,metrics[]}: min_z,
	// resolve_z, confirm, clear, defaulting to alert.DefaultFireZ,
	// alert.DefaultResolveZ, alert.DefaultConfirm and alert.DefaultClear.
	Alert alert.Config `yaml:"alert"`
	// Hold is the deprecated spelling of detectors.{counters,gauges,
	// metrics[]}.hold and multivar.hold, still read: WithDefaults writes
	// it into each of them that is unset, and Deprecated names it.
	Hold int `yaml:"hold"`
	// Detectors configures the ensemble by metric kind (counters, gauges)
	// and by metric path (metrics: the first matching override wins).
	// A section's robust_z (the robust z-score baseline) defaults to
	// robustz's defaults (window robustz.DefaultWindow), with min_mad 1
	// (unit/s) for counter rates so sporadic error counts on a quiet
	// counter do not fire; its hold (the most points kept out of a
	// series' baselines while its alert fires, so a burst of any length is
	// one alert that resolves when the series returns) to DefaultHold.
	// Its members default to DefaultDetectors: ensemble.DefaultDetectors
	// and level_shift (the forest is off: it keeps about 33 KB per series);
	// a gauge's other than a hardware sensor's to DefaultGaugeDetectors.
	Detectors ensemble.MetricsConfig `yaml:"detectors"`
	// Multivar configures the multivariate per-device detector: groups of
	// a device's related series (one keys value, sampled together) scored
	// as one vector. Off unless groups are listed.
	Multivar MultivarConfig `yaml:"multivar"`
	// States configures the state events (detectors/stateevents): flap
	// detection's count, window and quiet period.
	States stateevents.Config `yaml:"states"`
	// Rules configures the rules that run beside the ensemble: quiet (an
	// error counter that leaves zero, detectors/rate), drift (an optic's
	// slow power drift, detectors/drift) and peer (a fan or power supply
	// departing from its siblings on the device, detectors/peer). A zero
	// field takes its package's default.
	Rules RulesConfig `yaml:"rules"`
	// Source is the CloudEvents source of detections; default
	// "telekernel/detect".
	Source string `yaml:"source"`
	// Transaction sets the stage's transaction cadence: a transaction
	// collects input for interval (default 250ms) or max_records input
	// messages (default 10000), then writes each series it changed to the
	// changelog once and commits. Detections wait up to interval; a longer
	// one writes fewer changelog records per sample. While the stage is
	// behind its input, a transaction collects for catch_up (default
	// max(1s, interval)); with checkpoint_interval set, the changed state
	// goes to the changelog once per that interval, not per transaction
	// (see pipeline.TransactionConfig).
	Transaction pipeline.TransactionConfig `yaml:"transaction"`
	// Workers is the number of goroutines that score the ensembles of a
	// record of at least 256 rows and encode a checkpoint of at least 256
	// series; default 1, every record on the stage's goroutine. With more,
	// a record's ensemble updates queue on at least 16 lanes by series, which the
	// workers, and the stage's goroutine once it has read the record,
	// claim in batches; under the stage's runner a record's last updates
	// overlap the next record's reading (its detections are emitted then,
	// within the same transaction). With two free cores two took
	// 0.72–0.85× one's wall time on a backlog at 1.2–1.35× the CPU per
	// sample, and no less than one with the second core busy
	// (docs/benchmarks.md), hence the default: other stages of the
	// process may hold that core. The detections, their order and the
	// state are the same for any value. At most MaxWorkers.
	Workers int `yaml:"workers"`
	// SeriesExpiry drops the state of a counter or gauge series that had
	// no sample for this long of event time (behind the newest sample of
	// its input partition, each device's sample times moved onto it by
	// the device's offset, so a device whose clock is set ahead or behind
	// the others' expires no series but its own in its own time, and one
	// whose clock steps back is placed on from where it was, see
	// expire.go and clockstep.go), resolving first an alert of it that fires:
	// its memory is freed, a tombstone replaces its changelog record, and
	// a series that comes back starts cold. Default DefaultSeriesExpiry; a negative
	// value keeps every series for ever. State series (sent only on
	// change) are kept while any series of their device has a sample
	// within this; a device with none is gone, and its state series go
	// too, a firing alert resolved first. Multivariate and sibling groups
	// do not expire. It should span more than two sample intervals: a
	// sample more than half of it ahead of its partition's newest is
	// taken for a device's clock jumping ahead (expiry.Tolerance,
	// expiry.Devices.Place), so with devices polled together less often
	// than that the partition's clock would not move and nothing would
	// expire.
	SeriesExpiry time.Duration `yaml:"series_expiry"`
}

// DefaultSeriesExpiry is detect.series_expiry unless set: a day without a
// sample, longer than any maintenance window a baseline should survive.
const DefaultSeriesExpiry = 24 * time.Hour

// RulesConfig configures the detect stage's rules beside the ensemble.
type RulesConfig struct {
	// Quiet is the error counters' rule: a counter that rarely moves and
	// increases; defaults rate.DefaultQuiet*.
	Quiet rate.QuietConfig `yaml:"quiet"`
	// Drift is the optics' envelope rule: receive or transmit power
	// drifting below its usual level; defaults drift.Default*.
	Drift drift.Config `yaml:"drift"`
	// Peer is the sibling rule: a fan or power supply departing from its
	// siblings on the device; defaults peer.Default*.
	Peer peer.Config `yaml:"peer"`
}

// WithDefaults returns c with each rule's defaults applied.
func (c RulesConfig) WithDefaults() RulesConfig {
	return RulesConfig{Quiet: c.Quiet.WithDefaults(), Drift: c.Drift.WithDefaults(), Peer: c.Peer.WithDefaults()}
}

// Validate reports the first bad field, as quiet.FIELD, drift.FIELD or
// peer.FIELD.
func (c RulesConfig) Validate() error {
	return cfgcheck.First(
		cfgcheck.Section("quiet", c.Quiet.Validate()),
		cfgcheck.Section("drift", c.Drift.Validate()),
		cfgcheck.Section("peer", c.Peer.Validate()),
	)
}

// MultivarConfig configures the multivariate detector of the detect stage
// (detectors/multivar: Mahalanobis distance from an exponentially weighted
// mean and covariance, split into per-series contributions). A group's
// detection is on metric "multivar/NAME" with the device's keys, detector
// "mahalanobis", and names the series that contributed most.
//
//	multivar:
//	  groups:
//	    - name: interface-traffic
//	      metrics: [/interfaces/interface/state/counters/in-octets, /interfaces/interface/state/counters/out-octets]
//	  alert: {fire_z: 6}
type MultivarConfig struct {
	// Groups lists the vectors scored; empty (the default) turns the
	// detector off. A metric belongs to at most one group.
	Groups []MultivarGroup `yaml:"groups"`
	// Detector configures the model.
	Detector multivar.Config `yaml:"detector"`
	// Alert applies to the distance as a normal quantile (multivar's Z,
	// capped at 40). Defaults as alert.Config.
	Alert alert.Config `yaml:"alert"`
	// Hold is the most vectors kept out of a group's model while its
	// alert fires (distance still at or above alert.resolve_z), as the
	// ensemble's hold; default DefaultHold.
	Hold int `yaml:"hold"`
}

// MultivarGroup is one vector: the series of these metrics (counters as
// rates) with the same device and keys, at the same timestamp.
type MultivarGroup struct {
	Name    string   `yaml:"name"`
	Metrics []string `yaml:"metrics"`
}

// multivarPrefix starts the metric of a multivariate detection and of its
// changelog key.
const multivarPrefix = "multivar/"

// DefaultDetectors are the detect stage's default ensemble members: the
// statistical ones and level_shift, so a link that drops to near zero or a
// rate that jumps by an order of magnitude alerts from a series' first
// points and every time, and an idle stretch does not turn traffic into an
// alarm; and density, so error bursts that start coming every few minutes
// where they came a few times a day alert, each burst no larger than the
// ones before (ensemble.Config.Density).
var DefaultDetectors = []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift", "density"}

// DefaultGaugeDetectors are the default members of a gauge's ensemble,
// except a hardware sensor reading's (SensorGauge, which keeps
// DefaultDetectors): DefaultDetectors and range_break, so a reading
// beyond every level the series has visited fires — at once when it is
// alert.fire_z off, and at any distance when the range had held for a
// while on a series seen over a full day (ensemble.Config.RangeBreak).
// A sensor (temperature, fan, power supply, optics) drifts with ambient
// temperature and load and wears slowly (the maintain stage's); its new
// extreme within the band is not an incident.
var DefaultGaugeDetectors = []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift", "range_break", "density"}

// SensorPrefix starts OpenConfig's platform metrics, whose gauges are
// hardware sensor readings (SensorGauge).
const SensorPrefix = "/components/component/"

// sensorContainers are the path elements that mark a vendor's native
// sensor readings wherever they sit: IOS-XR's envmon and optics models
// (Cisco-IOS-XR-envmon-oper's environmental-monitoring,
// Cisco-IOS-XR-envmonitor-oper's environment,
// Cisco-IOS-XR-controller-optics-oper's optics-oper), the
// digital-diagnostic-monitoring of SR OS transceivers, and the containers
// and leaves that other models name after what they measure. Whole
// elements only: "fan" is not "fan-out". From the models' documentation,
// not from captures of every vendor; a reading that no rule names can be
// given the sensors' ensemble under detectors.metrics.
var sensorContainers = map[string]bool{
	"environmental-monitoring": true, "environment": true, "envmon": true,
	"optics-oper": true, "transceiver": true, "transceivers": true, "digital-diagnostic-monitoring": true,
	"sensor": true, "sensors": true, "temperature": true, "temperatures": true,
	"fan": true, "fans": true, "fan-tray": true, "power-supply": true, "power-supplies": true,
	"voltage": true, "voltages": true,
}

// SensorGauge reports whether a gauge of metric is a hardware sensor
// reading (temperature, fan, power supply, optics), which keeps
// DefaultDetectors and the ensemble's defaults instead of the gauges'
// (DefaultGaugeDetectors, gaugeDefaults): OpenConfig's platform metrics
// (SensorPrefix), the SNMP collector's ENTITY-SENSOR values that have no
// OpenConfig leaf (schemas.MetricSNMPSensorPrefix: transceiver power and
// bias, voltages and currents off a power supply), and native paths with
// an element of sensorContainers. A sensor drifts with ambient temperature
// and load over days, so each day brings new extremes within its band.
func SensorGauge(metric string) bool {
	if strings.HasPrefix(metric, SensorPrefix) || strings.HasPrefix(metric, schemas.MetricSNMPSensorPrefix) {
		return true
	}
	for e := range strings.SplitSeq(metric, "/") {
		if sensorContainers[e] {
			return true
		}
	}
	return false
}

// DefaultGaugeSpikeZ is a gauge's spike_z unless detectors.gauges (or a
// metric override) sets it: a reading at least this many baseline
// standard deviations off that breaks a record fires at once instead of
// after alert.confirm points. A gauge is a reading, and many gauge
// anomalies (a spike, a one-sample fault) last a single point; a counter
// rate's single interval can be an artefact of the collection (two
// samples taken close together, a late counter read), so counter rates
// keep waiting for confirm.
const DefaultGaugeSpikeZ = 10.0

// DefaultHold is the default hold of every detectors section and of
// multivar: one hour at a 10 s sample interval.
const DefaultHold = 360

// WithDefaults returns c with zero fields set to their defaults and the
// deprecated counters, gauges, alert and hold written into their homes
// under detectors and multivar where those are unset (the deprecated
// fields themselves are kept as written, for Deprecated).
func (c Config) WithDefaults() Config {
	c.Detectors = migrateAlert(c.Detectors, c.Alert)
	c.Detectors = c.migrateRobustHold(c.Detectors)
	if c.Source == "" {
		c.Source = "telekernel/detect"
	}
	if c.Multivar.Hold == 0 {
		c.Multivar.Hold = cmp.Or(c.Hold, DefaultHold)
	}
	c.States = c.States.WithDefaults()
	c.Rules = c.Rules.WithDefaults()
	c.Multivar.Detector = c.Multivar.Detector.WithDefaults()
	c.Multivar.Alert = c.Multivar.Alert.WithDefaults()
	c.Transaction = c.Transaction.WithDefaults()
	if c.SeriesExpiry == 0 {
		c.SeriesExpiry = DefaultSeriesExpiry
	}
	return c
}

// robustZ returns the robust z-score baseline a detectors section that
// leaves robust_z unset takes for its kind: the deprecated counters or
// gauges section, with robustz's defaults (and min_mad 1 for counters).
func (c Config) robustZ(counter bool) robustz.Config {
	if !counter {
		return c.Gauges.WithDefaults()
	}
	r := c.Counters
	if r.MinMAD == 0 {
		r.MinMAD = 1
	}
	return r.WithDefaults()
}

// migrateRobustHold returns m with the deprecated counters, gauges and
// hold written into its kinds' sections (robust_z, hold) and hold into
// each metric override (a copy of m.Metrics), where they are unset. An
// override's unset robust_z is left to ensembleConfig, which gives it its
// kind's: an override may match counters and gauges alike.
func (c Config) migrateRobustHold(m ensemble.MetricsConfig) ensemble.MetricsConfig {
	if m.Counters.RobustZ == (robustz.Config{}) {
		m.Counters.RobustZ = c.robustZ(true)
	}
	if m.Gauges.RobustZ == (robustz.Config{}) {
		m.Gauges.RobustZ = c.robustZ(false)
	}
	if c.Hold == 0 {
		return m
	}
	m.Counters.Hold = cmp.Or(m.Counters.Hold, c.Hold)
	m.Gauges.Hold = cmp.Or(m.Gauges.Hold, c.Hold)
	m.Metrics = slices.Clone(m.Metrics)
	for i := range m.Metrics {
		m.Metrics[i].Hold = cmp.Or(m.Metrics[i].Hold, c.Hold)
	}
	return m
}

// Validate reports the first bad field, with its path.
func (c Config) Validate() error {
	if err := c.robustZ(true).Validate(); err != nil {
		return fmt.Errorf("counters.%w", err)
	}
	if err := c.robustZ(false).Validate(); err != nil {
		return fmt.Errorf("gauges.%w", err)
	}
	if c.Alert != (alert.Config{}) {
		if err := c.Alert.WithDefaults().Validate(); err != nil {
			return fmt.Errorf("alert.%w", err)
		}
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
	if err := c.States.Validate(); err != nil {
		return fmt.Errorf("states.%w", err)
	}
	if err := c.Rules.Validate(); err != nil {
		return fmt.Errorf("rules.%w", err)
	}
	if err := c.Multivar.validate(); err != nil {
		return fmt.Errorf("multivar.%w", err)
	}
	if err := c.Transaction.Validate(); err != nil {
		return fmt.Errorf("transaction.%w", err)
	}
	if c.Workers < 0 || c.Workers > MaxWorkers {
		return fmt.Errorf("workers: %d must be between 0 and %d", c.Workers, MaxWorkers)
	}
	if err := expiry.Check("series_expiry", c.SeriesExpiry); err != nil {
		return err
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

func (m MultivarConfig) validate() error {
	if m.Hold < 0 {
		return fmt.Errorf("hold: %d must not be negative", m.Hold)
	}
	if len(m.Groups) == 0 {
		return nil
	}
	if err := m.Detector.Validate(); err != nil {
		return fmt.Errorf("detector.%w", err)
	}
	if err := m.Alert.Validate(); err != nil {
		return fmt.Errorf("alert.%w", err)
	}
	names, metrics := map[string]bool{}, map[string]bool{}
	for i, g := range m.Groups {
		switch {
		case g.Name == "" || strings.ContainsRune(g.Name, 0):
			return fmt.Errorf("groups[%d].name: %q must be set (and hold no NUL)", i, g.Name)
		case names[g.Name]:
			return fmt.Errorf("groups[%d].name: %q is used twice", i, g.Name)
		case len(g.Metrics) < 2 || len(g.Metrics) > multivar.MaxDims:
			return fmt.Errorf("groups[%d].metrics: %d metrics, want 2 to %d", i, len(g.Metrics), multivar.MaxDims)
		}
		names[g.Name] = true
		for _, mt := range g.Metrics {
			if metrics[mt] {
				return fmt.Errorf("groups[%d].metrics: %q is in two groups (or twice)", i, mt)
			}
			metrics[mt] = true
		}
	}
	return nil
}

// EnsembleConfig returns the ensemble configuration of a series of metric
// (a counter's rate when counter is true), with every default applied.
// c must have its defaults applied.
func (c Config) EnsembleConfig(metric string, counter bool) ensemble.Config {
	e := c.Detectors.Match(metric, counter)
	if !counter && !SensorGauge(metric) {
		if e.Detectors == nil {
			e.Detectors = slices.Clone(DefaultGaugeDetectors)
		}
		e = gaugeDefaults(e)
	}
	if counter && e.LevelShift.EventSize == 0 {
		e.LevelShift.EventSize = rate.CounterEventSize(metric)
	}
	if counter && e.Direction == "" && rate.FaultCounter(metric) {
		// Errors falling are a fault clearing, not an alarm.
		e.Direction = ensemble.DirectionUp
	}
	if !counter {
		// A gauge read in whole numbers is in whole units: a move of a
		// unit or two, or a level of 1 reading 0, is rounding
		// (ensemble.Config.WholeUnits). A counter's rate never is.
		e.WholeUnits = true
	}
	return c.ensembleConfig(e, counter)
}

// Defaults of a gauge's ensemble, except a hardware sensor reading's
// (see gaugeDefaults); detectors.gauges or a metric override that sets the
// field wins.
const (
	// DefaultGaugeFire is a gauge's fire: a member at 1.17 × its record
	// (ensemble.DefaultFire, 1.1 ×, for counter rates and sensors).
	DefaultGaugeFire = 0.54
	// DefaultGaugeCooldown is a gauge's cooldown in points
	// (ensemble.DefaultCooldown, 100, for counter rates and sensors).
	DefaultGaugeCooldown = 50
	// DefaultGaugeLevelShiftSpread is a gauge's level_shift.spread
	// (levelshift.DefaultSpread, 0.3, for counter rates and sensors).
	DefaultGaugeLevelShiftSpread = 0.1
	// DefaultGaugeRepeatCount and DefaultGaugeRepeatWindow are a gauge's
	// repeat rule (ensemble.RepeatConfig): a run off the baseline no
	// farther off than each of the gauge's last 3 alerts within 3000
	// points does not fire. Counter rates and sensors keep it off.
	DefaultGaugeRepeatCount  = 3
	DefaultGaugeRepeatWindow = 3000
)

// gaugeDefaults sets the zero fields of a (non-sensor) gauge's ensemble
// configuration e to the gauge defaults. A gauge is a reading, not a
// counter's rate: a record-breaking reading is common on a gauge that wanders
// (latency, CPU, a travel time), so a gauge fires at a higher multiple of its
// record (DefaultGaugeFire); its anomalies come in bursts of readings, so the
// refractory time after an onset is shorter (DefaultGaugeCooldown); and a
// gauge that drops to 0 now and then for a reading or two (a sampled
// utilisation, a session count) has a spread too wide for a level shift to
// mean anything (DefaultGaugeLevelShiftSpread). A gauge with a heavy tail
// (a latency, a travel time) makes excursions of the same size again and
// again, so a run no farther off than each of its last few alerts is its
// habit (DefaultGaugeRepeatCount, DefaultGaugeRepeatWindow; `repeat: {count:
// -1}` turns it off). Counter rates, whose level
// shifts are links going down, keep the ensemble's defaults. The values
// were chosen on NAB and checked on bigdama18 and the simulator (README,
// "Backtests").
func gaugeDefaults(e ensemble.Config) ensemble.Config {
	if e.Fire == 0 {
		e.Fire = DefaultGaugeFire
	}
	if e.Cooldown == 0 {
		e.Cooldown = DefaultGaugeCooldown
	}
	if e.LevelShift.Spread == 0 {
		e.LevelShift.Spread = DefaultGaugeLevelShiftSpread
	}
	if e.Repeat == (ensemble.RepeatConfig{}) {
		e.Repeat = ensemble.RepeatConfig{Count: DefaultGaugeRepeatCount, Window: DefaultGaugeRepeatWindow}
	}
	return e
}

func (c Config) ensembleConfig(e ensemble.Config, counter bool) ensemble.Config {
	if e.Detectors == nil {
		e.Detectors = slices.Clone(DefaultDetectors)
	}
	if e.RobustZ == (robustz.Config{}) {
		e.RobustZ = c.robustZ(counter)
	}
	e = gateFrom(e, alert.Config{}.WithDefaults())
	if e.Hold == 0 {
		e.Hold = DefaultHold
	}
	if e.SpikeZ == 0 && !counter {
		e.SpikeZ = max(DefaultGaugeSpikeZ, e.MinZ)
	}
	if counter {
		e = ensemble.CounterDefaults(e)
	}
	return e.WithDefaults()
}

// Deprecated returns one "field: how to migrate" line per deprecated
// spelling c was written with.
func (c Config) Deprecated() []string {
	var out []string
	if c.Alert != (alert.Config{}) {
		out = append(out, AlertDeprecation)
	}
	if c.Counters != (robustz.Config{}) {
		out = append(out, CountersDeprecation)
	}
	if c.Gauges != (robustz.Config{}) {
		out = append(out, GaugesDeprecation)
	}
	if c.Hold != 0 {
		out = append(out, HoldDeprecation)
	}
	return out
}

// The lines Deprecated returns for a file that sets alert, counters,
// gauges or hold.
const (
	AlertDeprecation = "alert: deprecated spelling, write min_z (for fire_z), resolve_z, confirm " +
		"and clear under detectors.counters and detectors.gauges (or a detectors.metrics[] entry)"
	CountersDeprecation = "counters: deprecated spelling, write it as detectors.counters.robust_z " +
		"(and as robust_z of each detectors.metrics[] entry for counters that sets none)"
	GaugesDeprecation = "gauges: deprecated spelling, write it as detectors.gauges.robust_z " +
		"(and as robust_z of each detectors.metrics[] entry for gauges that sets none)"
	HoldDeprecation = "hold: deprecated spelling, write hold under detectors.counters, detectors.gauges " +
		"(and each detectors.metrics[] entry that sets none) and multivar"
)

// migrateAlert returns m with the deprecated alert section a written into
// its kinds' sections and each metric override (a copy of m.Metrics), the
// way a unset there took it before, so a file that sets a gives the same
// detections. A zero a changes nothing.
func migrateAlert(m ensemble.MetricsConfig, a alert.Config) ensemble.MetricsConfig {
	if a == (alert.Config{}) {
		return m
	}
	a = a.WithDefaults()
	m.Counters = gateFrom(m.Counters, a)
	m.Gauges = gateFrom(m.Gauges, a)
	m.Metrics = slices.Clone(m.Metrics)
	for i := range m.Metrics {
		m.Metrics[i].Config = gateFrom(m.Metrics[i].Config, a)
	}
	return m
}

// gateFrom returns e with its unset gate fields taken from a: min_z from
// fire_z, confirm and clear, and resolve_z from a's while min_z equals
// fire_z, else the ensemble's default for that min_z (min(3, min_z/2)).
func gateFrom(e ensemble.Config, a alert.Config) ensemble.Config {
	if e.MinZ == 0 {
		e.MinZ = a.FireZ
	}
	if e.ResolveZ == 0 {
		switch {
		case e.MinZ == a.FireZ:
			e.ResolveZ = a.ResolveZ
		case e.MinZ > 0:
			e.ResolveZ = math.Min(ensemble.DefaultResolveZ, e.MinZ/2)
		}
	}
	if e.Confirm == 0 {
		e.Confirm = a.Confirm
	}
	if e.Clear == 0 {
		e.Clear = a.Clear
	}
	return e
}

// MaxWorkers bounds detect.workers: each worker is a goroutine and twice
// as many job lanes, made at the first large record (a typo's billion
// would exhaust memory there, not at the check).
const MaxWorkers = 256

// workerCount returns Workers, or 1 when it is unset.
func (c Config) workerCount() int { return cmp.Or(c.Workers, 1) }
