// Package multivar is the multivariate per-device detector: it scores a
// vector of a device's related series (say the in and out rates, errors and
// temperature of one port, sampled together) by its Mahalanobis distance
// from an exponentially weighted mean and covariance, so it catches a
// point where each series is inside its own normal range but their
// relationship is broken (traffic out without traffic in). The squared
// distance splits exactly into per-series contributions, which name the
// series that contributed most.
//
// The covariance is factorised (Cholesky, gonum) every RefitEvery points;
// a vector is scored against the state before it is added (no
// look-ahead).
package multivar

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultAlpha      = 0.01
	DefaultMinPoints  = 50
	DefaultRidge      = 1e-3
	DefaultRefitEvery = 1
	// MaxDims bounds the vector length.
	MaxDims = 64
)

// Config configures a Detector.
type Config struct {
	// Alpha smooths the mean and covariance. Default DefaultAlpha.
	Alpha float64 `yaml:"alpha"`
	// MinPoints is the number of vectors before scoring starts. Default
	// DefaultMinPoints.
	MinPoints int `yaml:"min_points"`
	// Ridge is added to the covariance diagonal, as a fraction of each
	// variance (plus a tiny absolute floor), so constant or perfectly
	// correlated series keep it invertible. Default DefaultRidge.
	Ridge float64 `yaml:"ridge"`
	// RefitEvery is how often (in vectors) the covariance is factorised.
	// Default DefaultRefitEvery (every vector: a restored detector then
	// scores exactly as the original; with a larger value it refits on its
	// first vector, so scores may differ slightly until the next refit).
	RefitEvery int `yaml:"refit_every"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Alpha, DefaultAlpha)
	cfgcheck.Default(&c.MinPoints, DefaultMinPoints)
	cfgcheck.Default(&c.Ridge, DefaultRidge)
	cfgcheck.Default(&c.RefitEvery, DefaultRefitEvery)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.Fraction("alpha", c.Alpha),
		cfgcheck.AtLeast("min_points", c.MinPoints, 2),
		cfgcheck.Positive("ridge", c.Ridge),
		cfgcheck.AtLeast("refit_every", c.RefitEvery, 1),
	)
}

// Score is the result of scoring one vector. Contrib aliases the
// detector's memory: it is valid until the next Update.
type Score struct {
	// D2 is the squared Mahalanobis distance.
	D2 float64
	// Z is D2 expressed as a standard normal quantile of the chi-squared
	// tail probability with dims degrees of freedom (capped at 40).
	Z float64
	// Contrib[i] is series i's share of D2: r_i·(Σ⁻¹r)_i, summing to D2.
	Contrib []float64
	// Top is the index of the series with the largest contribution.
	Top int
	// Expected is the mean vector (aliases the detector's memory).
	Expected []float64
	WarmedUp bool
}

// Detector is the multivariate state of one device's group of series. It
// is not safe for concurrent use.
type Detector struct {
	cfg  Config
	dims int
	mean []float64
	cov  []float64 // dims × dims, row major, symmetric
	n    uint64

	// Derived and scratch; not state.
	chol    mat.Cholesky
	fitted  bool
	sinceFt int
	sym     *mat.SymDense
	r, w    []float64
	contrib []float64
	exp     []float64
	chi     distuv.ChiSquared
}

// New returns a detector of vectors of dims series.
func New(cfg Config, dims int) (*Detector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("multivar: %w", err)
	}
	if dims < 1 || dims > MaxDims {
		return nil, fmt.Errorf("multivar: dims %d must be between 1 and %d", dims, MaxDims)
	}
	return &Detector{cfg: cfg, dims: dims, mean: make([]float64, dims), cov: make([]float64, dims*dims),
		sym: mat.NewSymDense(dims, nil), r: make([]float64, dims), w: make([]float64, dims),
		contrib: make([]float64, dims), exp: make([]float64, dims), chi: distuv.ChiSquared{K: float64(dims)}}, nil
}

// Dims returns the vector length.
func (d *Detector) Dims() int { return d.dims }

// Update scores x (len Dims; no NaN) against the state, then adds it.
func (d *Detector) Update(x []float64) (Score, error) {
	if err := d.check(x); err != nil {
		return Score{}, err
	}
	s := d.score(x)
	d.add(x)
	return s, nil
}

// Score scores x (len Dims; no NaN) against the state without adding it:
// a caller that keeps an incident out of the model calls Score, then Add
// only for the vectors it accepts. Update is Score then Add.
func (d *Detector) Score(x []float64) (Score, error) {
	if err := d.check(x); err != nil {
		return Score{}, err
	}
	return d.score(x), nil
}

// Add adds x (len Dims; no NaN) to the state.
func (d *Detector) Add(x []float64) error {
	if err := d.check(x); err != nil {
		return err
	}
	d.add(x)
	return nil
}

func (d *Detector) check(x []float64) error {
	if len(x) != d.dims {
		return fmt.Errorf("multivar: vector of %d, want %d", len(x), d.dims)
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("multivar: vector holds NaN or Inf")
		}
	}
	return nil
}

func (d *Detector) refit() bool {
	n := d.dims
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := d.cov[i*n+j]
			if i == j {
				v += d.cfg.Ridge*v + 1e-12*(1+d.mean[i]*d.mean[i])
			}
			d.sym.SetSym(i, j, v)
		}
	}
	d.fitted = d.chol.Factorize(d.sym)
	d.sinceFt = 0
	return d.fitted
}

func (d *Detector) score(x []float64) Score {
	copy(d.exp, d.mean)
	s := Score{Expected: d.exp, Contrib: d.contrib}
	if d.n < uint64(d.cfg.MinPoints) {
		clear(d.contrib)
		return s
	}
	if !d.fitted || d.sinceFt >= d.cfg.RefitEvery {
		if !d.refit() {
			clear(d.contrib)
			return s
		}
	}
	for i := range x {
		d.r[i] = x[i] - d.mean[i]
	}
	rv := mat.NewVecDense(d.dims, d.r)
	wv := mat.NewVecDense(d.dims, d.w)
	if err := d.chol.SolveVecTo(wv, rv); err != nil {
		clear(d.contrib)
		return s
	}
	best := math.Inf(-1)
	for i := range d.r {
		c := d.r[i] * d.w[i]
		d.contrib[i] = c
		s.D2 += c
		if c > best {
			best, s.Top = c, i
		}
	}
	s.WarmedUp = true
	p := d.chi.Survival(s.D2)
	if p <= 0 {
		s.Z = 40
	} else {
		s.Z = math.Min(40, -distuv.UnitNormal.Quantile(p))
	}
	return s
}

func (d *Detector) add(x []float64) {
	d.n++
	d.sinceFt++
	a := math.Max(d.cfg.Alpha, 1/float64(d.n))
	n := d.dims
	for i := range x {
		d.r[i] = x[i] - d.mean[i]
	}
	for i := 0; i < n; i++ {
		d.mean[i] += a * d.r[i]
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			d.cov[i*n+j] = (1 - a) * (d.cov[i*n+j] + a*d.r[i]*d.r[j])
		}
	}
}

// StateBytes returns the bytes of state kept per group (mean, covariance,
// count; the factorisation and scratch are derived).
func (d *Detector) StateBytes() int { return 8*(d.dims+d.dims*d.dims) + 8 }

const stateVersion = 1

// MarshalBinary encodes the state (version 1).
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagMahalanobis, stateVersion)
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendU(dst, uint64(d.sinceFt))
	dst = enc.AppendF64s(dst, d.mean)
	return enc.AppendF64s(dst, d.cov), nil
}

// UnmarshalBinary restores a state of the same number of dims. The next
// score refits the covariance.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagMahalanobis, stateVersion)
	n, since := r.U(), r.U()
	mean := r.F64s(nil, d.dims)
	cov := r.F64s(nil, d.dims*d.dims)
	if err := r.Done(); err != nil {
		return fmt.Errorf("multivar: %w", err)
	}
	if len(mean) != d.dims || len(cov) != d.dims*d.dims {
		return fmt.Errorf("multivar: state of %d dims, the detector has %d", len(mean), d.dims)
	}
	d.n, d.sinceFt = n, int(since)
	copy(d.mean, mean)
	copy(d.cov, cov)
	d.fitted = false
	return nil
}
