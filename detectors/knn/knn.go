// Package knn is a compact streaming k-nearest-neighbour conformal anomaly
// detector, after KNN-CAD (Burnaev and Ishimtsev) and NAB's CAD OSE: a
// point's shape is the last Dim values; its nonconformity is the mean
// Euclidean distance from that shape to its K nearest among the shapes
// that ended at each of the History previous points; and it is ranked
// against the last Calib nonconformities. A shape stranger than every
// recent one (Score.Excess above 1) is what the ensemble's knn member
// alerts on.
//
// It is sized for the detect stage's budgets: the values are kept as
// float32 in one contiguous buffer (History+Dim of them) and the
// nonconformities as float32 in a ring, about 0.6 KB per series at the
// defaults, and a point costs History distances of Dim values. A point's
// verdict depends only on the points up to it.
package knn

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config: shapes of eight points, neighbours among the last 64
// shapes, ranked among the last 64 nonconformities, three neighbours (the
// K of KNN-CAD).
const (
	DefaultDim     = 8
	DefaultHistory = 64
	DefaultCalib   = 64
	DefaultK       = 3
)

// MaxDim, MaxHistory and MaxCalib bound the configuration, so a series'
// state stays small whatever the configuration file says.
const (
	MaxDim     = 64
	MaxHistory = 1024
	MaxCalib   = 1024
)

// Config configures a Detector. The zero value is the default.
type Config struct {
	// Dim is the number of values in a shape. Default DefaultDim.
	Dim int `yaml:"dim"`
	// History is the number of past shapes searched for neighbours.
	// Default DefaultHistory.
	History int `yaml:"history"`
	// Calib is the number of past nonconformities a new one is compared
	// with. Default DefaultCalib.
	Calib int `yaml:"calib"`
	// K is the number of nearest neighbours averaged. Default DefaultK.
	K int `yaml:"k"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Dim, DefaultDim)
	cfgcheck.Default(&c.History, DefaultHistory)
	cfgcheck.Default(&c.Calib, DefaultCalib)
	cfgcheck.Default(&c.K, DefaultK)
	return c
}

// Validate reports the first bad field (after WithDefaults).
func (c Config) Validate() error {
	c = c.WithDefaults()
	return cfgcheck.First(
		cfgcheck.Check(c.Dim < 1 || c.Dim > MaxDim, "dim: %d must be in [1, %d]", c.Dim, MaxDim),
		cfgcheck.Check(c.History < 1 || c.History > MaxHistory, "history: %d must be in [1, %d]", c.History, MaxHistory),
		cfgcheck.Check(c.Calib < 1 || c.Calib > MaxCalib, "calib: %d must be in [1, %d]", c.Calib, MaxCalib),
		cfgcheck.Check(c.K < 1 || c.K > c.History || c.K > maxK, "k: %d must be in [1, min(history, %d)]", c.K, maxK),
	)
}

// maxK bounds K so the nearest distances fit an array on the stack.
const maxK = 16

// Detector is the k-NN state of one series. It is not safe for concurrent
// use.
type Detector struct {
	cfg  Config
	n    uint64    // points seen (NaN and infinities excluded)
	vals []float32 // the last History+Dim values, oldest first
	ncm  []float32 // ring of the last Calib nonconformities
	pos  int       // next slot of ncm
	nncm int       // nonconformities in ncm
}

// New returns a detector with the configuration c (zero fields take their
// defaults).
func New(c Config) (*Detector, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	c = c.WithDefaults()
	return &Detector{cfg: c, vals: make([]float32, c.History+c.Dim), ncm: make([]float32, c.Calib)}, nil
}

// Score is a detector's verdict on one point.
type Score struct {
	// NCM is the point's nonconformity: the mean distance from its shape
	// to its K nearest past shapes (in the series' units). 0 until the
	// detector holds K past shapes.
	NCM float64
	// Excess is NCM over the largest of the last Calib nonconformities:
	// above 1, the point's shape is stranger than every recent one; +Inf
	// when those were all 0 and this one is not.
	Excess float64
	// Rank is the share of the last Calib nonconformities below NCM, in
	// [0, 1] (a conformal p-value's complement).
	Rank float64
	// WarmedUp is true once Calib nonconformities are held.
	WarmedUp bool
}

// Update scores x and learns it. NaN and infinite values are ignored.
func (d *Detector) Update(x float64) Score {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Score{}
	}
	c := &d.cfg
	d.n++
	l := len(d.vals)
	copy(d.vals, d.vals[1:])
	d.vals[l-1] = float32(x)
	// Past shapes end at lags 1..lags; a shape needs Dim values held.
	lags := int(min(d.n, uint64(l))) - c.Dim
	if lags < c.K {
		return Score{}
	}
	ncm := d.nonconformity(lags)
	var s Score
	s.NCM = ncm
	if d.nncm > 0 {
		below, top := 0, float32(0)
		for _, v := range d.ncm[:d.nncm] {
			if float64(v) < ncm {
				below++
			}
			top = max(top, v)
		}
		s.Rank = float64(below) / float64(d.nncm)
		switch {
		case top > 0:
			s.Excess = ncm / float64(top)
		case ncm > 0:
			s.Excess = math.Inf(1)
		}
	}
	s.WarmedUp = d.nncm == c.Calib
	d.ncm[d.pos] = float32(ncm)
	d.pos = (d.pos + 1) % c.Calib
	d.nncm = min(d.nncm+1, c.Calib)
	return s
}

// nonconformity returns the mean distance from the current shape (the last
// Dim values) to its K nearest among the shapes ending 1..lags points
// before it.
func (d *Detector) nonconformity(lags int) float64 {
	c := &d.cfg
	l := len(d.vals)
	cur := d.vals[l-c.Dim:]
	var best [maxK]float64 // the K smallest squared distances, ascending
	nb := 0
	lag := 1
	// Four lags at a time: four independent sums instead of one chain of
	// dependent additions (the order of each sum is fixed, so the result
	// is the same on every run).
	for ; lag+3 <= lags; lag += 4 {
		p0 := d.vals[l-c.Dim-lag : l-lag]
		p1 := d.vals[l-c.Dim-lag-1 : l-lag-1]
		p2 := d.vals[l-c.Dim-lag-2 : l-lag-2]
		p3 := d.vals[l-c.Dim-lag-3 : l-lag-3]
		var s0, s1, s2, s3 float64
		for i, a := range cur {
			v := float64(a)
			t0, t1, t2, t3 := v-float64(p0[i]), v-float64(p1[i]), v-float64(p2[i]), v-float64(p3[i])
			s0 += t0 * t0
			s1 += t1 * t1
			s2 += t2 * t2
			s3 += t3 * t3
		}
		nb = insert(&best, nb, c.K, s0)
		nb = insert(&best, nb, c.K, s1)
		nb = insert(&best, nb, c.K, s2)
		nb = insert(&best, nb, c.K, s3)
	}
	for ; lag <= lags; lag++ {
		past := d.vals[l-c.Dim-lag : l-lag]
		s := 0.0
		for i, a := range cur {
			t := float64(a) - float64(past[i])
			s += t * t
		}
		nb = insert(&best, nb, c.K, s)
	}
	sum := 0.0
	for _, s := range best[:nb] {
		sum += math.Sqrt(s)
	}
	return sum / float64(nb)
}

// insert puts s among the k smallest squared distances best[:nb]
// (ascending) and returns their new number.
func insert(best *[maxK]float64, nb, k int, s float64) int {
	if nb == k && s >= best[nb-1] {
		return nb
	}
	i := min(nb, k-1)
	for i > 0 && best[i-1] > s {
		best[i] = best[i-1]
		i--
	}
	best[i] = s
	return min(nb+1, k)
}

// StateBytes returns the bytes of state the detector keeps.
func (d *Detector) StateBytes() int { return 4*(len(d.vals)+len(d.ncm)) + 72 }
