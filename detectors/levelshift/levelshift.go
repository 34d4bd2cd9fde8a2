// Package levelshift detects order-of-magnitude level changes of a series
// on a ratio scale (never negative: a counter rate, a packet or byte
// gauge): a series that carried traffic and drops to near zero, or a rate
// that jumps by Ratio or more. It works in log space, so its rules are
// scale-free: the same configuration fits a management port at 1 kb/s and
// a core link at 100 Gb/s.
//
// The detector keeps the series' carrying level (an exponentially weighted
// mean of log x over the points within the band, Ratio either side) and the
// series' own spread around it (the mean absolute log deviation). A run of
// Confirm points outside the band fires a shift, however few points the
// series has shown (MinPoints), unless the series' own spread is too wide
// for an order of magnitude to mean anything (Spread): a bursty error
// counter that is zero most of the time never fires. A shift ends when
// Clear points are back in the band, so the same event fires again each
// time it happens: there is no record to beat.
//
// Points outside the band never move the level, so an outage does not
// become the baseline; a shift to a positive level that lasts Accept
// points becomes the new level, but the highest carrying level is
// remembered, and a rise from an accepted idle level back to within Ratio
// of it is a return, not a shift. A level the series walks down to point
// by point within the band (a link's night) is its own: the carrying
// level follows it down, within √Ratio of it. A point's verdict depends
// only on the points up to it.
package levelshift

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultRatio     = 10
	DefaultAlpha     = 0.05
	DefaultConfirm   = 2
	DefaultClear     = 2
	DefaultMinPoints = 5
	DefaultSpread    = 0.3
	DefaultAccept    = 360
	// DefaultMinEvents is the least number of events a series with an
	// EventSize must have been expected to show over a run below its band
	// for the run to fire: a Poisson source at the level shows none over
	// it with a chance of e^-14 ≈ 8·10^-7.
	DefaultMinEvents = 14
)

// Config configures a Detector. The zero value is the default.
type Config struct {
	// Ratio is the factor of a shift: a point below level/Ratio or above
	// level×Ratio is outside the band. Default DefaultRatio (an order of
	// magnitude).
	Ratio float64 `yaml:"ratio"`
	// Alpha is the weight of a point in the carrying level and spread (in
	// log space). Default DefaultAlpha (about 20 points of memory).
	Alpha float64 `yaml:"alpha"`
	// Confirm is the number of points outside the band in a row that fire
	// a shift. Default DefaultConfirm.
	Confirm int `yaml:"confirm"`
	// Clear is the number of points back in the band in a row that end a
	// shift. Default DefaultClear.
	Clear int `yaml:"clear"`
	// MinPoints is the number of points in the band (after the first
	// positive one) before a shift can fire. Default DefaultMinPoints.
	MinPoints int `yaml:"min_points"`
	// Spread is the widest spread of the series, as a share of log(Ratio),
	// at which shifts fire: the spread is the exponentially weighted mean
	// absolute log deviation from the level (bias-corrected, so a young
	// series' spread is the mean of what it has shown, not near 0), where a
	// point outside the band that did not fire a shift, and each of the
	// Confirm points of a shift that ended, count as 2·log(Ratio) (the
	// latter weighted as in a series of any age, so that one shift alone
	// never silences a young series). Default DefaultSpread.
	Spread float64 `yaml:"spread"`
	// Accept is the number of points of a shift to a positive level after
	// which that level becomes the series' level (the shift ends). A shift
	// to zero never does. Default DefaultAccept.
	Accept int `yaml:"accept"`
	// EventSize, when positive, is how much of the series one event is at
	// most, for a series that counts events (a counter's rate per second:
	// 1 for packets, 1500 for bytes, a frame being at most that): a run
	// below the band fires only once the events expected at the level over
	// the run (level × the run's seconds ÷ EventSize) are at least
	// MinEvents, so a port that carries a few packets an interval does not
	// fire on the intervals that happen to carry none, while a link that
	// carried traffic fires after Confirm points as before. 0 (the
	// default) or negative: off. Needs the points' times (UpdateAt).
	EventSize float64 `yaml:"event_size"`
	// MinEvents is the events expected over a run below the band before it
	// fires (with EventSize), positive and below 10^6. Default
	// DefaultMinEvents.
	MinEvents float64 `yaml:"min_events"`
}

// maxMinEvents bounds Config.MinEvents.
const maxMinEvents = 1e6

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Ratio, DefaultRatio)
	cfgcheck.Default(&c.Alpha, DefaultAlpha)
	cfgcheck.Default(&c.Confirm, DefaultConfirm)
	cfgcheck.Default(&c.Clear, DefaultClear)
	cfgcheck.Default(&c.MinPoints, DefaultMinPoints)
	cfgcheck.Default(&c.Spread, DefaultSpread)
	cfgcheck.Default(&c.Accept, DefaultAccept)
	cfgcheck.Default(&c.MinEvents, DefaultMinEvents)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	c = c.WithDefaults()
	return cfgcheck.First(
		cfgcheck.Check(!(c.Ratio > 1 && c.Ratio < 1e12), "ratio: %v must be above 1", c.Ratio),
		cfgcheck.Fraction("alpha", c.Alpha),
		cfgcheck.Check(c.Confirm < 1 || c.Clear < 1 || c.MinPoints < 1, "confirm, clear and min_points must be at least 1 (got %d, %d, %d)", c.Confirm, c.Clear, c.MinPoints),
		cfgcheck.Check(!(c.Spread > 0), "spread: %v must be positive", c.Spread),
		cfgcheck.Check(c.Accept < c.Confirm, "accept: %d must not be below confirm (%d)", c.Accept, c.Confirm),
		cfgcheck.Check(math.IsNaN(c.EventSize) || math.IsInf(c.EventSize, 0), "event_size: %v must be a number", c.EventSize),
		cfgcheck.Check(!(c.MinEvents > 0 && c.MinEvents < maxMinEvents), "min_events: %v must be positive and below %g", c.MinEvents, maxMinEvents),
	)
}

// Detector is the level-shift detector of one series. It is not safe for
// concurrent use.
type Detector struct {
	cfg     Config
	lnR     float64 // log(Ratio)
	level   float64 // log of the carrying level
	carry   float64 // the highest level held (log), within √Ratio of a level walked down in the band
	dev     float64 // mean absolute log deviation from the level, weighted from 0
	wdev    float64 // the weight dev has accumulated, 1 − (1−Alpha)^updates: dev/wdev is the spread
	n       uint64  // points in the band, the first positive one included
	run     int32   // points outside the band in a row
	dir     int8    // the run's side: -1 below, +1 above
	calm    int32   // points back in the band in a row during a shift
	shifted bool    // a shift fired and has not ended
	off     bool    // a negative value was seen: not on a ratio scale
	lastTS  int64   // the previous point's time (UpdateAt), 0 when unknown
	// idle counts the points at zero before the first positive one (and
	// after a burst ended, see idleAgain): how long the series sat idle.
	idle uint64
	// expLevel is math.Exp(expAt), kept for the band's fields (Band):
	// the level does not move on points outside the band (a quiet
	// counter's zeros), and the exponential was most of their cost. Not
	// state: 0 (never an exponential the band keeps, as it recomputes on 0)
	// until the first point.
	expAt, expLevel float64
}

// New returns a detector with the configuration c (zero fields take
// their defaults).
func New(c Config) (*Detector, error) {
	d := new(Detector)
	if err := Init(d, c); err != nil {
		return nil, err
	}
	return d, nil
}

// Init sets *d to a new detector of c, as New returns, or returns the
// first bad field: a caller that keeps detectors in a larger struct (the
// ensemble's per-series block) builds one in place.
func Init(d *Detector, c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("levelshift: %w", err)
	}
	c = c.WithDefaults()
	*d = Detector{cfg: c, lnR: math.Log(c.Ratio)}
	return nil
}

// Score is a detector's verdict on one point.
type Score struct {
	// Side is -1 when the point is below the band, +1 above, 0 within.
	Side int8
	// Fire is true on the point that confirms a shift; Back on the point
	// that ends one (the series is back in the band, or its new positive
	// level was accepted: Accepted too); Shifted while a shift is on (Fire
	// included, Back excluded).
	Fire, Back, Accepted, Shifted bool
	// Expected is the carrying level; Lower and Upper the band's ends,
	// Ratio either side (a point within the margin of an end counts as
	// outside already: Edge).
	Expected, Lower, Upper float64
	// Strength is |log(x/Expected)| / log(Ratio), at most 4 (4 for a
	// point at or below zero): 1 at exactly one Ratio off.
	Strength float64
	// Edge is how far from the level, as a share of log(Ratio), the
	// point counts as outside the band: 1 until the level is
	// established, then 0.75–1 (see edge). A point at Strength Edge or
	// more is outside (Side).
	Edge float64
	// WarmedUp is true when a shift can fire: a level is known from
	// MinPoints points and the series' spread is within Spread.
	WarmedUp bool

	// lean is set by UpdateLean on a point whose band fields (Expected,
	// Lower, Upper, Strength, Edge) it left for Band to set, from the log
	// level the point was judged against, its log and the edge; above is
	// for Below.
	lean                 bool
	lvl, lx, edge, above float64
}

// maxStrength caps Score.Strength (a point at zero is infinitely far in
// log space).
const maxStrength = 4

// Update scores x and learns it. NaN and infinite values are ignored. A
// negative value turns the detector off for good (the series is not on a
// ratio scale); a shift that was on ends with it.
func (d *Detector) Update(x float64) Score {
	var s Score
	d.UpdateInto(x, &s)
	return s
}

// UpdateInto is Update filling *s (which must be the zero Score) in place:
// a Score returned by value and copied was a store-forwarding stall on
// every point of the ensemble.
func (d *Detector) UpdateInto(x float64, s *Score) { d.UpdateAt(0, x, s) }

// UpdateAt is UpdateInto for a point at ts (Unix ns), which EventSize
// needs (a detector without one ignores ts); ts 0 is unknown. A point not
// after the latest one adds no time to a run.
func (d *Detector) UpdateAt(ts int64, x float64, s *Score) { d.UpdateUnit(ts, x, 0, s) }

// UpdateUnit is UpdateAt for a point of a series reported in units of
// unit (a gauge read in whole numbers: 1; 0 or negative: unknown, as
// UpdateAt): such a reading cannot tell a level of a unit or two from 0
// (a rate of 0.4 reads 0), so a run below the band fires only once the
// level in units times the run's points is at least MinEvents, as if
// each point at the level showed one event per unit. A level of 14 units
// or more fires after Confirm points as before; 1 unit after 14 points.
// The unit is the caller's judgement of this point, not state.
func (d *Detector) UpdateUnit(ts int64, x, unit float64, s *Score) { d.update(ts, x, unit, s, false) }

// UpdateLean is UpdateUnit for a caller that reads the band's fields
// (Expected, Lower, Upper, Strength, Edge) on few points: it leaves them
// zero, for Band to set as UpdateUnit does, bit for bit, until the
// detector's next update; Below tells whether a value is below the band
// without them on most points. They take an exponential whenever the
// level moved (every point in the band) and three divisions.
func (d *Detector) UpdateLean(ts int64, x, unit float64, s *Score) { d.update(ts, x, unit, s, true) }

// Band sets the band's fields of a Score that UpdateLean left without
// them (a Score of UpdateUnit has them already, and one of a point that
// had none keeps them zero).
func (d *Detector) Band(s *Score) {
	if s.lean {
		d.band(s, s.lvl, s.lx, s.edge)
		s.lean, s.lvl, s.lx, s.edge, s.above = false, 0, 0, 0, 0
	}
}

// band sets the band's fields of a point of log lx judged against the
// log level lvl and the edge.
func (d *Detector) band(s *Score, lvl, lx, edge float64) {
	e := d.expLevel
	if lvl != d.expAt || e == 0 {
		e = math.Exp(lvl)
		d.expAt, d.expLevel = lvl, e
	}
	s.Expected = e
	s.Lower = e / d.cfg.Ratio
	s.Upper = e * d.cfg.Ratio
	s.Strength = min(math.Abs(lx-lvl)/d.lnR, maxStrength)
	s.Edge = edge / d.lnR
}

// Below reports whether v is below the lower end of s's band, the level
// positive: s.Expected > 0 && v < s.Lower once the fields are set (Band).
// Of a Score of UpdateLean it sets them only when v·Ratio is not above
// the bound UpdateLean left (above): most points are well above the
// band's end, which then takes no exponential and, inlined, no call.
func (d *Detector) Below(s *Score, v float64) bool {
	return !(s.lean && v*d.cfg.Ratio > s.above) && d.below(s, v)
}

// below is Below with the band's fields set; kept out of line, so that
// Below is inlined.
//
//go:noinline
func (d *Detector) below(s *Score, v float64) bool {
	d.Band(s)
	return s.Expected > 0 && v < s.Lower
}

// update is UpdateUnit, or with lean UpdateLean.
func (d *Detector) update(ts int64, x, unit float64, s *Score, lean bool) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	dt := -1.0 // seconds since the latest point before; -1 when unknown
	if d.cfg.EventSize > 0 {
		// Only the event size reads the time: a detector without one keeps
		// none and writes the version 2 record.
		if ts != 0 && d.lastTS != 0 {
			dt = max(0, float64(ts-d.lastTS)/1e9) // a repeat or a point out of order adds no time
		}
		d.lastTS = max(d.lastTS, ts)
	}
	if x < 0 && !d.off {
		d.off = true
		s.Back = d.shifted
		d.shifted, d.run, d.calm = false, 0, 0
		return
	}
	if d.off {
		return
	}
	lx := math.Log(x) // -Inf at 0
	side := int8(0)
	edge := d.lnR
	// The first positive point, and one that restarts the candidate
	// level, are judged against a level that is not established: the
	// band's fields only.
	candidate := d.n == 0
	if candidate {
		if !(x > 0) {
			if x == 0 {
				d.idle++
			}
			return
		}
		d.level, d.carry, d.n = lx, lx, 1
	} else if x == 0 && d.burst() {
		d.idleAgain(s)
		return
	} else {
		edge = d.edge()
		switch dl := lx - d.level; {
		case dl <= -edge:
			side = -1
		case dl >= edge:
			side = 1
			if d.carry-d.level >= d.lnR && math.Abs(lx-d.carry) < d.lnR {
				// Back from an accepted idle level to within Ratio of the
				// carrying level: a return, not a shift.
				d.level, side = lx, 0
			}
		}
		if side != 0 && !d.Established() && !math.IsInf(lx, -1) {
			d.restartCandidate(lx)
			edge, side, candidate = d.lnR, 0, true
		}
	}
	// The band's fields depend on the level and the edge the point was
	// judged against only (Band).
	if lean {
		s.lean, s.lvl, s.lx, s.edge = true, d.level, lx, edge
		// A bound above Ratio times the band's lower end, for Below: the
		// last exponential of the level taken (e), grown by the level's
		// move δ since (e^δ ≤ 1 + δ + δ² below δ = 1.79), with a margin
		// of a billionth, far above the rounding of the exponential, the
		// products and the division (a few parts in 10^16). A value v
		// with v·Ratio above it is above the band's end however they
		// round. None (+Inf) after a move of 1 or more.
		s.above = math.Inf(1)
		if e, dl := d.expLevel, d.level-d.expAt; e > 0 && dl < 1 {
			s.above = e * (1 + max(dl, 0)*(1+dl)) * (1 + 1e-9)
		}
	} else {
		d.band(s, d.level, lx, edge)
	}
	s.WarmedUp = d.warm()
	if candidate {
		return
	}
	s.Side = side
	if side == 0 {
		d.inBand(lx, s)
	} else {
		d.outside(x, lx, side, dt, unit, s)
	}
	s.Shifted = d.shifted
}

// burst reports whether the series' positive level is a burst of an idle
// series: held for fewer than Accept points after Accept points or more at
// zero before it. Accept points make a level the series' own, as they make
// a shift's level (outside); so they make idleness its own. A port idle
// for a week that carries traffic for five minutes is idle again when the
// traffic stops, not down; one idle for 40 minutes from a cold start that
// then carries traffic is not idle by habit, and its failure fires.
func (d *Detector) burst() bool {
	accept := uint64(d.cfg.Accept)
	return d.n < accept && d.idle >= accept
}

// idleAgain takes the series back to idle at a point at zero that ends a
// burst: the level is forgotten, as before the first positive point (the
// next one is a candidate again), a shift the burst fired ends, and the
// point counts as idle.
func (d *Detector) idleAgain(s *Score) {
	s.Back = d.shifted
	d.level, d.carry, d.n = 0, 0, 0
	d.run, d.dir, d.calm, d.shifted = 0, 0, 0, false
	d.idle++
}

// edge returns how far from the level, in log space, a point is outside
// the band: log(Ratio), less a margin once the level is established, so
// that a shift by exactly Ratio, whose points scatter around Ratio with the
// series' noise, is outside at every point and fires after Confirm of
// them (at log(Ratio) itself, half of them would be inside, and each
// would pull the level towards the shift). The margin is a tenth of
// log(Ratio) (×7.9 at the default Ratio of 10) plus twice the series'
// spread, at most a quarter of log(Ratio) (×5.6), but it never brings the
// edge within 4 spreads of the level (about 3.2 sigmas of log-normal
// noise): on a series that noisy (a bursty access port, 60 % noise and
// more) a pair of points beyond a lowered edge is its noise, not a shift,
// and the edge stays at up to log(Ratio).
func (d *Detector) edge() float64 {
	if !d.Established() || d.wdev == 0 {
		return d.lnR
	}
	spread := d.dev / d.wdev
	return max(d.lnR-min(d.lnR/10+2*spread, d.lnR/4), min(4*spread, d.lnR))
}

func (d *Detector) warm() bool {
	return d.n >= uint64(d.cfg.MinPoints) && d.dev <= d.cfg.Spread*d.lnR*d.wdev
}

// inBand learns a point within the band and counts it towards the end of
// a shift.
func (d *Detector) inBand(lx float64, s *Score) {
	if d.run > 0 && !d.shifted {
		// A run outside the band that fired nothing counts in the spread
		// as 2·log(Ratio) per point.
		d.spread(int(d.run))
	}
	d.run, d.dir = 0, 0
	a := d.cfg.Alpha
	dl := lx - d.level
	own := d.carry-d.level < d.lnR // the level is the series' own, not an accepted idle one
	d.level += a * dl
	d.dev += a * (math.Abs(dl) - d.dev)
	d.wdev += a * (1 - d.wdev)
	d.carry = max(d.carry, d.level)
	if own {
		// A level walked down point by point within the band (a link's
		// night, a twentieth of its day) is the series' own: the carrying
		// level follows it, within √Ratio, so only a level accepted after
		// a shift (outside) makes a rise a return. A jump at night is a
		// shift, and the night after it no drop.
		d.carry = min(d.carry, d.level+d.lnR/2)
	}
	d.n++
	if d.shifted {
		d.calm++
		if int(d.calm) >= d.cfg.Clear {
			d.shifted, d.calm, s.Back = false, 0, true
			// A shift that ends counts its Confirm points in the spread:
			// a series that keeps shifting on its own (a quiet port with
			// bursts of a few bytes) stops firing, while shifts far apart
			// (the spread decays by Alpha per point) each fire.
			d.shiftEnded(d.cfg.Confirm)
		}
	}
}

// spread counts k points outside the band in the spread, each as
// 2·log(Ratio).
func (d *Detector) spread(k int) {
	c := 2 * d.lnR
	f := math.Pow(1-d.cfg.Alpha, float64(k))
	d.dev = c + (d.dev-c)*f
	d.wdev = 1 + (d.wdev-1)*f
}

// shiftEnded counts the k points of a shift that ended in the spread, each
// as 2·log(Ratio), weighted as in a series of any age: the bias-corrected
// spread becomes f·spread + (1−f)·2·log(Ratio), f = (1−Alpha)^k, so one
// shift that ended raises it by at most 2·(1−f)·log(Ratio) (0.195 at the
// defaults, below Spread) and only shifts that recur silence the series.
// Counted as k more points of a young series (spread), one shift would
// silence it on its own for a while: a series is young for its first
// 1/Alpha points, which are minutes at a 5 s cadence but 20 minutes at
// 60 s and after every cold start, so a link's second failure soon after
// the first fired or not by the sampling interval.
func (d *Detector) shiftEnded(k int) {
	f := math.Pow(1-d.cfg.Alpha, float64(k))
	d.dev = f*d.dev + (1-f)*2*d.lnR*d.wdev
}

// outside counts a point outside the band: it fires a shift after
// Confirm of them, and a positive level held for Accept points becomes
// the level.
func (d *Detector) outside(x, lx float64, side int8, dt, unit float64, s *Score) {
	if side != d.dir {
		d.run, d.dir = 0, side
	}
	d.run++
	d.calm = 0
	if !d.shifted && int(d.run) >= d.cfg.Confirm && s.WarmedUp && (side > 0 || d.expectedEvents(dt) && d.expectedUnits(unit)) {
		d.shifted, s.Fire = true, true
	}
	if int(d.run) >= d.cfg.Accept && x > 0 {
		d.level, d.run, d.dir = lx, 0, 0
		d.carry = max(d.carry, d.level)
		if d.shifted {
			d.shifted, s.Back, s.Accepted = false, true, true
		}
	}
}

// expectedEvents reports whether the run below the band, its points dt
// seconds apart, was expected to show at least MinEvents events at the
// level: always without an EventSize, or when dt is unknown (negative).
func (d *Detector) expectedEvents(dt float64) bool {
	if d.cfg.EventSize <= 0 || dt < 0 {
		return true
	}
	return math.Exp(d.level)*dt*float64(d.run)/d.cfg.EventSize >= d.cfg.MinEvents
}

// expectedUnits reports whether the run below the band of a series read
// in units of unit was at least MinEvents units at the level (the level
// in units times the run's points): always when unit is not positive.
func (d *Detector) expectedUnits(unit float64) bool {
	return unit <= 0 || math.Exp(d.level)/unit*float64(d.run) >= d.cfg.MinEvents
}

// Shifted reports whether a shift is on.
func (d *Detector) Shifted() bool { return d.shifted }

// StateBytes is the detector's memory in bytes.
func (d *Detector) StateBytes() int { return 72 }
