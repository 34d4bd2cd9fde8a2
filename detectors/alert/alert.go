// Package alert turns a stream of anomaly scores on one series into alert
// transitions with hysteresis, so one incident is one alert: it fires when
// the score crosses the firing threshold for Confirm consecutive points and
// resolves only when it stays below the lower resolve threshold for Clear
// consecutive points.
package alert

import (
	"fmt"
	"math"
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
	if c.FireZ == 0 {
		c.FireZ = DefaultFireZ
	}
	if c.ResolveZ == 0 {
		c.ResolveZ = math.Min(DefaultResolveZ, c.FireZ/2)
	}
	if c.Confirm == 0 {
		c.Confirm = DefaultConfirm
	}
	if c.Clear == 0 {
		c.Clear = DefaultClear
	}
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.FireZ <= 0:
		return fmt.Errorf("fire_z: %v must be positive", c.FireZ)
	case c.ResolveZ <= 0 || c.ResolveZ >= c.FireZ:
		return fmt.Errorf("resolve_z: %v must be positive and below fire_z (%v)", c.ResolveZ, c.FireZ)
	case c.Confirm < 1 || c.Clear < 1:
		return fmt.Errorf("confirm and clear must be at least 1 (got %d, %d)", c.Confirm, c.Clear)
	}
	return nil
}

// Transition is what an update changed.
type Transition uint8

// Transitions returned by State.Update.
const (
	None Transition = iota
	Fired
	Resolved
)

// State is the alert state of one series. The zero value is an alert that
// is not firing. It is not safe for concurrent use.
type State struct {
	Firing   bool
	StartsAt int64   // Unix ns the firing began; 0 when not firing
	Above    int32   // consecutive points above FireZ
	Below    int32   // consecutive points below ResolveZ while firing
	PeakZ    float64 // largest |z| of the current incident
}

// Update feeds the score of the point at ts and returns the transition it
// caused.
func (s *State) Update(cfg *Config, ts int64, z float64) Transition {
	az := math.Abs(z)
	if !s.Firing {
		if az >= cfg.FireZ {
			s.Above++
		} else {
			s.Above = 0
		}
		if int(s.Above) >= cfg.Confirm {
			s.Firing, s.StartsAt, s.Above, s.Below, s.PeakZ = true, ts, 0, 0, az
			return Fired
		}
		return None
	}
	s.PeakZ = math.Max(s.PeakZ, az)
	if az < cfg.ResolveZ {
		s.Below++
	} else {
		s.Below = 0
	}
	if int(s.Below) >= cfg.Clear {
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

// Severity grades |z|: critical at twice the firing threshold, warning at
// the threshold, info below.
func Severity(cfg *Config, z float64) string {
	az := math.Abs(z)
	switch {
	case az >= 2*cfg.FireZ:
		return "critical"
	case az >= cfg.FireZ:
		return "warning"
	}
	return "info"
}
