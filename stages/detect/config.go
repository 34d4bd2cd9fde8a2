package detect

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/multivar"
	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
)

// DetectConfig configures the detect stage: counters become rates
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
type DetectConfig struct {
	// Counters configures the robust z-score baseline of counter rates
	// (the ensemble's robust_z member). Its MinMAD defaults to 1 (unit/s)
	// so sporadic error counts on a quiet counter do not fire; its Window
	// defaults to robustz.DefaultWindow. A robust_z section under
	// detectors overrides it.
	Counters robustz.Config `yaml:"counters"`
	// Gauges configures the robust z-score baseline of gauges.
	Gauges robustz.Config `yaml:"gauges"`
	// Alert is the deprecated spelling of the baseline gate of alerts
	// (fire_z, resolve_z, confirm, clear), still read: WithDefaults writes
	// it into every detectors section that leaves min_z, resolve_z,
	// confirm or clear unset (see gateFrom), and Deprecated names it. The
	// gate's home is detectors.{counters,gauges,metrics[]}: min_z,
	// resolve_z, confirm, clear, defaulting to alert.DefaultFireZ,
	// alert.DefaultResolveZ, alert.DefaultConfirm and alert.DefaultClear.
	Alert alert.Config `yaml:"alert"`
	// Hold is the most points that are kept out of a series' robust
	// baseline while its alert fires (points still at |z| >=
	// alert.resolve_z), so a burst of any length is one alert that
	// resolves when the series returns. After Hold points the new level is
	// accepted as normal and the alert resolves. Default DefaultHold.
	Hold int `yaml:"hold"`
	// Detectors configures the ensemble by metric kind (counters, gauges)
	// and by metric path (metrics: the first matching override wins).
	// Its members default to DetectDetectors: ensemble.DefaultDetectors
	// and level_shift (the forest is off: it keeps about 33 KB per series);
	// a gauge's other than a hardware sensor's to DetectGaugeDetectors.
	Detectors ensemble.MetricsConfig `yaml:"detectors"`
	// Multivar configures the multivariate per-device detector: groups of
	// a device's related series (one keys value, sampled together) scored
	// as one vector. Off unless groups are listed.
	Multivar MultivarConfig `yaml:"multivar"`
	// States configures the state events (detectors/stateevents): flap
	// detection's count, window and quiet period.
	States stateevents.Config `yaml:"states"`
	// Source is the CloudEvents source of detections; default
	// "telekernel/detect".
	Source string `yaml:"source"`
	// Transaction sets the stage's transaction cadence: a transaction
	// collects input for interval (default 250ms) or max_records input
	// messages (default 10000), then writes each series it changed to the
	// changelog once and commits. Detections wait up to interval; a longer
	// one writes fewer changelog records per sample.
	Transaction pipeline.TransactionConfig `yaml:"transaction"`
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

// DetectDetectors are the detect stage's default ensemble members: the
// statistical ones and level_shift, so a link that drops to near zero or a
// rate that jumps by an order of magnitude alerts from a series' first
// points and every time, and an idle stretch does not turn traffic into an
// alarm.
var DetectDetectors = []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift"}

// DetectGaugeDetectors are the default members of a gauge's ensemble,
// except a hardware sensor reading's (a metric under SensorPrefix, which
// keeps DetectDetectors): DetectDetectors and range_break, so a reading
// beyond every level the series has visited fires — at once when it is
// alert.fire_z off, and at any distance when the range had held for a
// while on a series seen over a full day (ensemble.Config.RangeBreak).
// A sensor (temperature, fan, power supply, optics) drifts with ambient
// temperature and load and wears slowly (the maintain stage's); its new
// extreme within the band is not an incident.
var DetectGaugeDetectors = []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift", "range_break"}

// SensorPrefix starts the metrics of hardware sensor readings, whose
// gauges keep DetectDetectors (see DetectGaugeDetectors).
const SensorPrefix = "/components/component/"

// DefaultGaugeSpikeZ is a gauge's spike_z unless detectors.gauges (or a
// metric override) sets it: a reading at least this many baseline
// standard deviations off that breaks a record fires at once instead of
// after alert.confirm points. A gauge is a reading, and many gauge
// anomalies (a spike, a one-sample fault) last a single point; a counter
// rate's single interval can be an artefact of the collection (two
// samples taken close together, a late counter read), so counter rates
// keep waiting for confirm.
const DefaultGaugeSpikeZ = 10.0

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
	c.Detectors = migrateAlert(c.Detectors, c.Alert)
	if c.Source == "" {
		c.Source = "telekernel/detect"
	}
	if c.Hold == 0 {
		c.Hold = DefaultHold
	}
	c.States = c.States.WithDefaults()
	c.Multivar.Detector = c.Multivar.Detector.WithDefaults()
	c.Multivar.Alert = c.Multivar.Alert.WithDefaults()
	c.Transaction = c.Transaction.WithDefaults()
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
	if err := c.Multivar.validate(); err != nil {
		return fmt.Errorf("multivar.%w", err)
	}
	if err := c.Transaction.Validate(); err != nil {
		return fmt.Errorf("transaction.%w", err)
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
func (c DetectConfig) EnsembleConfig(metric string, counter bool) ensemble.Config {
	e := c.Detectors.Match(metric, counter)
	if !counter && !strings.HasPrefix(metric, SensorPrefix) {
		if e.Detectors == nil {
			e.Detectors = slices.Clone(DetectGaugeDetectors)
		}
		e = gaugeDefaults(e)
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
)

// gaugeDefaults sets the zero fields of a (non-sensor) gauge's ensemble
// configuration e to the gauge defaults. A gauge is a reading, not a
// counter's rate: a record-breaking reading is common on a gauge that wanders
// (latency, CPU, a travel time), so a gauge fires at a higher multiple of its
// record (DefaultGaugeFire); its anomalies come in bursts of readings, so the
// refractory time after an onset is shorter (DefaultGaugeCooldown); and a
// gauge that drops to 0 now and then for a reading or two (a sampled
// utilisation, a session count) has a spread too wide for a level shift to
// mean anything (DefaultGaugeLevelShiftSpread). Counter rates, whose level
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
	return e
}

func (c DetectConfig) ensembleConfig(e ensemble.Config, counter bool) ensemble.Config {
	if e.Detectors == nil {
		e.Detectors = slices.Clone(DetectDetectors)
	}
	if e.RobustZ == (robustz.Config{}) {
		e.RobustZ = c.Gauges
		if counter {
			e.RobustZ = c.Counters
		}
	}
	e = gateFrom(e, alert.Config{}.WithDefaults())
	if e.Hold == 0 {
		e.Hold = c.Hold
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
func (c DetectConfig) Deprecated() []string {
	if c.Alert == (alert.Config{}) {
		return nil
	}
	return []string{AlertDeprecation}
}

// AlertDeprecation is the line Deprecated returns for a file that sets
// alert.
const AlertDeprecation = "alert: deprecated spelling, write min_z (for fire_z), resolve_z, confirm " +
	"and clear under detectors.counters and detectors.gauges (or a detectors.metrics[] entry)"

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
