package drift

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/schemas"
)

// Defaults of Config.
const (
	// DefaultWarmup is how many points a series shows (after its start or
	// a step) before the rule may fire: the envelope's first learning.
	DefaultWarmup = 180
	// DefaultMargin is how far beyond the envelope, in standard
	// deviations of the series' own noise, a point counts as outside.
	DefaultMargin = 1.0
	// DefaultRun is how many points in a row, on one side, whose median
	// with the two points before lies outside the envelope fire the rule.
	// The median of three is outside when two of the three points are:
	// one spike never fires.
	DefaultRun = 1
	// DefaultClear is how many points in a row whose median of three is
	// back inside the envelope, by Margin noise deviations, resolve the
	// rule.
	DefaultClear = 3
	// DefaultStep is the jump between two consecutive points, in noise
	// standard deviations, that is a step (an optic re-seated or replaced,
	// a fibre cut or mended), not a drift: the envelope is learned again.
	DefaultStep = 8.0
	// DefaultFollow is how many points the envelope's edge takes to widen
	// by one noise standard deviation towards a median just outside it
	// (the warm-up's range underestimates a heavy-tailed noise).
	DefaultFollow = 50
	// DefaultLevel is the time constant, in points, of the level the
	// envelope is centred on: wander slower than the envelope's half-width
	// per Level points is followed, drift faster than that is not.
	DefaultLevel = 120
	// DefaultMemory is the time constant, in points, of the noise estimate.
	DefaultMemory = 100
)

// minNoisePoints is how many differences the noise estimate needs before
// a jump can be judged a step.
const minNoisePoints = 30

// maxNoiseSpread is how many times the spread of the warm-up's medians of
// three the noise σ of its first minNoisePoints differences may be: a
// Gaussian, Laplace or uniform noise, rounded or not, gives at most about
// 1.7 (measured on 20000 series each), a loss of signal read once as
// -40 dBm on a -3 dBm optic about 27, and 1e100 about 10^99 (checkNoise).
// A heavier tail (Student's t of 2 degrees of freedom) passes it in about
// 0.5 % of series, which learn their noise again from the next points.
const maxNoiseSpread = 4

// maxSpreadNoise is how many times the noise σ of the warm-up's first
// minNoisePoints differences the spread of its medians of three may be.
// Measured on 2000 series each: Gaussian, Laplace, rounded and the
// simulator's noise at most 6.7; a power swinging by ±0.5 dB within those
// points on 0.2 dB of noise 10.7 (±1 dB: over it in 5 % of series, a ramp
// of σ/3 per point in 9 %). Two absurd readings in a row move two medians:
// about 17, whatever their size (from about 27 σ up); a step 30 or more.
// Beyond it, the warm-up learned blind a jump it could not tell, and
// starts again (checkNoise), unless the medians spread as a steady
// trend's do (trend: a ramp, a decay under way), which is learned.
const maxSpreadNoise = 12

// Config configures Drift. The zero value means every default.
type Config struct {
	Warmup int     `yaml:"warmup"` // default DefaultWarmup
	Margin float64 `yaml:"margin"` // default DefaultMargin
	Run    int     `yaml:"run"`    // default DefaultRun
	Clear  int     `yaml:"clear"`  // default DefaultClear
	Step   float64 `yaml:"step"`   // default DefaultStep
	Follow int     `yaml:"follow"` // default DefaultFollow
	Level  int     `yaml:"level"`  // default DefaultLevel
	Memory int     `yaml:"memory"` // default DefaultMemory
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Warmup, DefaultWarmup)
	cfgcheck.Default(&c.Margin, DefaultMargin)
	cfgcheck.Default(&c.Run, DefaultRun)
	cfgcheck.Default(&c.Clear, DefaultClear)
	cfgcheck.Default(&c.Step, DefaultStep)
	cfgcheck.Default(&c.Follow, DefaultFollow)
	cfgcheck.Default(&c.Level, DefaultLevel)
	cfgcheck.Default(&c.Memory, DefaultMemory)
	return c
}

// Validate reports the first bad field of c (after WithDefaults).
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.AtLeast("warmup", c.Warmup, minNoisePoints),
		cfgcheck.Check(!(c.Margin > 0), "margin: %v must be positive", c.Margin),
		cfgcheck.Check(c.Run < 1 || c.Run > math.MaxUint16, "run: %d must be in [1, %d]", c.Run, math.MaxUint16),
		cfgcheck.Check(c.Clear < 1 || c.Clear > math.MaxUint16, "clear: %d must be in [1, %d]", c.Clear, math.MaxUint16),
		cfgcheck.Check(!(c.Step > c.Margin), "step: %v must be above margin %v", c.Step, c.Margin),
		cfgcheck.AtLeast("follow", c.Follow, 1),
		cfgcheck.AtLeast("level", c.Level, 1),
		cfgcheck.AtLeast("memory", c.Memory, 1),
	)
}

// Watches reports whether the rule watches a gauge of metric: a
// transceiver's receive or transmit power (of the module or of one lane),
// which a healthy optic holds within its noise and a slow fault moves
// away for good. The laser bias current is not watched: it follows the
// optic's temperature (the laser's control loop raises it when hot), so
// its daily swing is not noise-sized; supply voltage is regulated and
// does not decay.
func Watches(metric string) bool {
	switch metric {
	case schemas.MetricOpticInputPower, schemas.MetricOpticOutputPower,
		schemas.MetricLaneInputPower, schemas.MetricLaneOutputPower:
		return true
	}
	return false
}

// Event is what Drift.Update saw.
type Event uint8

// Events of Drift.Update.
const (
	None     Event = iota
	Fired          // Run medians of three in a row beyond the envelope on one side
	Resolved       // Clear medians of three in a row back inside it, or a step
)

// Drift is the envelope rule of one series. It learns the series' noise
// (the mean absolute difference of consecutive points, which a slow drift
// barely changes, as a Gaussian standard deviation σ, at least the
// reading's resolution) and its envelope: the range of its first Warmup
// points around their mean (each taken once the next point shows it was
// no spike, whose place its median of three takes), carried after the
// warm-up by a slow level (an exponentially weighted mean of time
// constant Level points) so that
// wander slower than the envelope's half-width per Level points moves the
// envelope with it; an edge also widens by at most σ/Follow per point
// towards a median just outside it. Each point is judged by the median of
// it and the two points before (two of the three must agree, so a spike
// is ignored): the rule fires when Run medians in a row lie more than
// Margin σ beyond an edge, and resolves when Clear medians in a row are
// back inside the envelope by Margin σ (the same hysteresis on both
// sides of the edge); the level, the envelope and the noise are held
// while it fires, so a long decay does not become normal. A jump of more
// than Step σ that the next two points confirm is a step, not a drift
// (the ensemble judges steps): the envelope is learned again from the new
// level, and a firing rule resolves (on the first point when the jump is
// back inside its envelope: hold). One the next point, or the one after,
// does not confirm is a spike (one absurd reading, or two in a row): it
// moves neither the level nor, once past, the history a step is told by.
// Before the noise estimate has 30 differences it cannot tell a jump:
// they are all learned, and dropped for the next ones when they make a σ
// far wider than the spread of the warm-up's medians of three (one absurd
// reading among them), which learn no difference far beyond that spread
// and tell a jump by it meanwhile (spikeLimit); a warm-up whose medians
// spread far wider than that σ learned a jump blind (a step, or two absurd
// readings in a row), and starts again (checkNoise).
//
// The zero value is not usable: use New. It is not safe for concurrent use.
type Drift struct {
	cfg    *Config // shared by the rules of one New (see Fresh)
	prev   float64 // the point before last
	last   float64 // the previous point
	level  float64 // the mean the envelope is centred on
	lo, hi float64 // the envelope's reach below and above level (≥ 0)
	dev    float64 // mean absolute difference of consecutive points
	quant  float64 // the smallest non-zero difference seen: the reading's resolution
	n      uint32  // points since the start or the last step, saturating
	seen   uint32  // differences in the noise estimate, saturating
	run    uint16  // medians in a row outside (firing: inside)
	dir    int8    // -1 below, +1 above: the side of the run or the alert
	firing bool
	held   bool // last is a jump's second point, prev the point before the jump
}

// StateBytes is the memory of a Drift.
const StateBytes = 80

// New returns a rule with cfg's defaults applied; it fails on an invalid
// cfg.
func New(cfg Config) (*Drift, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Drift{cfg: &cfg}, nil
}

// Fresh returns a rule in its initial state with d's configuration
// (shared, not copied): one New serves every series.
func (d *Drift) Fresh() Drift { return Drift{cfg: d.cfg} }

// Config returns the rule's configuration, defaults applied.
func (d *Drift) Config() Config { return *d.cfg }

// Sigma returns the noise standard deviation the rule judges by: for
// Gaussian noise the mean absolute difference of consecutive points is
// 2σ/√π; it is at least the reading's resolution. It is 0 before the
// series has moved.
func (d *Drift) Sigma() float64 {
	return max(d.dev*math.Sqrt(math.Pi)/2, d.quant)
}

// Envelope returns the envelope [lo, hi] and the band beyond which a
// point is outside: the envelope widened by Margin noise deviations.
// During the warm-up (after the start or a step) the envelope is the range
// seen so far.
func (d *Drift) Envelope() (lo, hi, bandLo, bandHi float64) {
	m := d.cfg.Margin * d.Sigma()
	lo, hi = d.lo, d.hi
	if int(d.n) >= d.cfg.Warmup {
		lo, hi = d.level-d.lo, d.level+d.hi
	}
	return lo, hi, lo - m, hi + m
}

// Firing reports whether the rule fires.
func (d *Drift) Firing() bool { return d.firing }

// Dir returns the side of the current run or alert: -1 below the
// envelope, +1 above, 0 none.
func (d *Drift) Dir() int { return int(d.dir) }

// maxValue is the largest magnitude of a point Update takes, as the
// ensemble's (ensemble.MaxValue): no optic power is near it, and one such
// point before the noise estimate can tell a spike (minNoisePoints) made
// the noise, and so the band, about 10^298 wide for good.
const maxValue = 1e150

// Update feeds the next point and returns what changed. A point that is
// not finite, or beyond ±maxValue, is ignored.
func (d *Drift) Update(x float64) Event {
	if !(math.Abs(x) <= maxValue) {
		return None
	}
	if d.n == 0 {
		// The first point, which the warm-up learns only through the
		// median of three two points on (learn): it may be a spike.
		d.relearn(x, x)
		d.n = 1
		return None
	}
	early := d.seen < minNoisePoints && !d.firing
	// checked: the estimate was completed and checked by the point
	// before, which it may have kept for this one to tell (checkNoise).
	checked := d.seen == minNoisePoints && !d.firing
	// scaled: the estimate is learned again (checkNoise dropped one), and
	// a jump is told by the spread of the warm-up's medians meanwhile,
	// once the two points before were judged so too (the return from a
	// spike the blind estimate learned would look like a step).
	limit := d.spikeLimit()
	tell := math.Inf(1)
	if int(d.n) > minNoisePoints+2 {
		tell = limit
	}
	scaled := early && !math.IsInf(tell, 1)
	if early {
		// Before the estimate can tell a jump every difference is
		// learned (but for one beyond the limit, once it is learned
		// again: spikeLimit), and checked once there are enough of
		// them; the point that completes them is judged with them. Not
		// for a step, unless scaled: the points before it were never
		// judged, and the return from a spike among them would look like
		// one (a step learned blind restarts the warm-up: checkNoise).
		dev, diff := d.dev, math.Abs(x-d.last)
		if diff <= limit {
			d.learnNoise(diff)
			if d.checkNoise(dev) {
				d.relearn(d.last, x)
				return None
			}
		}
	}
	sigma := d.Sigma()
	jump := func(a, b float64) bool {
		if d.seen < minNoisePoints {
			return math.Abs(a-b) > tell
		}
		return sigma > 0 && math.Abs(a-b) > d.cfg.Step*sigma
	}
	ev := None
	if d.held && jump(x, d.last) && jump(x, d.prev) {
		// x jumps from both the held jump's points and the point before
		// it: the jump stayed until x, a step, which x jumps from in turn.
		if d.firing {
			ev = Resolved
		}
		d.relearn(d.last, d.last)
	}
	if (!early || scaled) && jump(d.last, d.prev) && jump(x, d.prev) && !jump(x, d.last) {
		// The previous point jumped and this one stayed there: a step,
		// or two absurd readings in a row (a module re-read), which only
		// the next point tells: it is held for it (hold).
		if d.hold(x) {
			return None
		}
		// The jump's second point stayed there too: a step.
		if checked && d.noisy(sigma) {
			// The step's difference completed the estimate, which the
			// check kept for this point to tell (checkNoise): it is
			// no noise. The rest is kept as a whole estimate, not
			// checked again against the new level's first points.
			if d.unlearnNoise(math.Abs(d.last - d.prev)); d.seen != 0 {
				d.seen = minNoisePoints
			}
		}
		firing := d.firing
		d.relearn(d.last, x)
		if firing {
			return Resolved
		}
		return None
	}
	// The previous point jumped and this one is back by the one before
	// it: that was a spike (a loss of signal read once, a garbled
	// value), which the median of three ignores, and the history
	// forgets, so that it is not taken for the start of a step next.
	// A point that jumps is kept out of the level until it is known
	// for a spike or a step.
	spike := jump(d.last, d.prev) && !jump(x, d.prev)
	jumped := jump(x, d.last) && !spike
	d.held = false
	if !early && !d.firing && !jump(x, d.last) {
		d.learnNoise(math.Abs(x - d.last))
	}
	med := median3(d.prev, d.last, x)
	// What the warm-up learns: the previous point, now that this one
	// tells whether it jumped alone (a spike: a loss of signal read
	// once); its median of three when it jumped, or before the noise can
	// tell (minNoisePoints).
	learn := med
	if d.seen >= minNoisePoints && !jump(d.last, d.prev) {
		learn = d.last
	}
	if checked && spike && d.noisy(sigma) {
		// The point that completed the estimate, far off, was a spike:
		// its difference made the σ the check kept for this point to
		// tell (checkNoise); it is no noise.
		d.unlearnNoise(math.Abs(d.last - d.prev))
		if d.noisy(d.Sigma()) {
			d.dropNoise()
		}
	}
	if spike {
		d.last = d.prev
	}
	d.prev, d.last = d.last, x
	// A median of three holding a jump (which the next point tells a
	// spike or a step) or a spike's return holds a reading the rule
	// throws out, which votes with a point in the noise's tail beside
	// it: it is not judged. Before, a spike (or two in a row, held)
	// beside a reading just past the band fired the rule
	// (TestDriftSpikeBesideTail).
	unjudged := jumped || spike
	if d.firing {
		if unjudged {
			return None
		}
		return d.updateFiring(med)
	}
	if d.n < math.MaxUint32 {
		d.n++
	}
	if int(d.n) <= d.cfg.Warmup {
		// The range and the mean of the warm-up's points, each learned
		// a point late (learn), so that a spike in it widens neither, as
		// it fires nothing after it; lo and hi hold the range itself
		// until its end.
		switch d.n {
		case 2: // the start's second point: the first has no median yet
		case 3: // the first point learned since the start or a step
			d.lo, d.hi, d.level = learn, learn, learn
		default:
			d.lo, d.hi = min(d.lo, learn), max(d.hi, learn)
			d.level += (learn - d.level) / float64(d.n-2)
		}
		if int(d.n) == d.cfg.Warmup {
			d.lo, d.hi = d.level-d.lo, d.hi-d.level
		}
		return ev
	}
	if !jumped {
		d.level += (x - d.level) / float64(d.cfg.Level)
	}
	if unjudged {
		return None
	}
	return d.updateWatching(med)
}

// median3 returns the median of a, b and c.
func median3(a, b, c float64) float64 {
	return max(min(a, b), min(max(a, b), c))
}

// relearn starts the envelope again from the two points a and b (a
// first); the noise estimate is kept (an optic's reading is as noisy at
// its new level).
func (d *Drift) relearn(a, b float64) {
	d.prev, d.last, d.lo, d.hi, d.level, d.n, d.run, d.dir, d.firing, d.held = a, b, min(a, b), max(a, b), (a+b)/2, 2, 0, 0, false, false
}

// hold reports whether x, the second point of a jump (from prev to last,
// x staying there), is held for the next point to tell a step from two
// absurd readings in a row: x takes last's place, prev stays the point
// before the jump, and x is neither learned nor judged. The next point
// staying there too is a step; one back by prev makes both a spike
// (Update). A jump back inside the envelope's band of a firing rule is
// told at once: no absurd reading lands there, and the optic replaced
// ends the alert on its second reading. Before, the second of two absurd
// readings was taken for a step and the return from them for another:
// the envelope was learned again (the decay fired a whole warm-up late)
// and a firing rule resolved (TestDriftTwoAbsurd).
func (d *Drift) hold(x float64) bool {
	if d.held {
		return false
	}
	if d.firing {
		if _, _, bandLo, bandHi := d.Envelope(); x >= bandLo && x <= bandHi {
			return false
		}
	}
	d.last, d.held = x, true
	return true
}

// learnNoise adds the difference of two consecutive points to the noise
// estimate: a running mean over the first Memory differences, then an
// exponentially weighted one.
func (d *Drift) learnNoise(diff float64) {
	if d.seen < math.MaxUint32 {
		d.seen++
	}
	d.dev += (diff - d.dev) / float64(min(d.seen, uint32(d.cfg.Memory)))
	if diff > 0 && (d.quant == 0 || diff < d.quant) {
		d.quant = diff
	}
}

// unlearnNoise takes diff, the last difference learnNoise added, out of
// the noise estimate again (checkNoise), or drops the estimate when it
// cannot.
func (d *Drift) unlearnNoise(diff float64) {
	w := float64(min(d.seen, uint32(d.cfg.Memory)))
	if w <= 1 {
		d.dropNoise()
		return
	}
	dev := (w*d.dev - diff) / (w - 1)
	if !(dev > 1e-9*diff) {
		// Lost to rounding (a difference of 1e100 hides any noise).
		d.dropNoise()
		return
	}
	d.dev, d.seen = dev, d.seen-1
}

// checkNoise drops the noise estimate of the first minNoisePoints
// differences, which learned every one of them, when its σ is more than
// maxNoiseSpread times the spread of the warm-up's medians of three (or
// the reading's resolution): a reading far off that the next one
// contradicted (a loss of signal read once, a garbled 1e100) moved no
// median, but its two differences made most of that σ, which would have
// widened the band for hundreds of points. The estimate is learned again
// from the next differences, which the check judges alike while they can
// all be learned before the warm-up ends; a check later than that is not
// made, and the estimate is kept, whatever it is (dropped at the
// warm-up's end, the rule watched with no estimate: it could not tell a
// step, and fired on a σ of the reading's resolution: 156 of 560 series
// read as -40 dBm every 20 to 60 points, 12 of which fired before the
// decay they were fed, and 425 with a Warmup of 30, 45 of which fired:
// TestDriftWarmupFlakyOptic). dev is the estimate before the difference
// completing them.
//
// When that difference, the point's from the last, is alone what makes
// the σ too wide (dev passes), the point may be a step as well as a spike,
// which only the next point tells: the estimate is kept for it, and that
// difference taken out again when it tells either (Update). Before, a
// step on the point completing the estimate dropped it, and so was never
// told: the warm-up's envelope spanned both levels, and a decay from the
// new one never fired (TestDriftWarmupStepOnCheck).
//
// It reports a restart, with the estimate and the resolution dropped, when
// the spread of the warm-up's medians is more than maxSpreadNoise σ: the
// warm-up learned blind a jump that moved two medians or more, a step or
// two absurd readings in a row, and the envelope is learned again from the
// point (Update). Before, two readings of -40 dBm or 1e100 in a row among
// the first 30 points made the envelope reach them and σ 0.3 dB or 10^98:
// the decay never fired (TestDriftTwoAbsurd). Not when the medians spread
// about their mean as a steady trend's do (trend): a decay already under
// way is learned, as before the restart existed. Before this exception,
// such a decay restarted the warm-up every 30 points for as long as it
// lasted, and from 0.7 σ a point never fired
// (TestDriftDecayUnderWayAtStart).
func (d *Drift) checkNoise(dev float64) (restart bool) {
	if d.seen != minNoisePoints || int(d.n)+minNoisePoints > d.cfg.Warmup {
		return false
	}
	if d.hi-d.lo > maxSpreadNoise*d.Sigma() && !d.trend() {
		d.dev, d.seen, d.quant = 0, 0, 0
		return true
	}
	if !d.noisy(d.Sigma()) {
		return false
	}
	if !d.noisy(max(dev*math.Sqrt(math.Pi)/2, d.quant)) {
		return false // the next point tells (Update)
	}
	d.dropNoise()
	return false
}

// trend reports whether the warm-up's medians (their range lo to hi and
// their mean level, as the warm-up holds them) lie about their mean as a
// steady trend's do, its middle half holding the mean. A jump learned
// blind leaves the mean near the level of most of them: two absurd
// readings in a row move 2 of about 28 medians; a step of the first or
// the last quarter of them is told too (a step near the middle is not,
// and is learned as before the restart existed).
func (d *Drift) trend() bool {
	quarter := (d.hi - d.lo) / 4
	return d.level-d.lo >= quarter && d.hi-d.level >= quarter
}

// dropNoise drops the noise estimate (checkNoise), and the reading's
// resolution with it when no median of the warm-up moved by as much: the
// smallest difference seen may be one of the absurd reading's, the only
// ones a flat series showed (TestDriftFlatAbsurd).
func (d *Drift) dropNoise() {
	d.dev, d.seen = 0, 0
	if d.quant > d.hi-d.lo {
		d.quant = 0
	}
}

// spikeLimit returns the largest difference the warm-up's noise estimate
// learns before it has minNoisePoints, and by which a jump is told
// meanwhile: none (+Inf) at first, which it learns blind, and once the
// warm-up has as many medians of three as the estimate differences
// (after checkNoise dropped one) maxNoiseSpread times the σ the check
// allows, 16 times their spread (or the reading's resolution): a larger
// one is no noise of the series, but a spike's or a step's. Before, a
// flaky optic (a reading of -40 dBm or 1e100 every 20 to 60 points) had
// each estimate dropped for its one absurd reading until the last, which
// held one too and was kept: its σ was 75 to 10^98 times the noise, and
// the decay fired up to 186 points late or never
// (TestDriftFlakyOpticDecay).
func (d *Drift) spikeLimit() float64 {
	scale := max(d.hi-d.lo, d.quant)
	if int(d.n) <= minNoisePoints || scale == 0 {
		return math.Inf(1)
	}
	return maxNoiseSpread * maxNoiseSpread * scale
}

// noisy reports whether sigma, the noise σ of the warm-up's first
// minNoisePoints differences, is more than maxNoiseSpread times the spread
// of its medians of three (or the reading's resolution), when the check
// is made or the point after (checkNoise).
func (d *Drift) noisy(sigma float64) bool {
	if int(d.n)+minNoisePoints > d.cfg.Warmup+1 {
		return false
	}
	if d.hi == d.lo {
		// No median moved: every difference was a reading the next one
		// contradicted, and the resolution may be theirs (dropNoise).
		return sigma > 0 && d.dev > 0
	}
	return sigma > maxNoiseSpread*max(d.hi-d.lo, d.quant)
}

// updateWatching judges med, the median of the last three points, after
// the warm-up, the rule not firing.
func (d *Drift) updateWatching(med float64) Event {
	lo, hi, bandLo, bandHi := d.Envelope()
	var dir int8
	switch {
	case med < bandLo:
		dir = -1
	case med > bandHi:
		dir = 1
	default:
		// Inside the band: an edge widens towards a median beyond it,
		// slowly.
		step := d.Sigma() / float64(d.cfg.Follow)
		if med < lo {
			d.lo += min(lo-med, step)
		} else if med > hi {
			d.hi += min(med-hi, step)
		}
		d.run, d.dir = 0, 0
		return None
	}
	if dir != d.dir {
		d.run, d.dir = 0, dir
	}
	d.run++
	if int(d.run) >= d.cfg.Run {
		d.firing, d.run = true, 0
		return Fired
	}
	return None
}

// updateFiring judges med, the median of the last three points, while the
// rule fires: Clear medians in a row inside the envelope by Margin σ (but
// not past the level) resolve it.
func (d *Drift) updateFiring(med float64) Event {
	lo, hi, _, _ := d.Envelope()
	m := d.cfg.Margin * d.Sigma()
	if med < min(lo+m, d.level) || med > max(hi-m, d.level) {
		d.run = 0
		return None
	}
	d.run++
	if int(d.run) >= d.cfg.Clear {
		d.firing, d.run, d.dir = false, 0, 0
		return Resolved
	}
	return None
}

// The tag and versions of Drift's binary record: a record holding a held
// jump (its flags byte has bit 2) is version 2, which an older build
// refuses rather than reading bit 2 as firing; any other is version 1, as
// before held existed.
const (
	driftTag         = 0x64
	driftVersion     = 1
	driftVersionHeld = 2
)

// AppendBinary appends d's state: tag, version, prev, last, level, lo, hi, dev and
// quant (f64), n, seen and run (uvarint), dir (varint), and a byte of
// firing (1) and held (2; version 2). The configuration is not stored.
func (d *Drift) AppendBinary(dst []byte) ([]byte, error) {
	version := byte(driftVersion)
	if d.held {
		version = driftVersionHeld
	}
	dst = binenc.AppendHeader(dst, driftTag, version)
	for _, f := range [...]float64{d.prev, d.last, d.level, d.lo, d.hi, d.dev, d.quant} {
		dst = binenc.AppendF64(dst, f)
	}
	dst = binenc.AppendU(dst, uint64(d.n))
	dst = binenc.AppendU(dst, uint64(d.seen))
	dst = binenc.AppendU(dst, uint64(d.run))
	dst = binenc.AppendI(dst, int64(d.dir))
	flags := byte(0)
	if d.firing {
		flags |= 1
	}
	if d.held {
		flags |= 2
	}
	return append(dst, flags), nil
}

// errRecord marks a record Decode cannot read.
var errRecord = errors.New("cannot decode drift state")

// Decode restores d's state (not its configuration) from the front of b,
// a record of AppendBinary, and returns the rest of b.
func (d *Drift) Decode(b []byte) ([]byte, error) {
	r := binenc.Reader{B: b}
	version := byte(driftVersion)
	if len(b) >= 2 && b[1] == driftVersionHeld {
		version = driftVersionHeld
	}
	r.Header(driftTag, version)
	prev, last, level, lo, hi, dev, quant := r.F64(), r.F64(), r.F64(), r.F64(), r.F64(), r.F64(), r.F64()
	n, seen, run := r.U(), r.U(), r.U()
	dir := r.I()
	flags := r.Byte()
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %v", errRecord, r.Err)
	}
	switch {
	case math.IsNaN(lo) || math.IsNaN(hi) || math.IsNaN(level) || !(dev >= 0) || !(quant >= 0) || math.IsNaN(last) || math.IsNaN(prev),
		n > math.MaxUint32, seen > math.MaxUint32, run > math.MaxUint16, dir < -1 || dir > 1, flags > 3, (version == driftVersionHeld) != (flags&2 != 0):
		return nil, fmt.Errorf("%w: values out of range", errRecord)
	}
	*d = Drift{cfg: d.cfg, prev: prev, last: last, level: level, lo: lo, hi: hi, dev: dev, quant: quant,
		n: uint32(n), seen: uint32(seen), run: uint16(run), dir: int8(dir), firing: flags&1 != 0, held: flags&2 != 0}
	return r.B, nil
}

// Describe returns a sentence on the alert's state for a detection's
// description: the envelope, the point and how far out it is.
func (d *Drift) Describe(x float64) string {
	lo, hi, bandLo, bandHi := d.Envelope()
	var b strings.Builder
	fmt.Fprintf(&b, "%.4g against its envelope [%.4g, %.4g] (noise σ %.2g", x, lo, hi, d.Sigma())
	switch {
	case x < bandLo:
		fmt.Fprintf(&b, "; %.1f σ below)", (lo-x)/d.Sigma())
	case x > bandHi:
		fmt.Fprintf(&b, "; %.1f σ above)", (x-hi)/d.Sigma())
	default:
		b.WriteString("; inside)")
	}
	return b.String()
}
