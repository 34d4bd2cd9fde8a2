// Package alert turns a stream of anomaly scores on one series into alert
// transitions with hysteresis, so one incident is one alert: it fires when
// the score crosses the firing threshold for Confirm consecutive points and
// resolves only when it stays below the lower resolve threshold for Clear
// consecutive points. It is the one home of the hysteresis (State, driven
// on |z| by Update and by the ensemble through Count, Fire and Settle) and
// of the severity mapping (Grade).
package alert

import (
	"math"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/schemas"
)

// Defaults of Config.
const (
	DefaultFireZ    = 6.0
	DefaultResolveZ = 3.0
	DefaultConfirm  = 2
	DefaultClear    = 3
)

// Config configures the hysteresis. Thresholds apply to |z|.
type Config struct {
	FireZ    float64 `yaml:"fire_z"`    // default DefaultFireZ
	ResolveZ float64 `yaml:"resolve_z"` // default DefaultResolveZ; below FireZ
	Confirm  int     `yaml:"confirm"`   // points above FireZ to fire; default DefaultConfirm
	Clear    int     `yaml:"clear"`     // points below ResolveZ to resolve; default DefaultClear
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.FireZ, DefaultFireZ)
	cfgcheck.Default(&c.ResolveZ, math.Min(DefaultResolveZ, c.FireZ/2))
	cfgcheck.Default(&c.Confirm, DefaultConfirm)
	cfgcheck.Default(&c.Clear, DefaultClear)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.Positive("fire_z", c.FireZ),
		cfgcheck.Check(c.ResolveZ <= 0 || c.ResolveZ >= c.FireZ, "resolve_z: %v must be positive and below fire_z (%v)", c.ResolveZ, c.FireZ),
		cfgcheck.Check(c.Confirm < 1 || c.Clear < 1, "confirm and clear must be at least 1 (got %d, %d)", c.Confirm, c.Clear),
	)
}

// Transition is what an update changed.
type Transition uint8

// Transitions returned by State.Update.
const (
	None Transition = iota
	Fired
	Resolved
)

// State is the hysteresis of one alert: whether it fires, since when, the
// runs of points toward firing and toward resolving, and the peak of the
// incident. Update drives it on |z| with a Config; the ensemble drives it
// with its own thresholds through Count, Fire and Settle. The zero value
// is an alert that is not firing. It is not safe for concurrent use.
type State struct {
	Firing   bool
	StartsAt int64   // Unix ns the firing began; 0 before the first
	Above    int32   // consecutive points toward firing while not firing
	Below    int32   // consecutive calm points while firing
	Peak     float64 // the largest value (|z|, a score) of the current incident
}

// Count counts a point of an alert that is not firing toward Confirm: a
// hot point extends the run, another restarts it. It returns the run's
// length.
func (s *State) Count(hot bool) int {
	if hot {
		s.Above++
	} else {
		s.Above = 0
	}
	return int(s.Above)
}

// Fire starts an incident at ts whose peak so far is peak.
func (s *State) Fire(ts int64, peak float64) {
	s.Firing, s.StartsAt, s.Above, s.Below, s.Peak = true, ts, 0, 0, peak
}

// Settle feeds a point of a firing alert: x raises the peak, and a calm
// point extends the run toward resolving (another restarts it). When the
// run reaches clear points the alert resolves, keeping StartsAt and Peak
// for the resolved event, and Settle returns true.
func (s *State) Settle(x float64, calm bool, clear int) bool {
	s.Peak = max(s.Peak, x)
	if calm {
		s.Below++
	} else {
		s.Below = 0
	}
	if int(s.Below) >= clear {
		s.Resolve()
		return true
	}
	return false
}

// Resolve ends the incident; StartsAt and Peak are kept.
func (s *State) Resolve() { s.Firing, s.Below = false, 0 }

// Update feeds the score z of the point at ts and returns the transition
// it caused: it fires after cfg.Confirm points with |z| at or above FireZ
// and resolves after cfg.Clear points below ResolveZ, when the state
// returns to the zero value.
func (s *State) Update(cfg *Config, ts int64, z float64) Transition {
	az := math.Abs(z)
	if !s.Firing {
		if s.Count(az >= cfg.FireZ) >= cfg.Confirm {
			s.Fire(ts, az)
			return Fired
		}
		return None
	}
	if s.Settle(az, az < cfg.ResolveZ, cfg.Clear) {
		*s = State{}
		return Resolved
	}
	return None
}

// Score maps |z| to a calibrated score in [0,1): 0.5 at the firing
// threshold, approaching 1 as |z| grows.
func Score(cfg *Config, z float64) float64 {
	return 1 - math.Exp2(-math.Abs(z)/cfg.FireZ)
}

// Severity grades |z| with Grade: critical at twice the firing threshold,
// warning at the threshold, info below.
func Severity(cfg *Config, z float64) string {
	return Grade(math.Abs(z), cfg.FireZ, 2*cfg.FireZ)
}

// Grade is the one mapping of a value to a detection severity
// (schemas.Severity*): critical at or above crit, warning at or above
// warn, info below (and for NaN). Every detector grades through it with
// its own thresholds: a z against fire_z, an ensemble score against fire
// and critical, a power residual against twice its band.
func Grade(x, warn, crit float64) string {
	switch {
	case x >= crit:
		return schemas.SeverityCritical
	case x >= warn:
		return schemas.SeverityWarning
	}
	return schemas.SeverityInfo
}
