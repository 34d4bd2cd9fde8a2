package ensemble

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"

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
)

// Shared is what ensembles of one configuration share: the validated
// configuration and the forest structure. It is immutable and safe for
// concurrent use; build it once per configuration with NewShared.
type Shared struct {
	cfg    Config
	mask   Mask
	side   int8    // Config.Direction as a sign
	excZ   float64 // MinZ, or BandZ without the gate (excursion)
	flatG  float64 // the record of a flat series' robust z: BandZ as a log score (calibrate)
	forest *hst.Forest
}

// NewShared validates cfg (after WithDefaults) and builds what its
// ensembles share.
func NewShared(cfg Config) (*Shared, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ensemble: %w", err)
	}
	mask, _ := cfg.mask()
	s := &Shared{cfg: cfg, mask: mask, side: cfg.side(), excZ: cmp.Or(cfg.MinZ, cfg.BandZ), flatG: likelihood.Log(cfg.BandZ)}
	if mask.Has(Forest) {
		f, err := hst.NewForest(cfg.Forest)
		if err != nil {
			return nil, fmt.Errorf("ensemble: %w", err)
		}
		s.forest = f
	}
	return s, nil
}

// Config returns the configuration with defaults applied.
func (s *Shared) Config() Config { return s.cfg }

// Ensemble is the detector state of one series. It is not safe for
// concurrent use.
type Ensemble struct {
	sh *Shared

	rz  *robustz.Detector
	ew  *ewma.Detector
	sea *seasonal.Detector
	cus *changepoint.CUSUM
	hst *hst.Detector
	ls  *levelshift.Detector // nil unless level_shift is a member
	rb  *rangebreak.Detector // nil unless range_break is a member
	dn  *density.Detector    // nil unless density is a member
	cal [numMembers]*likelihood.Record
	// pend is, per member, the largest score (as log(1 + raw)) of the
	// current run off the baseline, kept out of the record until the run
	// ends without an alert (with the gate).
	pend [numMembers]float64

	al        alert.State // the hysteresis: firing, since when, the runs, the peak
	byLevel   bool        // the alert is a level shift's: it resolves when level_shift says so
	adopted   bool        // byLevel, taken over from another member's alert: it resolves only where they would too
	held      int32       // points kept out of the robust baseline in this incident
	echo      bool        // the alert fired in a bin held out on its latest visit (Config.Hold)
	armed     bool        // gated: the current run off the baseline broke a record
	pending   bool        // a run's point a seasonal bin may forget waits (pendTS, pendOff)
	awaySide  int8        // the side of the stretch away since awayTS: +1 above, −1 below, 0 none
	runPeak   float64     // gated: the largest score of that run
	runFired  Mask        // gated: the members that reached fire in the run
	runTop    Member      // gated: the top member at the run's peak
	runDev    float64     // gated: the run's largest distance from the expected value
	rep       repeats     // gated: the latest alerts (Config.Repeat)
	n         uint64      // points seen
	lastOnset uint64      // n at the last onset; 0 before the first
	// pendTS and pendOff are, while pending, the latest point of a run
	// off the baseline when the alert may still fire within Confirm
	// points: its time and its seasonal bin's offset before it was added,
	// for the bin to forget it if the alert fires as an incident's
	// (settle).
	pendTS  int64
	pendOff float64
	// awayTS is when the incident's alert that began the open stretch
	// away from the series' level (to side awaySide) fired, 0 when none
	// is open; a stretch a period old is over whatever the fields say.
	// awayLevel is the seasonal level before it (away).
	awayTS    int64
	awayLevel float64
}

// block is one series' ensemble and its members, allocated together (New):
// an update touches one heap object's cache lines instead of a dozen
// scattered ones, and the collector scans one object per series. The
// Ensemble's member pointers point into it; members that are not in the
// configuration stay zero and unreferenced.
type block struct {
	e   Ensemble
	rz  robustz.Detector
	ew  ewma.Detector
	sea seasonal.Detector
	cus changepoint.CUSUM
	ls  levelshift.Detector
	rb  rangebreak.Detector
	dn  density.Detector
	cal [numMembers]likelihood.Record
}

// New returns the ensemble of one series. Its members are built in one
// block (see block); the forest, when a member, and the members' windows
// are allocated apart. The configuration was validated by NewShared, so the
// members' Init do not fail.
func (s *Shared) New() *Ensemble {
	c := &s.cfg
	b := &block{}
	e := &b.e
	e.sh = s
	_ = robustz.Init(&b.rz, c.RobustZ)
	_ = ewma.Init(&b.ew, c.EWMA)
	_ = seasonal.Init(&b.sea, c.Seasonal)
	_ = changepoint.InitCUSUM(&b.cus, c.CUSUM)
	e.rz, e.ew, e.sea, e.cus = &b.rz, &b.ew, &b.sea, &b.cus
	if s.mask.Has(Forest) {
		e.hst = s.forest.NewDetector()
	}
	if s.mask.Has(LevelShift) {
		_ = levelshift.Init(&b.ls, c.LevelShift)
		e.ls = &b.ls
	}
	if s.mask.Has(RangeBreak) {
		_ = rangebreak.Init(&b.rb, c.RangeBreak)
		e.rb = &b.rb
	}
	if s.mask.Has(Density) {
		_ = density.Init(&b.dn, c.Density)
		e.dn = &b.dn
	}
	for m := Member(0); m < numMembers; m++ {
		if s.mask.Has(m) && m != LevelShift && m != RangeBreak && m != Density {
			_ = likelihood.InitRecord(&b.cal[m], c.Calibration)
			e.cal[m] = &b.cal[m]
		}
	}
	return e
}

// New builds a one-off ensemble for cfg; for many series build a Shared
// once and call its New.
func New(cfg Config) (*Ensemble, error) {
	s, err := NewShared(cfg)
	if err != nil {
		return nil, err
	}
	return s.New(), nil
}

// Update scores the point (ts in Unix ns, x) with every member, calibrates
// and combines their scores, and advances the alert. NaN and infinite
// values are ignored: they return the zero Result and change nothing. So
// are values beyond ±MaxValue, which no reading is (a garbled float, a
// device's sentinel): their squares overflow the members' variances.
func (e *Ensemble) Update(ts int64, x float64) Result {
	var r Result
	e.UpdateInto(ts, x, &r)
	return r
}

// UpdateInto is Update writing the Result to *r, which it first zeroes: a
// caller that keeps the Result (the detect stage's job) avoids the copy
// of a returned struct, a store-forwarding stall on every point.
func (e *Ensemble) UpdateInto(ts int64, x float64, r *Result) { e.update(ts, x, r, true) }

// Advance is UpdateInto for a caller that reads the Result only on a
// transition (the detect stage): on a quiet point, one that is neither
// off the baseline (Config.MinZ) nor in an alert, break or shift, it
// leaves Score, Fired and Top zero, and the members' calibrations skip the
// logarithm of the scores that cannot set a record. The ensemble's state,
// and every Result field on the other points, are exactly UpdateInto's.
func (e *Ensemble) Advance(ts int64, x float64, r *Result) { e.update(ts, x, r, false) }

// MaxValue is the largest magnitude of a value the ensemble scores (Update
// ignores the others, as it does NaN and infinities): the members' squared
// deviations of values up to it stay finite, where one reading of 1e160
// would set the ewma and CUSUM members' variance to +Inf and the seasonal
// member's to NaN for good. A 64-bit counter's rate is below 2e19.
const MaxValue = 1e150

// update is UpdateInto, or with scores false Advance.
func (e *Ensemble) update(ts int64, x float64, r *Result, scores bool) {
	*r = Result{}
	if !(math.Abs(x) <= MaxValue) { // NaN, infinities and absurd values
		return
	}
	c := &e.sh.cfg
	mask := e.sh.mask
	e.n++
	var raw [numMembers]float64
	var ready Mask

	// Baselines: the robust median, the seasonal profile where it explains
	// the series.
	rs := e.rz.Score(x)
	ws := e.ew.Update(x)
	// The seasonal and CUSUM scores are filled in place: copies of the
	// returned ones read their fields back before the stores completed.
	var ss seasonal.Score
	e.sea.ScoreInto(ts, x, &ss)
	var cs changepoint.Score
	e.cus.UpdateInto(x, &cs)
	if rs.WarmedUp {
		raw[RobustZ], ready = math.Abs(rs.Z), ready|1<<RobustZ
	}
	if ws.WarmedUp {
		raw[EWMA], ready = math.Abs(ws.Z), ready|1<<EWMA
	}
	// Strength, a division, is read only where the profile scores.
	seasonalOK := ss.WarmedUp && e.sea.Strength(ts) >= c.SeasonalStrength
	if seasonalOK {
		raw[Seasonal], ready = math.Abs(ss.Z), ready|1<<Seasonal
	}
	if cs.WarmedUp {
		raw[CUSUM], ready = cs.Stat, ready|1<<CUSUM
	}
	if e.hst != nil {
		hs := e.hst.Update(x)
		if hs.WarmedUp {
			raw[Forest], ready = hs.Raw, ready|1<<Forest
		}
	}

	var sigma float64
	switch {
	case seasonalOK && mask.Has(Seasonal):
		// The deviation of the point's place in its visit where the point
		// is in line with the series' recent points (Result.Z).
		sig := ss.Sigma
		if ss.Visit > sig && !(rs.WarmedUp && math.Abs(x-rs.Median) >= c.MinZ*rs.Sigma) {
			sig = ss.Visit
		}
		r.Expected, sigma = ss.Expected, floorSigma(c, ss.Expected, sig)
	case rs.WarmedUp:
		// The robust sigma is the floored MAD over MADScale, with the
		// same floor: flooring it again would give it back, bit for bit
		// (a correctly rounded division is monotonic).
		r.Expected, sigma = rs.Median, rs.Sigma
	default:
		r.Expected, sigma = ws.Mean, floorSigma(c, ws.Mean, ws.Sigma)
	}
	var unit float64
	if c.WholeUnits && x == math.Trunc(x) && e.rz.Whole() {
		unit = 1 // Config.WholeUnits
		sigma = max(sigma, unit)
	}
	r.Lower, r.Upper = r.Expected-c.BandZ*sigma, r.Expected+c.BandZ*sigma
	switch d := math.Abs(x - r.Expected); {
	case sigma > 0:
		r.Z = d / sigma
	case d > 0:
		r.Z = math.Inf(1)
	}
	var lv levelshift.Score
	if e.ls != nil {
		// The band's fields are read only on a shift's points and where
		// the veto may hold (Below).
		e.ls.UpdateLean(ts, x, unit, &lv)
	}
	// A point on the side Config.Direction ignores is not off the
	// baseline, and level_shift's shift to that side fires nothing.
	var aside bool
	if side := e.sh.side; side != 0 {
		if aside = (x-r.Expected)*float64(side) < 0; aside {
			r.Z = 0
		}
		if lv.Fire && lv.Side == -side {
			lv.Fire = false
		}
	}
	dense := e.dn != nil && e.dn.Update(e.excursion(&rs, x, unit))
	// The point is at the carrying level while the other baselines learned
	// an idle stretch below it: not theirs to alert on (Config.LevelShift).
	// Not while their own alert is on and held out of them (Config.Hold):
	// their expected value is then the level before the incident, not an
	// idle stretch, and a carrying level above it is one level_shift
	// followed up a climb that stayed within its band at each point (a
	// load interval's average of a CPU gone to 100 %).
	vetoed := lv.Side == 0 && e.ls != nil && e.ls.Below(&lv, r.Expected) &&
		!(e.al.Firing && !e.byLevel && int(e.held) < c.Hold)
	if vetoed && e.awaySide < 0 && ts-e.awayTS < e.sea.Period() {
		// Back at the carrying level from a stretch below it, which the
		// veto keeps from alerting: the series came back (away).
		e.comeBack(ts)
	}
	// An alert that fired in a bin whose latest value was held out (the
	// bin keeps an older period's value) is the echo of that hold: its
	// points in line with the series' recent ones join the baselines
	// (Config.Hold).
	stale := e.sea.Kept(ts)
	run, off := false, 0.0
	if c.Hold > 0 && e.al.Firing && !vetoed && r.Z >= c.ResolveZ && int(e.held) < c.Hold &&
		(!e.echo || e.byLevel || offRecent(c, &rs, x, unit)) {
		// Keep the incident out of the baselines that give the expected
		// value (see Config.Hold).
		e.held++
		if e.echo && !e.byLevel {
			// An echo's point off the recent points: its bin learns it
			// (Config.Hold), the rest of the model keeps it out.
			e.sea.Learn(ts, x)
		} else {
			e.sea.Keep(ts)
		}
	} else {
		e.rz.Add(x)
		// A point of a run off the (warmed-up) baseline that is no
		// alert's yet: its bin forgets it if the alert fires (settle).
		run = c.Hold > 0 && !e.al.Firing && !vetoed && rs.WarmedUp && r.Z >= c.MinZ
		if run {
			off = e.sea.Offset(ts)
		}
		e.sea.Add(ts, x)
		if stale && c.Hold > 0 && !e.al.Firing && r.Z >= c.MinZ {
			// A point of a run off the baseline that is no alert's yet:
			// the bin stays the hold's until a calm point joins it, so an
			// alert the run fires on its confirm-th point is known for the
			// echo it is, as one fired on the run's first point is.
			e.sea.Keep(ts)
		}
	}

	// With the gate, a point off the baseline (or of an incident) is kept
	// out of the records until its run ends without an alert, so an
	// incident does not raise the bar for the next one; so is a vetoed
	// point.
	hold := vetoed || c.MinZ > 0 && (e.al.Firing || r.Z >= c.MinZ)
	pend := !e.al.Firing && !vetoed
	var bs rangebreak.Score
	if e.rb != nil {
		bs = e.rb.Update(x)
		if aside {
			bs.Break = false
		}
	}
	// Only the gate's runs, alerts, breaks and shifts read the scores. On
	// a quiet point hold is vetoed and pend its negation, so no score
	// becomes pending.
	quiet := !scores && c.MinZ > 0 && !e.al.Firing && r.Z < c.MinZ && !bs.Break && !lv.Fire
	var best float64
	if quiet {
		// The Score stays 0, as max(best, 0) would leave it.
		best = e.advance(&raw, ready&mask, hold)
	} else {
		// A series that held one value other than 0 past the records'
		// warm-up gave its members no score to calibrate by (flat,
		// calibrate).
		flat := rs.WarmedUp && rs.Median != 0 && e.n > uint64(c.Calibration.MinPoints)
		best = e.calibrate(&raw, ready&mask, hold, pend, flat, r)
		r.Score = max(best, 0)
	}
	r.WarmedUp = best >= 0 || lv.WarmedUp
	// level decides only a shift's point and the points of an alert it
	// owns (byLevel); the call is skipped on the others.
	if e.ls != nil && (lv.Fire || e.al.Firing && e.byLevel) && e.level(ts, r, &lv, vetoed) {
		if r.Transition == Fired {
			e.echo = false // a level shift is an event of its own, wherever it falls
		}
		if run || e.pending || r.Transition == Fired {
			e.settle(ts, x, off, r, run)
		}
		return
	}
	if quiet {
		// What alert does on a quiet point (no alert on, the point not
		// off the baseline, no break; Confirm is at least 1): a run off
		// the baseline ends, and the Result's Firing stays false.
		e.al.Above, e.armed = 0, false
		r.Peak = e.al.Peak
	} else {
		// A calm break on a series that has shown a full seasonal period
		// fires whatever the baseline's spread (Config.RangeBreak), but
		// not within the band's floor (floorSigma) or a unit
		// (Config.WholeUnits) of the expected value: memory used creeping
		// up by a few parts in a thousand breaks its warm-up's narrow
		// grid at every step, and a rate of 0.6 reads 1, then 0.4 reads 0.
		// So does a far break (a run of breaks the visited range's width
		// beyond it: a leak, a climb that the baselines follow), beyond
		// the floor from that range, not from the expected value, which
		// climbed with it. The floor, a division, is needed only for a
		// calm or far break.
		calm := false
		if ss.WarmedUp && (bs.Calm || bs.Far) {
			floor := max(unit, floorSigma(c, r.Expected, 0))
			calm = bs.Calm && math.Abs(x-r.Expected) > floor || bs.Far && bs.Beyond > floor
		}
		// A run to the side of an open stretch away, in line with the
		// series' recent points, is the stretch going on (away): the
		// seasonal bins have yet to learn it.
		along := e.awayTS != 0 && !e.al.Firing && r.Z >= c.MinZ && ts-e.awayTS < e.sea.Period() &&
			(x-r.Expected)*float64(e.awaySide) > 0 && !offRecent(c, &rs, x, unit)
		e.alert(ts, x, r, vetoed, bs.Break, calm, along)
	}
	if dense && !e.al.Firing && e.cooled() {
		// Excursions closer together than ever (Config.Density), after
		// the other members had their say on the point.
		e.onset(ts, r, Density)
		r.Firing, r.Peak = true, e.al.Peak
	}
	if r.Transition == Fired {
		e.echo = stale
	}
	if run || e.pending || r.Transition == Fired {
		e.settle(ts, x, off, r, run)
	}
}

// settle undoes, once the alert has seen the point, what an incident's
// run taught the seasonal profile before its alert fired: the run's points
// that were no alert's when scored joined the profile, but when the alert
// fires as an incident's (not an echo's, Config.Hold) the bins of the
// point that fired it and of the run's point before it (pending, when the
// alert needs more than one) forget them (seasonal.Detector.Forget), as
// the alert's later points are kept out. A spike's first minute learned
// into its bin would be expected there the next day, and normal traffic
// there would fire as a drop, the echo of a spike. run tells whether the
// point is such a run's, off its bin's offset before it was added. A run
// that never fires is learned as before, and every point is scored as
// before; with confirm 3 or more the run's points before the one that
// waited stay learned. An incident's alert also starts or ends a
// stretch away from the level (away).
func (e *Ensemble) settle(ts int64, x, off float64, r *Result, run bool) {
	switch {
	case r.Transition == Fired && !e.echo:
		if run {
			e.sea.Forget(ts, off)
		}
		if e.pending {
			// After the point's own bin: in the same bin, the older offset wins.
			e.sea.Forget(e.pendTS, e.pendOff)
		}
		e.pending = false
		if e.sh.cfg.Hold > 0 {
			e.away(ts, x, r)
		}
	case run && r.Transition != Fired && int(e.al.Above) < e.sh.cfg.Confirm:
		e.pending, e.pendTS, e.pendOff = true, ts, off
	default:
		e.pending = false
	}
}

// away notes an incident's alert fired at ts on x. An incident whose
// alert stays on until its hold runs out (Config.Hold) leaves the series
// away from its level: the baselines take the new level from then on,
// and so do the seasonal bins. An alert on the other side of it, less
// than a period after it fired, ends that stretch away: the series came
// back (a reroute's traffic on the other uplink for hours, then back).
// The seasonal bins that learned the stretch forget it
// (seasonal.Detector.ForgetSince), as the held points were kept out:
// without that, the next day's normal traffic there fired as a drop, and
// that alert's hold kept the bins' learned stretch for the day after.
// So does the first point back at level_shift's carrying level from a
// stretch below it, which the veto (Config.LevelShift) keeps from
// alerting: traffic back on a link after hours at a fraction of it. Any
// other incident starts a stretch away (which its alert's end within the
// hold undoes: back), or continues the open one on its side.
func (e *Ensemble) away(ts int64, x float64, r *Result) {
	side := int8(1)
	if x < r.Expected {
		side = -1
	}
	open := e.awayTS != 0 && ts-e.awayTS < e.sea.Period()
	switch {
	case open && side == -e.awaySide:
		e.comeBack(ts)
	case open:
		// The same side: the stretch goes on from its start.
	default:
		// The level as the alert's point left it: the point was added
		// (and its bin's offset given back), or held out.
		e.awayTS, e.awaySide, e.awayLevel = ts, side, e.sea.Level()
	}
}

// back notes the end at ts of the firing alert, before its hold count is
// reset. An alert that ends within its hold came back before the
// baselines took its level: the stretch away it started (away) is none.
// A level_shift alert (level) ends when the series is back at the level
// before the shift: after its hold ran out, that ends its stretch away as
// an alert on the other side would.
func (e *Ensemble) back(ts int64, level bool) {
	if e.awayTS != e.al.StartsAt || e.awayTS == 0 {
		return
	}
	switch {
	case level && int(e.held) >= e.sh.cfg.Hold:
		e.comeBack(ts)
	case int(e.held) < e.sh.cfg.Hold:
		e.awayTS, e.awaySide, e.awayLevel = 0, 0, 0
	}
}

// comeBack ends the open stretch away at ts, the series back: the
// seasonal bins forget what they learned of it and the level goes back
// to its value before it (away).
func (e *Ensemble) comeBack(ts int64) {
	e.sea.ForgetSince(e.awayTS, ts, e.awayLevel)
	e.awayTS, e.awaySide, e.awayLevel = 0, 0, 0
}

// offRecent reports whether x is ResolveZ or more off the robust baseline
// (the series' recent points, rs), with a sigma of at least unit
// (Config.WholeUnits), or that baseline is not warmed up.
func offRecent(c *Config, rs *robustz.Score, x, unit float64) bool {
	if !rs.WarmedUp {
		return true
	}
	return math.Abs(x-rs.Median) >= c.ResolveZ*max(rs.Sigma, unit)
}

// floorSigma returns sigma, or the robust baseline's floor (its min_mad
// and min_mad_fraction of |expected|, over MADScale) if that is larger: the
// band is never narrower than that, whichever baseline gives it (a
// seasonal profile of a quiet error counter can have almost no spread).
func floorSigma(c *Config, expected, sigma float64) float64 {
	return max(sigma, max(c.RobustZ.MinMAD, c.RobustZ.MinMADFraction*math.Abs(expected))/robustz.MADScale)
}

// calibrate turns the ready members' raw scores into calibrated scores,
// sets r.Fired and r.Top, and returns the best score (-1 when no member
// is ready). A held point's scores are kept out of the records, and when
// pend is set they are remembered, to join the records when the point's
// run ends without an alert (see Update). With flat (the series held one
// value other than 0 past the records' warm-up), the robust z member's
// record, which never took a score above 0, is the band's edge (BandZ):
// a flat sensor's first departure is measured against its band, the
// floored spread, instead of waiting for the warm-up's non-zero scores
// (a day at exactly 40 °C, then 60 °C for 10 minutes, fired nothing).
func (e *Ensemble) calibrate(raw *[numMembers]float64, ready Mask, hold, pend, flat bool, r *Result) float64 {
	c := &e.sh.cfg
	best := -1.0
	// The ready members in order (Top is the first of the best): the
	// calibrators see only their member's scores, so a member that becomes
	// ready late is compared with its own history only.
	for k := ready &^ (1 << LevelShift); k != 0; k &= k - 1 {
		m := Member(bits.TrailingZeros16(uint16(k)))
		cal := e.cal[m]
		if !hold && e.pend[m] > 0 {
			cal.Raise(e.pend[m])
			e.pend[m] = 0
		}
		g := likelihood.Log(raw[m])
		ratio := cal.RatioLog(g)
		if flat && m == RobustZ && cal.Count() == 0 {
			ratio = g / e.sh.flatG
		}
		switch {
		case !hold:
			cal.AddLog(g)
		case pend:
			cal.SkipLog(g)
			e.pend[m] = max(e.pend[m], g)
		default:
			cal.SkipLog(g)
		}
		s := 1.0 // a record so small that the ratio overflows
		if ratio <= math.MaxFloat64 {
			s = ratio / (1 + ratio)
		}
		if s >= c.Fire {
			r.Fired |= 1 << m
		}
		if s > best {
			best, r.Top = s, m
		}
	}
	return best
}

// advance is calibrate on a quiet point (see Advance): the records
// change as calibrate changes them, but no score is computed. It returns
// 0, or -1 when no member is ready.
func (e *Ensemble) advance(raw *[numMembers]float64, ready Mask, hold bool) float64 {
	best := -1.0
	// The ready members one by one (a loop over all of them mispredicted
	// its tests of the mask).
	for k := ready &^ (1 << LevelShift); k != 0; k &= k - 1 {
		m := Member(bits.TrailingZeros16(uint16(k)))
		cal := e.cal[m]
		best = 0
		if hold {
			cal.SkipQuiet(raw[m])
			continue
		}
		if e.pend[m] > 0 {
			cal.Raise(e.pend[m])
			e.pend[m] = 0
		}
		if !cal.TryQuiet(raw[m]) { // no call on most points
			cal.AddQuiet(raw[m])
		}
	}
	return best
}

// level applies the level_shift member's verdict lv to the alert: it
// fires an alert on a shift (adopting one the other members fired) and
// resolves the alerts it owns when the series is back. It reports whether
// it decided the point (the other members' hysteresis is then skipped).
func (e *Ensemble) level(ts int64, r *Result, lv *levelshift.Score, vetoed bool) bool {
	c := &e.sh.cfg
	e.ls.Band(lv)
	score := 0.0
	if lv.Side != 0 && lv.WarmedUp {
		score = max(lv.Strength/(1+lv.Strength), c.Fire)
	}
	if lv.Fire {
		r.Fired |= 1 << LevelShift
	}
	switch {
	case lv.Fire && !e.al.Firing:
		e.al.Fire(ts, score)
		e.byLevel, e.adopted, e.armed, e.lastOnset = true, false, false, e.n
		e.pend = [numMembers]float64{}
		r.Transition, r.Cause, r.CauseTop = Fired, r.Fired, LevelShift
	case lv.Fire:
		// A shift during another member's alert (byLevel is false: a
		// shift of its own would still be on): it now ends with the
		// shift (an outage's return ends it at once), as adopted.
		e.byLevel, e.adopted = true, true
		e.al.Peak = max(e.al.Peak, score)
	case e.al.Firing && e.byLevel:
		e.al.Peak = max(e.al.Peak, score)
		if lv.Back && (e.adopted || lv.Accepted) && r.Z >= c.ResolveZ && !vetoed {
			// An adopted alert whose series is back in level_shift's band
			// but still ResolveZ off the baselines of the members that
			// fired it (a CPU stuck at 100 %, adopted on its climb past
			// ten times its 4 %, back at 26 %) goes on as theirs, and ends
			// when they are calm. So does one whose new level level_shift
			// accepted (an hour at 5 % of a link's traffic) while the
			// other baselines, which the hold kept from it, have yet to
			// take it: ended there, they fired again on the next points.
			// An alert level_shift fired itself ends with the shift
			// otherwise: a link back at another level is back.
			e.byLevel, e.adopted = false, false
			return false
		}
		if lv.Back {
			e.al.Resolve()
			e.back(ts, true)
			e.byLevel, e.adopted, e.held = false, false, 0
			r.Transition = Resolved
		}
	default:
		return false
	}
	// The level explains the point: its band, where points count as
	// outside (levelshift.Score.Edge), and the distance with that edge at
	// BandZ.
	r.Expected, r.Lower, r.Upper = lv.Expected, lv.Lower, lv.Upper
	r.Z = lv.Strength * c.BandZ
	if lv.Edge > 0 && lv.Edge < 1 {
		f := math.Pow(lv.Upper/lv.Expected, lv.Edge) // Ratio^Edge
		r.Lower, r.Upper = lv.Expected/f, lv.Expected*f
		r.Z = lv.Strength / lv.Edge * c.BandZ
	}
	if lv.Expected == 0 { // a negative value turned the member off
		r.Z = 0
	}
	r.Top = LevelShift
	r.Firing, r.Peak = e.al.Firing, e.al.Peak
	return true
}

// alert advances the hysteresis with r.Score on the point x; a vetoed point (see
// Config.LevelShift) neither fires nor keeps an alert on; brk is a range
// break (Config.RangeBreak), which fires at once when the point is MinZ
// off or, ungated, when calm (a calm break on a series that has shown a
// full seasonal period); a gated run that is the series' habit does not
// fire (Config.Repeat), nor does one along a stretch away (away).
func (e *Ensemble) alert(ts int64, x float64, r *Result, vetoed, brk, calm, along bool) {
	c := &e.sh.cfg
	if !e.al.Firing {
		switch {
		case vetoed:
			e.al.Above, e.armed = 0, false
		case c.MinZ == 0:
			e.al.Count(r.Score >= c.Fire)
		case r.Z >= c.MinZ:
			// Gated: a run of points off the baseline, armed by one that
			// breaks a record (the score relative to the record dips right
			// after it, however far off the points stay). The run's best
			// score is the alert's first peak.
			if e.al.Above == 0 {
				e.runPeak, e.runFired, e.runDev = 0, 0, 0
			}
			if c.Repeat.Count > 0 {
				// Only the repeat rule reads it, and only its records
				// (version 6) always carry it: kept without the rule, a
				// restore within a run (a version 5 record) would lose
				// it, while the uninterrupted ensemble's echo record
				// (version 7) carried it.
				e.runDev = max(e.runDev, math.Abs(x-r.Expected))
			}
			e.al.Count(true)
			if r.Score >= c.Fire {
				e.armed, e.runFired = true, e.runFired|r.Fired
			}
			if r.Score > e.runPeak {
				e.runPeak, e.runTop = r.Score, r.Top
			}
		default:
			e.al.Above, e.armed = 0, false
		}
		confirmed := int(e.al.Above) >= c.Confirm || c.SpikeZ > 0 && e.al.Above > 0 && r.Z >= c.SpikeZ
		cooled := e.cooled() || e.rep.dwarfs(c.Repeat, e.runDev, e.lastOnset)
		// A confirmed run no farther off than the series' last alerts is
		// its habit, whether it broke a record or not: those alerts stay
		// in memory as if they had just fired (RepeatConfig).
		habit := confirmed && e.rep.habitual(c.Repeat, e.runDev-(r.Upper-r.Expected), e.n)
		if habit {
			e.rep.renew(c.Repeat, e.n)
		}
		if brk && !vetoed && !along && cooled && (r.Z >= c.MinZ || calm) && !((c.MinZ == 0 || e.armed) && confirmed) {
			e.onset(ts, r, RangeBreak)
		} else if (c.MinZ == 0 || e.armed) && confirmed && cooled && !habit && !along {
			if c.MinZ > 0 {
				e.rep.remember(c.Repeat, e.runDev, e.n)
			}
			e.al.Fire(ts, max(r.Score, e.runPeak))
			e.lastOnset, e.armed = e.n, false
			e.pend = [numMembers]float64{} // the incident stays out of the records
			r.Transition = Fired
			r.Cause, r.CauseTop = r.Fired, r.Top
			if c.MinZ > 0 {
				r.Cause, r.CauseTop = e.runFired, e.runTop
			}
		}
	} else {
		calm := r.Score < c.Resolve
		if c.MinZ > 0 {
			calm = r.Z < c.ResolveZ
		}
		if e.al.Settle(r.Score, calm || vetoed, c.Clear) {
			e.back(ts, false)
			e.held = 0
			r.Transition = Resolved
		}
	}
	r.Firing = e.al.Firing
	r.Peak = e.al.Peak
}

// Migration is the state of a series scored by a robust z-score alone
// (the detect stage before the ensemble), carried into an ensemble by
// Migrate.
type Migration struct {
	Window    []float64 // the robust z-score window, oldest first
	Firing    bool      // an alert is on
	StartedAt int64     // when it fired, Unix ns
	Held      int       // points kept out of the baseline in that incident
}

// Migrate seeds a fresh ensemble with m: the robust baseline gets m's
// window (its newest values, if the window is smaller), and an alert that
// fired before stays on until it resolves here, so no alert is left
// without its resolution. The other members start cold.
func (e *Ensemble) Migrate(m Migration) error {
	w := m.Window
	if n := e.sh.cfg.RobustZ.Window; len(w) > n {
		w = w[len(w)-n:]
	}
	if err := e.rz.SetWindow(w); err != nil {
		return fmt.Errorf("ensemble: %w", err)
	}
	if m.Firing {
		e.al.Firing, e.al.StartsAt, e.held, e.lastOnset = true, m.StartedAt, int32(m.Held), max(e.n, 1)
	}
	return nil
}

// Shared returns the configuration this ensemble was built from.
func (e *Ensemble) Shared() *Shared { return e.sh }

// StartedAt returns the timestamp of the point that fired the current
// alert (0 when none fired yet).
func (e *Ensemble) StartedAt() int64 { return e.al.StartsAt }

// Firing reports whether the series' alert is on.
func (e *Ensemble) Firing() bool { return e.al.Firing }

// Peak returns the best score of the current (or last) alert.
func (e *Ensemble) Peak() float64 { return e.al.Peak }

// onset fires an alert on member m's own verdict (a range break, a
// density): its score is at least Fire, its cause m and the members that
// reached Fire on the point, its top member m.
func (e *Ensemble) onset(ts int64, r *Result, m Member) {
	e.al.Fire(ts, max(r.Score, e.sh.cfg.Fire))
	e.lastOnset, e.armed = e.n, false
	e.pend = [numMembers]float64{} // the incident stays out of the records
	r.Transition = Fired
	r.Cause, r.CauseTop = r.Fired|1<<m, m
}

// Spacing returns the density member's onsets per span, the span in
// points of its latest that many onsets (after its alert fired, the span
// that fired it) and its record, the tightest span before; zeros without
// the member (Config.Density).
func (e *Ensemble) Spacing() (onsets int, span, record uint64) {
	if e.dn == nil {
		return 0, 0, 0
	}
	return e.dn.Onsets(), e.dn.Span(), e.dn.Record()
}

// cooled reports whether Cooldown points have passed since the last
// onset, or there was none.
func (e *Ensemble) cooled() bool {
	return e.lastOnset == 0 || e.n-e.lastOnset >= uint64(e.sh.cfg.Cooldown)
}

// excursion reports whether x is off the series' recent points (the
// robust baseline rs, warmed up) by MinZ of its sigmas (BandZ without the
// gate), a sigma of at least unit (Config.WholeUnits), on the side
// Config.Direction alerts on: what the density member counts. With no
// spread at all, any other value is off.
func (e *Ensemble) excursion(rs *robustz.Score, x, unit float64) bool {
	if !rs.WarmedUp {
		return false
	}
	d := x - rs.Median
	if side := e.sh.side; side != 0 && d*float64(side) < 0 {
		return false
	}
	return d != 0 && math.Abs(d) >= e.sh.excZ*max(rs.Sigma, unit)
}

// StateBytes returns the bytes of state this series keeps.
func (e *Ensemble) StateBytes() int {
	// The fields: 64 B, 16 for the run's point a bin may forget and 16 for
	// the stretch away (their flag and side sit in padding).
	n := 96 + e.rz.StateBytes() + e.ew.StateBytes() + e.sea.StateBytes() + e.cus.StateBytes()
	if e.hst != nil {
		n += e.hst.StateBytes()
	}
	if e.rb != nil {
		n += e.rb.StateBytes()
	}
	if e.dn != nil {
		n += e.dn.StateBytes()
	}
	if e.ls != nil {
		n += e.ls.StateBytes()
	}
	for _, c := range e.cal {
		if c != nil {
			n += c.StateBytes()
		}
	}
	if k := e.sh.cfg.Repeat.Count; k > 0 {
		n += 16*k + 8 // the alerts' distances and points, the ring's slot, the run's distance
	}
	return n
}
