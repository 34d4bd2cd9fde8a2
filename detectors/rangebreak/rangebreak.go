// Package rangebreak is a streaming range-break detector: after Warm
// points the range they span is cut into Bins levels of equal width, and
// the grid is then fixed (it extends without bound on both sides). A
// point breaks the range when it lands on a level beyond every level
// visited so far — above the highest or below the lowest. Each break
// widens the visited range, so a series that keeps returning to the same
// extremes stops breaking, however long ago it was last there: unlike a
// sliding window, the detector's memory of the range never fades. A run
// of breaks that takes the series as far beyond its range as the range
// is wide, and each doubling of that, is a far break (Score.Far): a drift
// off the range point by point. A point's verdict depends only on the
// points up to it.
package rangebreak

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultBins = 16
	DefaultWarm = 200
)

// Config configures a Detector. The zero value is the default.
type Config struct {
	// Bins is the number of levels the warm-up range is cut into: a break
	// must pass the visited range by at least one level, Range/Bins.
	// Default DefaultBins.
	Bins int `yaml:"bins"`
	// Warm is the number of points that fix the grid; nothing breaks
	// during them. Default DefaultWarm.
	Warm int `yaml:"warm"`
	// Calm is the least number of points between a break and the previous
	// one (or the series' first point) for the break to be a calm one
	// (Score.Calm): the visited range held at least this long, so leaving
	// it is news rather than a range still being explored. Default Warm.
	Calm int `yaml:"calm"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Bins, DefaultBins)
	cfgcheck.Default(&c.Warm, DefaultWarm)
	cfgcheck.Default(&c.Calm, c.Warm)
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Bins < 1 || c.Bins > 1<<20:
		return fmt.Errorf("rangebreak: bins must be in [1, 2^20], got %d", c.Bins)
	case c.Warm < 2:
		return fmt.Errorf("rangebreak: warm must be at least 2, got %d", c.Warm)
	case c.Calm < 1:
		return fmt.Errorf("rangebreak: calm must be at least 1, got %d", c.Calm)
	}
	return nil
}

// Detector is the range-break detector of one series. It is not safe for
// concurrent use.
type Detector struct {
	cfg       Config
	n         uint64 // points seen (NaN and infinities excluded)
	lo, hi    float64
	step      float64
	low, high int64  // the lowest and highest levels visited
	lastBreak uint64 // n at the previous break (0: none)
	// runLow and runHigh are the levels visited when the current run of
	// breaks began (Score.Far).
	runLow, runHigh int64
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
		return err
	}
	*d = Detector{cfg: c.WithDefaults(), lo: math.Inf(1), hi: math.Inf(-1)}
	return nil
}

// Score is a detector's verdict on one point.
type Score struct {
	// Break is true when the point lands beyond every level visited.
	Break bool
	// Level is the point's level on the grid: 0 at the warm-up minimum,
	// Bins at its maximum. 0 until warmed up.
	Level int64
	// Gap is, on a break, the number of points since the previous break
	// (or since the first point): a break after a long calm is the more
	// surprising. 0 on other points.
	Gap uint64
	// Calm is true on a break whose Gap is at least Config.Calm.
	Calm bool
	// Far is true on the break by which a run of breaks (each within
	// Config.Calm points of the one before) first reaches the width of
	// the range visited before the run beyond it, and again each time
	// that distance doubles: a series that drifts off its range point by
	// point (a memory leak, a temperature climbing) without one point far
	// off.
	Far bool
	// Beyond is, on a Far break, how far the point is beyond the range
	// visited before the run, in the series' units (whole levels).
	Beyond float64
	// WarmedUp is true once the grid is fixed.
	WarmedUp bool
}

// maxLevel bounds the level of a point far off the grid, so that the
// conversion to int64 is defined.
const maxLevel = 1 << 62

// Update scores x and learns it. NaN and infinite values are ignored.
func (d *Detector) Update(x float64) Score {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Score{}
	}
	d.n++
	w := uint64(d.cfg.Warm)
	if d.n <= w {
		d.lo, d.hi = math.Min(d.lo, x), math.Max(d.hi, x)
		if d.n == w {
			d.step = (d.hi - d.lo) / float64(d.cfg.Bins)
			d.low, d.high = 0, int64(d.cfg.Bins)
			if d.step <= 0 { // a flat warm-up: a level is a thousandth of the value
				// (1e-9 at 0), at any scale: a floor of 1e-9 made a level
				// of a flat 1e-12 (a bit error rate) a thousand times it.
				d.step = math.Abs(d.hi) * 1e-3
				if d.step == 0 {
					d.step = 1e-9
				}
				d.high = 0
			}
			d.runLow, d.runHigh = d.low, d.high
		}
		return Score{}
	}
	f := math.Floor((x - d.lo) / d.step)
	f = math.Max(-maxLevel, math.Min(maxLevel, f))
	lev := int64(f)
	s := Score{Level: lev, WarmedUp: true}
	if lev < d.low || lev > d.high {
		s.Break, s.Gap = true, d.n-d.lastBreak
		s.Calm = s.Gap >= uint64(d.cfg.Calm)
		if s.Calm {
			d.runLow, d.runHigh = d.low, d.high
		}
		// A run of breaks that has taken the series its visited range's
		// width beyond it: the range doubled without a calm.
		width := d.runHigh - d.runLow + 1
		switch {
		case lev > d.high && doubled(lev-d.runHigh, d.high-d.runHigh, width):
			s.Far, s.Beyond = true, float64(lev-d.runHigh)*d.step
		case lev < d.low && doubled(d.runLow-lev, d.runLow-d.low, width):
			s.Far, s.Beyond = true, float64(d.runLow-lev)*d.step
		}
		d.lastBreak = d.n
		d.low, d.high = min(d.low, lev), max(d.high, lev)
	}
	return s
}

// doubled reports whether a run of breaks, now levels beyond the range it
// started from and before levels beyond it at its previous break, has
// just reached width, 2·width, 4·width or a further doubling: a drift
// that keeps going is told again each time its distance doubles, not at
// every level.
func doubled(now, before, width int64) bool {
	return now >= width && bits.Len64(uint64(now/width)) > bits.Len64(uint64(max(before, 0)/width))
}

// StateBytes is the detector's memory in bytes.
func (d *Detector) StateBytes() int { return 64 }
