package peer

import (
	"math"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/schemas"
)

// Defaults of Config.
const (
	// DefaultWarmup is how many rounds a member is compared with its
	// siblings before the rule may fire: the learning of its usual offset
	// and noise.
	DefaultWarmup = 360
	// DefaultSmooth is the time constant, in rounds, of the smoothed
	// departure the rule judges: averaging over it cuts the noise of one
	// reading by about four, so a slow wear shows early.
	DefaultSmooth = 8
	// DefaultLevel is the time constant, in rounds, of a member's usual
	// offset from its siblings: an offset that moves slower than that is
	// followed.
	DefaultLevel = 720
	// DefaultMemory is the time constant, in rounds, of the noise
	// estimates.
	DefaultMemory = 720
	// DefaultSigmas is how far below its usual offset, in standard
	// deviations of the smoothed departure, a member must be to count as
	// departing.
	DefaultSigmas = 6.0
	// DefaultRun is how many departing rounds in a row fire the rule.
	DefaultRun = 3
	// DefaultClear is how many rounds in a row back within Sigmas/2
	// resolve it.
	DefaultClear = 6
	// DefaultClip is how far from its usual offset, in noise standard
	// deviations of one reading, a reading counts at most: one spike moves
	// the smoothed departure by Clip/Smooth deviations at most.
	DefaultClip = 6.0
	// DefaultMinNoise is the smallest noise standard deviation of one
	// relative reading the rule assumes (0.2 %): a departure from the
	// siblings of less than about 0.6 % never fires, however steady the
	// readings.
	DefaultMinNoise = 0.002
)

// forgetRounds is how many rounds in a row without a reading forget a
// member (a fan tray or power supply removed).
const forgetRounds = 60

// Config configures the rule. The zero value means every default.
type Config struct {
	Warmup   int     `yaml:"warmup"`    // default DefaultWarmup
	Smooth   int     `yaml:"smooth"`    // default DefaultSmooth
	Level    int     `yaml:"level"`     // default DefaultLevel
	Memory   int     `yaml:"memory"`    // default DefaultMemory
	Sigmas   float64 `yaml:"sigmas"`    // default DefaultSigmas
	Run      int     `yaml:"run"`       // default DefaultRun
	Clear    int     `yaml:"clear"`     // default DefaultClear
	Clip     float64 `yaml:"clip"`      // default DefaultClip
	MinNoise float64 `yaml:"min_noise"` // default DefaultMinNoise
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Warmup, DefaultWarmup)
	cfgcheck.Default(&c.Smooth, DefaultSmooth)
	cfgcheck.Default(&c.Level, DefaultLevel)
	cfgcheck.Default(&c.Memory, DefaultMemory)
	cfgcheck.Default(&c.Run, DefaultRun)
	cfgcheck.Default(&c.Clear, DefaultClear)
	cfgcheck.Default(&c.Sigmas, DefaultSigmas)
	cfgcheck.Default(&c.Clip, DefaultClip)
	cfgcheck.Default(&c.MinNoise, DefaultMinNoise)
	return c
}

// Validate reports the first bad field of c (after WithDefaults).
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.AtLeast("smooth", c.Smooth, 1),
		cfgcheck.Check(c.Warmup < 4*c.Smooth, "warmup: %d must be at least 4 × smooth (%d)", c.Warmup, 4*c.Smooth),
		cfgcheck.Check(c.Level < 1 || c.Memory < 1, "level, memory: %d, %d must be at least 1", c.Level, c.Memory),
		cfgcheck.Check(!(c.Sigmas > 0) || !(c.Clip > 0) || !(c.MinNoise > 0), "sigmas, clip, min_noise: %v, %v, %v must be positive", c.Sigmas, c.Clip, c.MinNoise),
		cfgcheck.Check(c.Run < 1 || c.Run > math.MaxUint16 || c.Clear < 1 || c.Clear > math.MaxUint16, "run, clear: %d, %d must be in [1, %d]", c.Run, c.Clear, math.MaxUint16),
	)
}

// Kind is a kind of component whose siblings the rule compares.
type Kind uint8

// Kinds of Kind.
const (
	None Kind = iota
	// Fan compares fan speeds (rpm): a worn fan turns slower than its
	// siblings.
	Fan
	// PSU compares power supply efficiencies (output power over input
	// power, the input being input-power or input-voltage ×
	// input-current of one timestamp): a degrading supply delivers less per
	// watt it draws than its siblings.
	PSU
)

// String returns the kind's name: "fan", "psu" or "none".
func (k Kind) String() string {
	switch k {
	case Fan:
		return "fan"
	case PSU:
		return "psu"
	}
	return "none"
}

// ParseKind returns the kind named s (String's names), or None.
func ParseKind(s string) Kind {
	switch s {
	case "fan":
		return Fan
	case "psu":
		return PSU
	}
	return None
}

// Metric returns the metric a kind's detections are on: the fan speed,
// or a power supply's (derived) efficiency.
func (k Kind) Metric() string {
	if k == PSU {
		return schemas.MetricPSUEfficiency
	}
	return schemas.MetricFanSpeed
}

// Classify returns the kind of the component a gauge of metric reads,
// or None when the rule does not use the metric.
func Classify(metric string) Kind {
	switch metric {
	case schemas.MetricFanSpeed:
		return Fan
	case schemas.MetricPSUOutPower, schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent, schemas.MetricPSUInPower:
		return PSU
	}
	return None
}

// maxDeparture bounds a departure: a reading a million times its
// siblings' is a broken sensor, and departures beyond would overflow the
// variances (and make a state no restore accepts). A departure is at
// least -1 (readings are not negative).
const maxDeparture = 1e6

// stat is one member's judgement of its departures r (its reading over
// the median of its siblings', minus 1, at most maxDeparture).
type stat struct {
	n      uint32  // rounds judged, saturating
	r1, r2 float64 // the previous two departures (r1 the latest)
	s      float64 // the smoothed departure (clipped readings)
	level  float64 // the usual departure: the offset from the siblings
	vr     float64 // variance of one departure around level
	vs     float64 // variance of s around level
	run    uint16  // rounds in a row departing (firing: back)
	firing bool
}

// sdr returns the noise standard deviation of one departure, at least
// MinNoise.
func (st *stat) sdr(c *Config) float64 { return max(math.Sqrt(st.vr), c.MinNoise) }

// sds returns the standard deviation of the smoothed departure: what the
// learned variance says, and at least what MinNoise gives for white noise.
func (st *stat) sds(c *Config) float64 {
	a := 1 / float64(c.Smooth)
	return max(math.Sqrt(st.vs), c.MinNoise*math.Sqrt(a/(2-a)))
}

// Event is what a round did to a member's alert.
type Event uint8

// Events of a member.
const (
	NoEvent  Event = iota
	Fired          // Run rounds in a row below the usual offset by Sigmas
	Resolved       // Clear rounds in a row back within Sigmas/2
)

// update judges one departure r; hold (a sibling fires) keeps the usual
// departure and the noise as they are.
func (st *stat) update(c *Config, r float64, hold bool) Event {
	if st.n < math.MaxUint32 {
		st.n++
	}
	warm := int(st.n) > c.Warmup
	if st.n == 1 {
		st.s, st.level = r, r
	}
	x := r
	if st.n >= 3 {
		x = median3(st.r2, st.r1, r) // one sibling's spike moves nothing
	}
	st.r2, st.r1 = st.r1, r
	if warm {
		lim := c.Clip * st.sdr(c)
		x = min(max(x, st.level-lim), st.level+lim)
	}
	st.s += (x - st.s) / float64(c.Smooth)
	if !warm {
		st.learn(c, r, x, 1/float64(st.n))
		return NoEvent
	}
	d := st.s - st.level
	sd := st.sds(c)
	if st.firing {
		st.run = next(st.run, d > -c.Sigmas/2*sd)
		if int(st.run) >= c.Clear {
			st.firing, st.run = false, 0
			return Resolved
		}
		return NoEvent
	}
	st.run = next(st.run, d < -c.Sigmas*sd)
	if int(st.run) >= c.Run {
		st.firing, st.run = true, 0
		return Fired
	}
	if !hold && d > -c.Sigmas/3*sd {
		// Not learned once a third of the way to firing, on the bad
		// side: a slow wear neither drags the usual departure along
		// nor widens the band it must leave. Nor while a sibling
		// fires: the others' departures then mirror its wear.
		st.learn(c, r, x, 0)
	}
	return NoEvent
}

// median3 returns the median of a, b and c.
func median3(a, b, c float64) float64 {
	return max(min(a, b), min(max(a, b), c))
}

// next returns run+1 when ok, else 0.
func next(run uint16, ok bool) uint16 {
	if !ok {
		return 0
	}
	return min(run+1, math.MaxUint16)
}

// learn moves the usual offset towards the clipped departure x and the
// noise estimates towards r's and the smoothed departure's, with weight
// w: 1/n during the warm-up (running means), 0 after it for the rule's
// time constants. The smoothed departure's variance is learned once it
// has settled (after 2·Smooth rounds). After the warm-up a deviation
// counts at most 3 standard deviations, so a wear that has not yet fired
// does not widen the band it must leave.
func (st *stat) learn(c *Config, r, x, w float64) {
	warm := w == 0
	wl, wm := w, w
	dr2 := (r - st.level) * (r - st.level)
	if warm {
		wl, wm = 1/float64(c.Level), 1/float64(c.Memory)
		sd := st.sdr(c)
		dr2 = min(dr2, 9*sd*sd)
	}
	st.level += (x - st.level) * wl
	st.vr += (dr2 - st.vr) * wm
	if int(st.n) <= 2*c.Smooth {
		return
	}
	if !warm {
		wm = 1 / float64(int(st.n)-2*c.Smooth)
	}
	ds2 := (st.s - st.level) * (st.s - st.level)
	if warm {
		sd := st.sds(c)
		ds2 = min(ds2, 9*sd*sd)
	}
	st.vs += (ds2 - st.vs) * wm
}
