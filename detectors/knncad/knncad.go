// Package knncad is a streaming k-nearest-neighbour conformal anomaly
// detector (after KNN-CAD, Burnaev & Ishimtsev, and the NAB-style output
// of CAD OSE / ARTime): every point's feature vector (a shingle of the
// last Dim values, scaled by the running range seen so far) is compared
// with the vectors of the last Train points; its nonconformity is the mean
// distance to its K nearest neighbours, and its score is the share of the
// last Calib nonconformities that are lower (a conformal p-value turned
// into an anomaly score in [0,1]). A point's score depends only on the
// points up to it.
package knncad

import (
	"fmt"
	"math"
	"slices"
)

// Defaults of Config.
const (
	DefaultDim   = 10
	DefaultTrain = 400
	DefaultCalib = 400
	DefaultK     = 3
	DefaultGap   = 0
)

// Config configures a Detector. The zero value is the default.
type Config struct {
	// Dim is the number of values in a feature vector.
	Dim int `yaml:"dim"`
	// Train is the number of past vectors searched for neighbours.
	Train int `yaml:"train"`
	// Calib is the number of past nonconformities a new one is ranked in.
	Calib int `yaml:"calib"`
	// K is the number of neighbours.
	K int `yaml:"k"`
	// Gap excludes the most recent Gap vectors from the neighbour search
	// (they overlap the current one).
	Gap int `yaml:"gap"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Dim == 0 {
		c.Dim = DefaultDim
	}
	if c.Train == 0 {
		c.Train = DefaultTrain
	}
	if c.Calib == 0 {
		c.Calib = DefaultCalib
	}
	if c.K == 0 {
		c.K = DefaultK
	}
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Dim < 1 || c.Dim > 256:
		return fmt.Errorf("dim: %d must be in [1, 256]", c.Dim)
	case c.Train < 1:
		return fmt.Errorf("train: %d must be positive", c.Train)
	case c.Calib < 1:
		return fmt.Errorf("calib: %d must be positive", c.Calib)
	case c.K < 1 || c.K > c.Train:
		return fmt.Errorf("k: %d must be in [1, train]", c.K)
	case c.Gap < 0:
		return fmt.Errorf("gap: %d must not be negative", c.Gap)
	}
	return nil
}

// Detector is the state of one series. Not safe for concurrent use.
type Detector struct {
	cfg      Config
	shingle  []float64 // last Dim raw values, ring
	spos     int
	n        uint64
	lo, hi   float64
	vecs     []float64 // Train+Gap vectors of Dim, ring (raw values)
	vpos     int
	nvec     int
	ncm      []float64 // ring of Calib nonconformities
	npos     int
	nncm     int
	best     []float64
	cur, tmp []float64
}

// New returns a detector for cfg (after WithDefaults).
func New(cfg Config) (*Detector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("knncad: %w", err)
	}
	slots := cfg.Train + cfg.Gap
	return &Detector{
		cfg: cfg, shingle: make([]float64, cfg.Dim), vecs: make([]float64, slots*cfg.Dim),
		ncm: make([]float64, cfg.Calib), best: make([]float64, 0, cfg.K),
		cur: make([]float64, cfg.Dim), tmp: make([]float64, cfg.Dim),
		lo: math.Inf(1), hi: math.Inf(-1),
	}, nil
}

// Score is a detector's verdict.
type Score struct {
	// Score is the share of recent nonconformities below this point's,
	// in [0,1]; 0 until warmed up.
	Score float64
	// NCM is the point's nonconformity (mean scaled distance to its K
	// nearest neighbours).
	NCM float64
	// Excess is the ratio of NCM to the largest recent nonconformity
	// (above 1: the point is stranger than anything recent).
	Excess   float64
	WarmedUp bool
}

// Update scores x and learns it. NaN and infinite values are ignored.
func (d *Detector) Update(x float64) Score {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Score{}
	}
	c := &d.cfg
	d.lo, d.hi = math.Min(d.lo, x), math.Max(d.hi, x)
	d.shingle[d.spos] = x
	d.spos = (d.spos + 1) % c.Dim
	d.n++
	if d.n < uint64(c.Dim) {
		return Score{}
	}
	for i := range c.Dim {
		d.cur[i] = d.shingle[(d.spos+i)%c.Dim]
	}
	scale := d.hi - d.lo
	if scale <= 0 {
		scale = 1
	}
	var out Score
	usable := d.nvec - c.Gap
	if usable >= c.K {
		slots := c.Train + c.Gap
		d.best = d.best[:0]
		for j := range usable {
			// the oldest usable vectors first: slot (vpos + j) when full
			idx := (d.vpos - d.nvec + j + 2*slots) % slots
			v := d.vecs[idx*c.Dim : (idx+1)*c.Dim]
			s := 0.0
			for i, a := range d.cur {
				t := a - v[i]
				s += t * t
			}
			d.insertBest(s)
		}
		sum := 0.0
		for _, s := range d.best {
			sum += math.Sqrt(s)
		}
		ncm := sum / float64(len(d.best)) / scale
		out.NCM = ncm
		if d.nncm > 0 {
			below, top := 0, 0.0
			for _, v := range d.ncm[:d.nncm] {
				if v < ncm {
					below++
				}
				top = math.Max(top, v)
			}
			out.Score = float64(below) / float64(d.nncm)
			if top > 0 {
				out.Excess = ncm / top
			} else if ncm > 0 {
				out.Excess = math.Inf(1)
			}
		}
		out.WarmedUp = d.nncm >= c.Calib/2
		d.ncm[d.npos] = ncm
		d.npos = (d.npos + 1) % c.Calib
		d.nncm = min(d.nncm+1, c.Calib)
	}
	slots := c.Train + c.Gap
	copy(d.vecs[d.vpos*c.Dim:], d.cur)
	d.vpos = (d.vpos + 1) % slots
	d.nvec = min(d.nvec+1, slots)
	return out
}

func (d *Detector) insertBest(s float64) {
	k := d.cfg.K
	if len(d.best) == k && s >= d.best[k-1] {
		return
	}
	i, _ := slices.BinarySearch(d.best, s)
	if len(d.best) < k {
		d.best = append(d.best, 0)
	}
	copy(d.best[i+1:], d.best[i:len(d.best)-1])
	d.best[i] = s
}

// StateBytes returns the bytes of state the detector keeps.
func (d *Detector) StateBytes() int {
	return 8*(len(d.shingle)+len(d.vecs)+len(d.ncm)+cap(d.best)+2*len(d.cur)) + 64
}
