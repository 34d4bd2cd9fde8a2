// Package ensemble combines telekernel's univariate detectors on one series
// into one calibrated anomaly score in [0, 1], an expected value and band,
// the list of detectors that fired, a severity, and firing/resolved alert
// transitions with hysteresis, so one incident is one alert.
//
// Each member detector produces a raw score (|z| for the z-score
// detectors, the normalised statistic for CUSUM, the mass score of the
// forest). Each raw score is calibrated against that detector's own
// history on this series (package likelihood's Record: the ratio to the
// member's recent record), which makes the members comparable and one
// threshold fit every series; the ensemble score maps the largest ratio r
// to r/(1+r) in [0, 1). The level_shift member (package levelshift) is
// not calibrated: an order-of-magnitude change of a ratio-scale series
// fires and resolves an alert on its own verdict, every time it happens.
//
// Everything is computed from the points seen so far: a score never
// changes when later points arrive.
package ensemble

import (
	"fmt"
	"math"
	"slices"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/changepoint"
	"github.com/telekernel/telekernel/detectors/density"
	"github.com/telekernel/telekernel/detectors/ewma"
	"github.com/telekernel/telekernel/detectors/hst"
	"github.com/telekernel/telekernel/detectors/levelshift"
	"github.com/telekernel/telekernel/detectors/likelihood"
	"github.com/telekernel/telekernel/detectors/rangebreak"
	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/detectors/seasonal"
	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Member identifies a member detector; a Mask is a set of members.
type Member uint8

// Members, in the order of their bits in a Mask.
const (
	RobustZ Member = iota
	EWMA
	Seasonal
	CUSUM
	Forest
	// LevelShift is not calibrated against a record: it fires and resolves
	// an alert on its own verdict (see Config.LevelShift).
	LevelShift
	// RangeBreak is not calibrated either: a point beyond every level the
	// series has visited fires an alert at once (see Config.RangeBreak).
	RangeBreak
	// Density is not calibrated either: excursions coming closer together
	// than they ever have fire an alert (see Config.Density).
	Density
	numMembers
)

var memberNames = [numMembers]string{"robust_z", "ewma", "seasonal", "cusum", "forest", "level_shift", "range_break", "density"}

// String returns the member's name as used in configs and detections.
func (m Member) String() string {
	if m < numMembers {
		return memberNames[m]
	}
	return fmt.Sprintf("member(%d)", m)
}

// ParseMember returns the member named s.
func ParseMember(s string) (Member, error) {
	for i, n := range memberNames {
		if n == s {
			return Member(i), nil
		}
	}
	return 0, fmt.Errorf("unknown detector %q (known: robust_z, ewma, seasonal, cusum, forest, level_shift, range_break, density)", s)
}

// Mask is a set of members.
type Mask uint16

// Has reports whether m is in the set.
func (k Mask) Has(m Member) bool { return k&(1<<m) != 0 }

// Names appends the names of the members in the set to dst.
func (k Mask) Names(dst []string) []string {
	for m := Member(0); m < numMembers; m++ {
		if k.Has(m) {
			dst = append(dst, m.String())
		}
	}
	return dst
}

// Transition is what an update did to the alert: package alert's, whose
// hysteresis the ensemble drives.
type Transition = alert.Transition

// Transitions of Result.
const (
	None     = alert.None
	Fired    = alert.Fired
	Resolved = alert.Resolved
)

// Result is the ensemble's verdict on one point. It holds no references
// into the ensemble and allocates nothing.
type Result struct {
	// Score is the calibrated anomaly score in [0, 1): r/(1+r), where r is
	// the largest ratio of a member's raw score to that member's recent
	// record on this series (both as log(1 + raw)). 0.5 means a member
	// equals its record; the default firing threshold is 1.1 × the record.
	Score float64
	// Expected is the baseline's expected value for the point; Lower and
	// Upper the band outside which it would be an anomaly.
	Expected, Lower, Upper float64
	// Fired is the set of members whose own calibrated score reached the
	// firing threshold on this point; Top the member with the largest.
	Fired Mask
	Top   Member
	// Transition is Fired on the point that started an alert and Resolved
	// on the one that ended it; Firing is true while the alert is on.
	Transition Transition
	Firing     bool
	// Cause is, on the Fired transition, the members that reached the
	// firing threshold in the run of points that started the alert (with
	// Config.MinZ, the run can be longer than this point); CauseTop the
	// member with the largest score in it. Both are zero on other points.
	Cause    Mask
	CauseTop Member
	// Peak is the largest score of the current (or just resolved) alert.
	Peak float64
	// Z is the point's distance from Expected in baseline standard
	// deviations (the band is Expected ± BandZ of them); +Inf when the
	// baseline has no spread and the point is off it. Where the seasonal
	// profile gives Expected, the deviation is that of the point's place
	// in its bin's visit (seasonal.Score.Visit: at a visit's first
	// readings the profile is still the previous period's, off today's by
	// the day-to-day difference) when that is the larger, unless the point
	// is MinZ or more off the series' recent points (the robust baseline):
	// a reading in line with the last minutes is no event for differing
	// from yesterday's by a day's difference, and a jump keeps the
	// narrower band.
	Z float64
	// WarmedUp is false while the members are still learning.
	WarmedUp bool
}

// Severity grades a score with alert.Grade against the configuration's
// thresholds: critical at or above Critical, warning at or above Fire, info
// below.
func (c *Config) Severity(score float64) string { return alert.Grade(score, c.Fire, c.Critical) }

// Defaults of Config.
const (
	DefaultFire     = 0.525 // a member at 1.1 × its record
	DefaultResolve  = 0.5   // below the record
	DefaultCritical = 0.6   // 1.5 × the record
	DefaultConfirm  = 1
	DefaultClear    = 3
	// DefaultRobustWindow is the ensemble's robust z-score window, longer
	// than robustz's own default: the ensemble's baseline should span
	// hours to days of points.
	DefaultRobustWindow = 480
	// DefaultForestShingle is the ensemble forest's shingle: shapes of
	// four points (the forest's own default is two).
	DefaultForestShingle = 4
	DefaultCooldown      = 100
	// DefaultSeasonalStrength is the share of the variance the seasonal
	// profile must explain before it is used as the baseline.
	DefaultSeasonalStrength = 0.5
	DefaultBandZ            = 4.0
)

// DefaultDetectors are the members of the default ensemble: the
// statistical ones. The forest is opt-in: it keeps about 33 KB per series
// and scores about 0.4 µs per point, and on the NAB subset the ensemble
// scores higher without it (see the README).
var DefaultDetectors = []string{"robust_z", "ewma", "seasonal", "cusum"}

// Config configures an Ensemble. The zero value is the default ensemble.
type Config struct {
	// Detectors lists the members used (robust_z, ewma, seasonal, cusum,
	// forest, level_shift, range_break, density). Default DefaultDetectors.
	Detectors []string `yaml:"detectors"`

	RobustZ  robustz.Config     `yaml:"robust_z"`
	EWMA     ewma.Config        `yaml:"ewma"`
	Seasonal seasonal.Config    `yaml:"seasonal"`
	CUSUM    changepoint.Config `yaml:"cusum"`
	Forest   hst.Config         `yaml:"forest"`
	// LevelShift configures the level_shift member: an order-of-magnitude
	// change of a series on a ratio scale (a drop to near zero, a jump by
	// its ratio) fires an alert after its confirm points and resolves it
	// when the series is back, every time it happens and from the series'
	// first points: no record to beat, no calibration warm-up, no
	// cooldown. While the point is within its band around the carrying
	// level and the other members' baseline lies below that band (they
	// learned an idle stretch), their alerts are vetoed: traffic coming
	// back is not an anomaly.
	LevelShift levelshift.Config `yaml:"level_shift"`
	// RangeBreak configures the range_break member: after its warm-up
	// fixes a grid of levels, a point beyond every level the series has
	// ever visited (a new extreme) fires an alert on that point, with the
	// gate's resolution; it does not fire while an alert is on or within
	// Cooldown points of the previous onset. With the gate (MinZ) a break
	// fires when the point is at least MinZ off the baseline, or, at any
	// distance, when it is calm (at least RangeBreak.Calm points after the
	// previous break) on a series that has shown a full seasonal period
	// (Seasonal.Period of timestamps): the range a series visits in its
	// period is then known, and leaving it after a calm is the event
	// however wide the baseline's spread, once the point is beyond the
	// band's floor (robust_z's min_mad and min_mad_fraction of
	// |expected|, over MADScale; a unit with WholeUnits): a gauge that
	// creeps (memory used) breaks a narrow grid by a few parts in a
	// thousand, which is no incident. On such a series a far break
	// (rangebreak.Score.Far: a run of breaks that took the series the
	// width of its visited range beyond it, and each doubling of that)
	// fires the same way when that distance is beyond the floor: a
	// memory leak or a temperature climbing, point by point, while the
	// baselines follow it.
	RangeBreak rangebreak.Config `yaml:"range_break"`
	// Density configures the density member: an excursion (a point off
	// the series' recent points, the robust baseline, by MinZ of its
	// sigmas, or BandZ without the gate; on Direction's side) whose onset
	// makes the last Density.Onsets onsets Density.Tighter times closer
	// together than any before fires an alert, with the gate's
	// resolution, whatever the excursion's size and even where level_shift
	// vetoes it: error bursts coming every few minutes on a link where
	// they came twice a day. Not within Cooldown points of the previous
	// onset, nor while an alert is on (package density).
	Density density.Config `yaml:"density"`
	// Calibration turns each member's raw score into the ratio to its
	// own recent record on this series.
	Calibration likelihood.RecordConfig `yaml:"calibration"`

	// SeasonalStrength is the share of the variance (0..1) that the
	// seasonal profile must explain before the seasonal member scores and
	// provides the expected value. Default DefaultSeasonalStrength.
	SeasonalStrength float64 `yaml:"seasonal_strength"`
	// BandZ is the half-width of the reported band in baseline standard
	// deviations. Default DefaultBandZ.
	BandZ float64 `yaml:"band_z"`

	// Fire is the score at which an alert fires (after Confirm points);
	// Resolve the score below which it resolves (after Clear points);
	// Critical the score graded critical. Defaults DefaultFire,
	// DefaultResolve, DefaultCritical.
	Fire     float64 `yaml:"fire"`
	Resolve  float64 `yaml:"resolve"`
	Critical float64 `yaml:"critical"`
	Confirm  int     `yaml:"confirm"`
	Clear    int     `yaml:"clear"`
	// Cooldown is the least number of points between two alert onsets of
	// the series, so a long or repeating incident is one alert. With the
	// repeat rule's memory (Repeat), a run at least CooldownBreak times as
	// far off as the alert that began the cooldown is news, not the same
	// incident, and fires within it. Default DefaultCooldown.
	Cooldown int `yaml:"cooldown"`

	// MinZ, when positive, gates alerts on the baseline as well as on the
	// score: an alert fires only on points at least MinZ baseline standard
	// deviations from the expected value (Result.Z), and it resolves after
	// Clear points below ResolveZ, whatever the score (a record-relative
	// score can dip in the middle of a long incident). 0, the default,
	// fires and resolves on the score alone. Operators want the gate: a
	// record broken by a small margin on a calm series is not an incident.
	MinZ float64 `yaml:"min_z"`
	// SpikeZ, when positive (and with MinZ), fires a point at least SpikeZ
	// baseline standard deviations from the expected value that breaks a
	// record without waiting for Confirm points: a reading that far off is
	// the event even if it lasts one point. 0, the default, always waits
	// for Confirm.
	SpikeZ float64 `yaml:"spike_z"`
	// ResolveZ is the deviation below which a gated alert counts a point
	// as calm. Default min(DefaultResolveZ, MinZ/2); used only with MinZ.
	ResolveZ float64 `yaml:"resolve_z"`
	// Hold is, with MinZ, the most points of a firing alert (points still
	// ResolveZ or more from the expected value) kept out of the baselines
	// that give the expected value (robust and seasonal), so an incident
	// does not become the new normal halfway through and fire again when
	// it ends; after Hold points the new level is accepted. An alert that
	// fires in a seasonal bin whose latest value was held out (the bin
	// keeps an older period's value while its neighbours learned the
	// last one) is the echo of that hold, not an incident: its points
	// within ResolveZ of the robust baseline (the series' recent points)
	// join the baselines, so a day-level change (a weekend) is learned
	// instead of being held out, firing again in the same bins the next
	// day; those farther off stay out of the robust window and the
	// seasonal level but teach their bin (seasonal.Detector.Learn), so a
	// recurrence at that time (a daily job) fires twice, not every day.
	// Default 0: every point joins the baselines.
	Hold int `yaml:"hold"`
	// Repeat, with MinZ, keeps a series' habit from alerting: a run off the
	// baseline no farther off than each of the series' last Repeat.Count
	// alerts within Repeat.Window points does not fire (see RepeatConfig).
	// Off by default.
	Repeat RepeatConfig `yaml:"repeat"`
	// WholeUnits takes a series whose point and robust window (its last
	// RobustZ.Window points) are all whole numbers for one reported in
	// whole units (a gauge such as a CPU's percent, a temperature in
	// degrees, a rate in packets per second): such readings cannot tell
	// values less than a unit apart, so the baseline's sigma is at least 1
	// (a move of a unit or two is rounding, never MinZ off) and
	// level_shift's run below its band fires only once the level in units
	// times the run's points reaches its min_events (a level of 1 reads 0
	// now and then; levelshift.Detector.UpdateUnit). A series with a
	// fraction in its window is scored as without it. Off by default; the
	// detect stage turns it on for every gauge and never for a counter's
	// rate. Not a configuration setting (a series that is not in whole
	// units is scored as without it anyway), so a detectors: section that
	// names it is refused as an unknown field.
	WholeUnits bool `yaml:"-"`
	// Direction, with MinZ, is the side of the expected value on which the
	// series alerts: DirectionUp (a counter of errors or discards: a rise
	// is the fault, a fall, even to zero, is the fault clearing),
	// DirectionDown, or DirectionBoth. A point on the other side is not
	// off the baseline: it fires nothing (nor does level_shift's shift or
	// range_break's break there), counts as calm for a firing alert, and
	// joins the baselines. Default DirectionBoth; the detect stage sets
	// DirectionUp for the rates of counters of faults
	// (rate.FaultCounter) unless the section names a direction.
	Direction string `yaml:"direction"`
}

// Values of Config.Direction.
const (
	DirectionBoth = "both"
	DirectionUp   = "up"
	DirectionDown = "down"
)

// side returns Direction as a sign: +1 up, -1 down, 0 both.
func (c *Config) side() int8 {
	switch c.Direction {
	case DirectionUp:
		return 1
	case DirectionDown:
		return -1
	}
	return 0
}

// CooldownBreak is how many times as far off as the alert that began a
// cooldown a run must be to fire within it (Config.Cooldown): an order of
// magnitude, as level_shift's ratio.
const CooldownBreak = 10

// DefaultResolveZ is the default of Config.ResolveZ (capped at MinZ/2).
const DefaultResolveZ = 3.0

// WithDefaults returns c with zero fields set to their defaults, including
// the members' configs.
func (c Config) WithDefaults() Config {
	if c.Detectors == nil {
		c.Detectors = slices.Clone(DefaultDetectors)
	}
	cfgcheck.Default(&c.RobustZ.Window, DefaultRobustWindow)
	c.RobustZ = c.RobustZ.WithDefaults()
	c.EWMA = c.EWMA.WithDefaults()
	c.Seasonal = c.Seasonal.WithDefaults()
	c.CUSUM = c.CUSUM.WithDefaults()
	cfgcheck.Default(&c.Forest.Shingle, DefaultForestShingle)
	c.Forest = c.Forest.WithDefaults()
	c.LevelShift = c.LevelShift.WithDefaults()
	c.RangeBreak = c.RangeBreak.WithDefaults()
	c.Density = c.Density.WithDefaults()
	c.Calibration = c.Calibration.WithDefaults()
	cfgcheck.Default(&c.SeasonalStrength, DefaultSeasonalStrength)
	if c.BandZ == 0 {
		c.BandZ = DefaultBandZ
		if c.MinZ > 0 {
			// The band is where the gate lets no alert fire.
			c.BandZ = c.MinZ
		}
	}
	if c.ResolveZ == 0 && c.MinZ > 0 {
		c.ResolveZ = math.Min(DefaultResolveZ, c.MinZ/2)
	}
	cfgcheck.Default(&c.Fire, DefaultFire)
	cfgcheck.Default(&c.Resolve, math.Min(DefaultResolve, c.Fire*0.95))
	cfgcheck.Default(&c.Critical, math.Max(DefaultCritical, c.Fire))
	cfgcheck.Default(&c.Confirm, DefaultConfirm)
	cfgcheck.Default(&c.Clear, DefaultClear)
	cfgcheck.Default(&c.Cooldown, DefaultCooldown)
	cfgcheck.Default(&c.Direction, DirectionBoth)
	return c
}

// Validate reports the first bad field, with its path.
func (c Config) Validate() error {
	if _, err := c.mask(); err != nil {
		return fmt.Errorf("detectors: %w", err)
	}
	for _, v := range []struct {
		name string
		err  error
	}{
		{"robust_z", c.RobustZ.Validate()}, {"ewma", c.EWMA.Validate()}, {"seasonal", c.Seasonal.Validate()},
		{"cusum", c.CUSUM.Validate()}, {"forest", c.Forest.Validate()}, {"level_shift", c.LevelShift.Validate()},
		{"range_break", c.RangeBreak.Validate()}, {"density", c.Density.Validate()}, {"calibration", c.Calibration.Validate()},
		{"repeat", c.Repeat.Validate()},
	} {
		if v.err != nil {
			return fmt.Errorf("%s.%w", v.name, v.err)
		}
	}
	return cfgcheck.First(
		cfgcheck.Check(c.SeasonalStrength < 0 || c.SeasonalStrength > 1, "seasonal_strength: %v must be in [0, 1]", c.SeasonalStrength),
		cfgcheck.Positive("band_z", c.BandZ),
		cfgcheck.Check(!(c.Fire > 0 && c.Fire <= 1), "fire: %v must be in (0, 1]", c.Fire),
		cfgcheck.Check(!(c.Resolve > 0 && c.Resolve < c.Fire), "resolve: %v must be positive and below fire (%v)", c.Resolve, c.Fire),
		cfgcheck.Check(c.Critical < c.Fire, "critical: %v must not be below fire (%v)", c.Critical, c.Fire),
		cfgcheck.NonNegative("cooldown", c.Cooldown),
		cfgcheck.Check(c.Confirm < 1 || c.Clear < 1, "confirm and clear must be at least 1 (got %d, %d)", c.Confirm, c.Clear),
		cfgcheck.Check(c.MinZ < 0 || math.IsNaN(c.MinZ), "min_z: %v must not be negative", c.MinZ),
		cfgcheck.Check(c.MinZ > 0 && !(c.ResolveZ > 0 && c.ResolveZ < c.MinZ), "resolve_z: %v must be positive and below min_z (%v)", c.ResolveZ, c.MinZ),
		cfgcheck.Check(c.SpikeZ != 0 && !(c.MinZ > 0 && c.SpikeZ >= c.MinZ), "spike_z: %v needs min_z and must not be below it (%v)", c.SpikeZ, c.MinZ),
		cfgcheck.NonNegative("hold", c.Hold),
		cfgcheck.Check(c.Hold > 0 && c.MinZ == 0, "hold: %d needs min_z", c.Hold),
		cfgcheck.Check(c.Repeat.Count > 0 && c.MinZ == 0, "repeat.count: %d needs min_z", c.Repeat.Count),
		cfgcheck.Check(c.Direction != DirectionBoth && c.Direction != DirectionUp && c.Direction != DirectionDown,
			"direction: %q must be %s, %s or %s", c.Direction, DirectionUp, DirectionDown, DirectionBoth),
		cfgcheck.Check(c.Direction != DirectionBoth && c.MinZ == 0, "direction: %s needs min_z", c.Direction),
	)
}

func (c Config) mask() (Mask, error) {
	var k Mask
	for _, n := range c.Detectors {
		m, err := ParseMember(n)
		if err != nil {
			return 0, err
		}
		k |= 1 << m
	}
	if k == 0 {
		return 0, fmt.Errorf("no detector enabled")
	}
	return k, nil
}
