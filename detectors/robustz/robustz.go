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
	"unsafe"

	"github.com/telekernel/telekernel/internal/cfgcheck"
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

// MADScale turns a MAD into a standard-deviation estimate for normal data:
// σ = MAD / MADScale.
const MADScale = 0.6744897501960817

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
	cfgcheck.Default(&c.Window, DefaultWindow)
	cfgcheck.Default(&c.MinPoints, min(DefaultMinPoints, c.Window))
	cfgcheck.Default(&c.MinMADFraction, DefaultMinMADFraction)
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
// MAD, the median of two sorted lists of deviations, is found by a search
// that starts from where the previous one ended (consecutive windows differ
// by one value, so it usually takes a step or two; O(log Window) at worst
// would be a binary search, O(Window) this walk, which is what an add
// costs anyway). Adding a value finds the evicted one by binary search and
// moves the values between it and the new one's place, as insertion sort
// does. Both are exact: the median and MAD equal a full sort's. It
// allocates only in New or Init and when state is restored (UnmarshalBinary). It is not safe for concurrent use.
type Detector struct {
	cfg    Config
	ring   []float64 // the window, oldest at pos when full
	sorted []float64 // the window's values in ascending order
	pos    int
	n      int
	hint   int // the MAD split of the last score: a search hint, not state
	// negZero is set once a −0 may be in the window (added, or restored
	// by SetWindow), and stays set: not state, a restored window sets it
	// again.
	negZero bool
	// med and madv are the window's median and MAD when fresh is set: a
	// window that did not change since the last score (a held point, or
	// a value equal to the one it evicted) is not searched again. Not
	// state: any change to the window clears fresh.
	med, madv float64
	fresh     bool
	// odd is set when SetWindow was given a NaN or an infinity (Add
	// refuses them): the sorted window's searches may then depend on where
	// they start, so Add and Score take neither shortcut. Not state, like
	// negZero.
	odd bool
	// fracs counts the window's values that are not whole numbers (Whole).
	// Not state: SetWindow counts them again.
	fracs int
	// atOld and atX are where, in sorted, the value the next Add evicts
	// sits and where atV goes (lowerBound2), when at is set: Score of a
	// full window searches for them, so that the search's chain of loads
	// runs while the caller does other work (the ensemble's other
	// members), and the Add of atV that follows only moves the values.
	// Not state: any change to the window clears at.
	atOld, atX int
	atV        float64
	at         bool
}

// New returns a detector of cfg with its defaults applied, or the first bad
// field.
func New(cfg Config) (*Detector, error) {
	d := new(Detector)
	if err := Init(d, cfg); err != nil {
		return nil, err
	}
	return d, nil
}

// Init sets *d to a new detector of cfg, as New returns, or returns the
// first bad field: a caller that keeps detectors in a larger struct (the
// ensemble's per-series block) builds one in place.
// The window and its sorted copy share one allocation.
func Init(d *Detector, cfg Config) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("robustz: %w", err)
	}
	w := cfg.Window
	buf := make([]float64, 2*w)
	*d = Detector{cfg: cfg, ring: buf[:w:w], sorted: buf[w : w : 2*w]}
	return nil
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
	// x−x is 0 for every finite x and NaN for a NaN or an infinity: the
	// cheaper test lets Score inline into its caller.
	if x-x != 0 || d.n < d.cfg.MinPoints {
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
	if x == 0 && math.Signbit(x) {
		d.negZero = true
	}
	if d.n == len(d.ring) {
		// A value equal to the one it evicts leaves the sorted window as
		// it is, bit for bit (an error counter's rate of 0 replacing a 0,
		// mostly), unless the window may hold a −0: a −0 and a +0 are
		// equal but not the same bits, and replaceSorted writes x over the
		// first zero.
		old := d.ring[d.pos]
		if x != old || x == 0 && d.negZero || d.odd {
			if d.at && x == d.atV {
				// Score searched for x: the same places, as x and atV
				// compare equal (a −0 and a +0 alike).
				moveSorted(d.sorted, d.atOld, d.atX, x)
			} else {
				replaceSorted(d.sorted, old, x)
			}
			d.fresh = false
		}
		d.at = false
		if fraction(old) {
			d.fracs--
		}
	} else {
		d.sorted = insertSorted(d.sorted, x)
		d.n++
		d.fresh = false
	}
	if fraction(x) {
		d.fracs++
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
	return d.mad(sortedMedian(d.sorted))
}

func (d *Detector) score(x float64) Score {
	if d.n == len(d.ring) && !d.odd {
		// Where Add would replace the oldest value with x (see atOld):
		// not when Add keeps the window as it is.
		if old := d.ring[d.pos]; x != old || x == 0 && d.negZero {
			if int64(math.Float64bits(x)) >= 0 && d.sorted[0] >= 0 && !d.negZero {
				// x and the window are +0 and up (a rate, a gauge).
				d.atOld, d.atX = lowerBound2Pos(d.sorted, old, x)
			} else {
				d.atOld, d.atX = lowerBound2(d.sorted, old, x)
			}
			d.atV, d.at = x, true
		}
	}
	if !d.fresh {
		d.med = sortedMedian(d.sorted)
		d.madv, d.fresh = d.mad(d.med), !d.odd
	}
	med, mad := d.med, d.madv
	floor := max(d.cfg.MinMAD, d.cfg.MinMADFraction*math.Abs(med))
	mad = max(mad, floor)
	if mad == 0 {
		// A window of exact zeros with no floor: any change is infinitely
		// surprising. Report a large finite score instead of Inf.
		if x == med {
			return Score{Median: med, WarmedUp: true}
		}
		return Score{Z: math.Copysign(1e6, x-med), Median: med, WarmedUp: true}
	}
	// z = (x − med)/σ with σ = MAD/0.6745, computed without waiting for σ
	// (two independent divisions instead of two in a row).
	return Score{Z: (x - med) * MADScale / mad, Median: med, Sigma: mad / MADScale, WarmedUp: true}
}

// Whole reports whether the window holds values and every one of them
// is a whole number (a series reported in whole units).
func (d *Detector) Whole() bool { return d.n > 0 && d.fracs == 0 }

// fraction reports whether v is not a whole number (NaN included).
func fraction(v float64) bool { return v != math.Trunc(v) }

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
		lo = max(lo, v)
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

// mad returns the median of |v − med| over the sorted window, med being
// its median. The deviations of the values below the split p (the first
// value >= med) descend in the index and those from p on ascend: two
// sorted lists, a[j] = med − s[p−1−j] and b[j] = s[p+j] − med. The k-th
// smallest deviation takes some i values from a and k+1−i from b; the
// right i is the least for which a[i] >= b[k−i], found by walking from the
// last call's i.
func (d *Detector) mad(med float64) float64 {
	s := d.sorted
	n := len(s)
	// p: the median sits at n/2 (or between n/2−1 and n/2); step down over
	// values equal to it, with a binary search for long runs of ties.
	p := n / 2
	for steps := 0; p > 0 && s[p-1] >= med; steps++ {
		if steps == 8 {
			p = lowerBound(s[:p], med)
			break
		}
		p--
	}
	k := n / 2
	na, nb := p, n-p
	lo, hi := max(0, k+1-nb), min(k+1, na)
	// more(i): taking i from a is too few, a[i] < b[k−i]. It holds for
	// i < the answer and fails from it on.
	more := func(i int) bool { j := k + 1 - i; return j > 0 && med-s[p-1-i] < s[p+j-1]-med }
	i := min(max(d.hint, lo), hi)
	if i < hi && more(i) {
		for i++; i < hi && more(i); i++ {
		}
	} else {
		for i > lo && !more(i-1) {
			i--
		}
	}
	d.hint = i
	j := k + 1 - i
	// The k-th smallest is the largest taken; with n even the MAD also
	// needs the (k−1)-th, the second largest taken.
	ai, bj := math.Inf(-1), math.Inf(-1) // a[i−1], b[j−1]
	if i > 0 {
		ai = med - s[p-i]
	}
	if j > 0 {
		bj = s[p+j-1] - med
	}
	kth := max(ai, bj)
	if n%2 == 1 {
		return kth
	}
	var second float64
	if ai >= bj {
		second = bj
		if i > 1 {
			second = max(second, med-s[p-i+1])
		}
	} else {
		second = ai
		if j > 1 {
			second = max(second, s[p+j-2]-med)
		}
	}
	return (second + kth) / 2
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
func replaceSorted(s []float64, old, x float64) {
	r, q := lowerBound2(s, old, x)
	moveSorted(s, r, q, x)
}

// moveSorted replaces s[r] (the value to remove) with x, which goes before
// s[q] (r and q are lowerBound2 of the two in ascending s): it shifts the
// values between the two places by one, toward r.
func moveSorted(s []float64, r, q int, x float64) {
	// The values between the two places move down by one (q > r: x goes
	// above r) or up by one, in one copy whose ends are chosen without a
	// branch: which way they move is the data's coin toss, which the
	// branch mispredicted. The copy handles the overlap either way (up to
	// 256 bytes it reads all it moves before it writes, with no test of
	// the direction).
	dst, src, at := q+1, q, q // up: s[q:r] to s[q+1:r+1], x at q
	if q > r {
		dst, src, at = r, r+1, q-1 // down: s[r+1:q] to s[r:q-1], x at q-1
	}
	n := max(q-r, r-q) - b2i(q > r)
	copy(s[dst:dst+n], s[src:src+n])
	s[at] = x
}

// lowerBound2 is lowerBound of x and of y in one loop: the two searches
// are independent chains of loads, which the processor overlaps. Its steps
// have no data-dependent branch, like lowerBound's: on the ensemble's
// benchmarks (BenchmarkCorpus over the NAB subset, BenchmarkUpdate) the
// branch-free steps took about 10 % less CPU per point than branches did,
// which mispredict on noisy series.
func lowerBound2(s []float64, x, y float64) (int, int) {
	n := len(s)
	if n == 0 {
		return 0, 0
	}
	bx, by := 0, 0
	for n > 1 {
		half := n >> 1
		bx += half & -b2i(s[bx+half-1] < x)
		by += half & -b2i(s[by+half-1] < y)
		n -= half
	}
	return bx + b2i(s[bx] < x), by + b2i(s[by] < y)
}

// lowerBound2Pos is lowerBound2 for x, y and an ascending s whose values
// all have their sign bit clear (+0 and up, no NaN): their bits, read as
// integers, order as the values do, so a step compares by subtracting and
// takes the sign as its mask, without the floating-point comparison and
// the flag's move to an integer register (four instructions after a
// step's load instead of six). The differences do not overflow: both
// bit patterns are below 2^63.
func lowerBound2Pos(s []float64, x, y float64) (int, int) {
	k := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	kx, ky := int64(math.Float64bits(x)), int64(math.Float64bits(y))
	n := len(k)
	if n == 0 {
		return 0, 0
	}
	bx, by := 0, 0
	for n > 1 {
		half := n >> 1
		bx += half & int((k[bx+half-1]-kx)>>63)
		by += half & int((k[by+half-1]-ky)>>63)
		n -= half
	}
	return bx + int(uint64(k[bx]-kx)>>63), by + int(uint64(k[by]-ky)>>63)
}

// b2i is 1 for true and 0 for false; the compiler makes it a SETcc, so a
// search step that uses it has no branch to mispredict (an if around an
// add compiles to a jump on floats).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lowerBound returns the first index i with s[i] >= x (len(s) if none).
// The loop has no data-dependent branch, so it costs the same whatever the
// data.
func lowerBound(s []float64, x float64) int {
	n := len(s)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		base += half & -b2i(s[base+half-1] < x)
		n -= half
	}
	return base + b2i(s[base] < x)
}
