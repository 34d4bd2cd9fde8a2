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

// Detector keeps the window of one series: the values in arrival order (a
// ring) and the same values sorted, so the median is read directly and the
// MAD is found by a binary search, in O(log Window); adding a value moves
// at most Window floats. It allocates only in New. It is not safe for
// concurrent use.
type Detector struct {
	cfg    Config
	ring   []float64 // the window, oldest at pos when full
	sorted []float64 // the window's values in ascending order
	pos    int
	n      int
}

// New returns a detector; cfg must be valid after WithDefaults.
func New(cfg Config) *Detector {
	return &Detector{cfg: cfg, ring: make([]float64, cfg.Window), sorted: make([]float64, 0, cfg.Window)}
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
	if d.n == len(d.ring) {
		d.sorted = replaceSorted(d.sorted, d.ring[d.pos], x)
	} else {
		d.sorted = insertSorted(d.sorted, x)
		d.n++
	}
	d.ring[d.pos] = x
	if d.pos++; d.pos == len(d.ring) {
		d.pos = 0
	}
}

// Median returns the median of the window (0 when empty).
func (d *Detector) Median() float64 {
	if d.n == 0 {
		return 0
	}
	return sortedMedian(d.sorted)
}

// MAD returns the median absolute deviation of the window (not floored).
func (d *Detector) MAD() float64 {
	if d.n == 0 {
		return 0
	}
	return sortedMAD(d.sorted, sortedMedian(d.sorted))
}

func (d *Detector) score(x float64) Score {
	med := sortedMedian(d.sorted)
	mad := sortedMAD(d.sorted, med)
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
func (d *Detector) StateBytes() int { return 16*len(d.ring) + 16 }

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

// sortedMedian returns the median of ascending s (not empty).
func sortedMedian(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// sortedMAD returns the median of |v − med| over ascending s (not empty).
// The deviations of the values below the split p are descending in the
// index and those from p on ascending: two sorted lists, whose k-th
// smallest element is found by binary search.
func sortedMAD(s []float64, med float64) float64 {
	n := len(s)
	p := lowerBound(s, med)
	if n%2 == 1 {
		return kthDev(s, p, med, n/2)
	}
	return (kthDev(s, p, med, n/2-1) + kthDev(s, p, med, n/2)) / 2
}

// kthDev returns the k-th smallest (0-based) of |s[i] − med|, where
// s[:p] < med <= s[p:]. Left list: a[j] = med − s[p−1−j], j < p. Right
// list: b[j] = s[p+j] − med, j < n−p. Both ascend.
func kthDev(s []float64, p int, med float64, k int) float64 {
	na, nb := p, len(s)-p
	// Take i from the left list and k+1−i from the right, choosing i so
	// that a[i−1] <= b[k+1−i] and b[k−i] <= a[i].
	lo, hi := max(0, k+1-nb), min(k+1, na)
	for lo < hi {
		i := (lo + hi) / 2 // i < hi <= na, and k+1−i−1 >= 0 ... take i left
		j := k + 1 - i     // j right elements
		// If a[i] < b[j−1], more from the left.
		if j > 0 && med-s[p-1-i] < s[p+j-1]-med {
			lo = i + 1
		} else {
			hi = i
		}
	}
	i, j := lo, k+1-lo
	v := math.Inf(-1)
	if i > 0 {
		v = med - s[p-i]
	}
	if j > 0 {
		v = math.Max(v, s[p+j-1]-med)
	}
	return v
}

// insertSorted inserts x into ascending s, which has spare capacity.
func insertSorted(s []float64, x float64) []float64 {
	i := lowerBound(s, x)
	s = s[:len(s)+1]
	copy(s[i+1:], s[i:])
	s[i] = x
	return s
}

// replaceSorted removes one occurrence of old from ascending s and inserts
// x, moving only the values between the two positions.
func replaceSorted(s []float64, old, x float64) []float64 {
	r := lowerBound(s, old) // s[r] == old
	q := lowerBound(s, x)
	switch {
	case q > r: // x goes after old: shift (r, q) left
		copy(s[r:q-1], s[r+1:q])
		s[q-1] = x
	default: // shift [q, r) right
		copy(s[q+1:r+1], s[q:r])
		s[q] = x
	}
	return s
}

// lowerBound returns the first index i with s[i] >= x (len(s) if none).
func lowerBound(s []float64, x float64) int {
	lo, n := 0, len(s)
	for n > 0 {
		half := n >> 1
		if s[lo+half] < x {
			lo += half + 1
			n -= half + 1
		} else {
			n = half
		}
	}
	return lo
}
