// Package robustz scores values by their robust z-score against a sliding
// window of the values before them: z = 0.6745 · (x − median) / MAD, where
// MAD is the median absolute deviation. Median and MAD ignore up to half of
// the window being outliers, so one spike does not hide the next one the way
// it inflates a mean and standard deviation.
//
// A value is scored against the window before it is added, so a score never
// depends on later data (no look-ahead).
package robustz

import (
	"errors"
	"fmt"
	"math"
)

// Defaults of Config.
const (
	DefaultWindow    = 60
	DefaultMinPoints = 20
	// DefaultMinMADFraction keeps a flat series (MAD = 0) from turning the
	// tiniest wobble into an infinite score: the MAD used is at least this
	// fraction of |median|.
	DefaultMinMADFraction = 0.01
)

// madScale turns a MAD into a standard-deviation estimate for normal data.
const madScale = 0.6744897501960817

// Config configures a Detector.
type Config struct {
	// Window is the number of past values scored against. Default
	// DefaultWindow.
	Window int `yaml:"window"`
	// MinPoints is the number of values needed before scoring starts.
	// Default DefaultMinPoints; at most Window.
	MinPoints int `yaml:"min_points"`
	// MinMADFraction floors the MAD at this fraction of |median|. Default
	// DefaultMinMADFraction.
	MinMADFraction float64 `yaml:"min_mad_fraction"`
	// MinMAD floors the MAD in absolute units. Default 0; set it for series
	// that sit at zero (error counters).
	MinMAD float64 `yaml:"min_mad"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.MinPoints == 0 {
		c.MinPoints = min(DefaultMinPoints, c.Window)
	}
	if c.MinMADFraction == 0 {
		c.MinMADFraction = DefaultMinMADFraction
	}
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Window < 3:
		return fmt.Errorf("window: %d is too small (at least 3)", c.Window)
	case c.Window > 1<<16:
		return fmt.Errorf("window: %d is too large (at most 65536)", c.Window)
	case c.MinPoints < 3 || c.MinPoints > c.Window:
		return fmt.Errorf("min_points: %d must be between 3 and window (%d)", c.MinPoints, c.Window)
	case c.MinMADFraction < 0 || c.MinMAD < 0:
		return errors.New("min_mad_fraction and min_mad must not be negative")
	}
	return nil
}

// Score is the result of scoring one value.
type Score struct {
	Z        float64 // robust z-score; 0 while warming up
	Median   float64 // the expected value
	Sigma    float64 // MAD-based standard deviation estimate (floored)
	WarmedUp bool    // false until MinPoints values were seen
}

// Detector keeps the window of one series. It is not safe for concurrent use.
type Detector struct {
	cfg  Config
	ring []float64 // the window, oldest at pos when full
	pos  int
	n    int

	scratch []float64 // reused by Update; not state
}

// New returns a detector; cfg must be valid after WithDefaults.
func New(cfg Config) *Detector {
	return &Detector{cfg: cfg, ring: make([]float64, cfg.Window)}
}

// Update scores x against the window, then adds it to the window. NaN and
// infinite values are ignored and score zero.
func (d *Detector) Update(x float64) Score {
	s := d.Score(x)
	d.Add(x)
	return s
}

// Score scores x against the window without adding it. A caller that keeps
// anomalous values out of the baseline calls Score, then Add only for the
// values it accepts.
func (d *Detector) Score(x float64) Score {
	if math.IsNaN(x) || math.IsInf(x, 0) || d.n < d.cfg.MinPoints {
		return Score{}
	}
	return d.score(x)
}

// Add adds x to the window, evicting the oldest value when it is full. NaN
// and infinite values are ignored.
func (d *Detector) Add(x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	d.ring[d.pos] = x
	d.pos = (d.pos + 1) % len(d.ring)
	if d.n < len(d.ring) {
		d.n++
	}
}

func (d *Detector) score(x float64) Score {
	w := append(d.scratch[:0], d.ring[:d.n]...)
	med := median(w)
	for i, v := range w {
		w[i] = math.Abs(v - med)
	}
	mad := median(w)
	d.scratch = w
	floor := math.Max(d.cfg.MinMAD, d.cfg.MinMADFraction*math.Abs(med))
	mad = math.Max(mad, floor)
	sigma := mad / madScale
	if sigma == 0 {
		// A window of exact zeros with no floor: any change is infinitely
		// surprising. Report a large finite score instead of Inf.
		if x == med {
			return Score{Median: med, WarmedUp: true}
		}
		return Score{Z: math.Copysign(1e6, x-med), Median: med, WarmedUp: true}
	}
	return Score{Z: (x - med) / sigma, Median: med, Sigma: sigma, WarmedUp: true}
}

// Len returns how many values the window holds.
func (d *Detector) Len() int { return d.n }

// StateBytes returns the bytes of state the detector keeps per series.
func (d *Detector) StateBytes() int { return 8*len(d.ring) + 16 }

// median returns the median of w, reordering w.
func median(w []float64) float64 {
	n := len(w)
	if n%2 == 1 {
		return selectK(w, n/2)
	}
	hi := selectK(w, n/2)
	// After selectK, everything below n/2 is <= hi; the lower middle is
	// their maximum.
	lo := w[0]
	for _, v := range w[1 : n/2] {
		lo = math.Max(lo, v)
	}
	return (lo + hi) / 2
}

// selectK partially sorts w so that w[k] is the k-th smallest, everything
// before it is not larger and everything after not smaller, and returns it.
func selectK(w []float64, k int) float64 {
	lo, hi := 0, len(w)-1
	for lo < hi {
		// Median of three as the pivot keeps sorted windows linear.
		mid := lo + (hi-lo)/2
		if w[mid] < w[lo] {
			w[mid], w[lo] = w[lo], w[mid]
		}
		if w[hi] < w[lo] {
			w[hi], w[lo] = w[lo], w[hi]
		}
		if w[hi] < w[mid] {
			w[hi], w[mid] = w[mid], w[hi]
		}
		p := w[mid]
		i, j := lo, hi
		for i <= j {
			for w[i] < p {
				i++
			}
			for w[j] > p {
				j--
			}
			if i <= j {
				w[i], w[j] = w[j], w[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return w[k]
		}
	}
	return w[k]
}
