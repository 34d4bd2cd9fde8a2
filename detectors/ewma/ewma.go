// Package ewma scores values by their z-score against an exponentially
// weighted moving mean and variance. It keeps three numbers per series and
// is the cheapest detector: a spike or a dip is many standard deviations
// away from the mean, and a level shift is until the mean catches up.
//
// A value is scored against the state before it is added, so a score never
// depends on later data (no look-ahead).
package ewma

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/detectors/internal/weight"
	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultAlpha     = 0.02
	DefaultMinPoints = 20
	// DefaultMinSigmaFraction floors sigma at this fraction of |mean|.
	DefaultMinSigmaFraction = 1e-3
)

// Config configures a Detector.
type Config struct {
	// Alpha is the weight of a new value, in (0, 1); the memory is about
	// 1/Alpha points. Default DefaultAlpha.
	Alpha float64 `yaml:"alpha"`
	// MinPoints is the number of values needed before scoring starts.
	// Default DefaultMinPoints.
	MinPoints int `yaml:"min_points"`
	// MinSigma floors sigma in absolute units. Default 0.
	MinSigma float64 `yaml:"min_sigma"`
	// MinSigmaFraction floors sigma at this fraction of |mean|. Default
	// DefaultMinSigmaFraction.
	MinSigmaFraction float64 `yaml:"min_sigma_fraction"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Alpha, DefaultAlpha)
	cfgcheck.Default(&c.MinPoints, DefaultMinPoints)
	cfgcheck.Default(&c.MinSigmaFraction, DefaultMinSigmaFraction)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.Fraction("alpha", c.Alpha),
		cfgcheck.AtLeast("min_points", c.MinPoints, 2),
		cfgcheck.Check(c.MinSigma < 0 || c.MinSigmaFraction < 0, "min_sigma and min_sigma_fraction must not be negative"),
	)
}

// Score is the result of scoring one value.
type Score struct {
	Z        float64 // z-score; 0 while warming up
	Mean     float64 // the expected value
	Sigma    float64 // the standard deviation (floored)
	WarmedUp bool
}

// Detector is the EWMA state of one series. It is not safe for concurrent
// use.
type Detector struct {
	cfg  Config
	mean float64
	vari float64
	n    uint64
	sat  uint64 // weight.Sat(cfg.Alpha): not state
}

// New returns a detector for cfg after WithDefaults and Validate.
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
func Init(d *Detector, cfg Config) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("ewma: %w", err)
	}
	*d = Detector{cfg: cfg, sat: weight.Sat(cfg.Alpha)}
	return nil
}

// Update scores x, then adds it. NaN and infinite values are ignored and
// score zero.
//
// It is Score then Add written as one function, the same operations in
// the same order: an ensemble calls it on every point, and the two calls
// and their checks of x were about half of its cost.
func (d *Detector) Update(x float64) Score {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Score{Mean: d.mean}
	}
	s := Score{Mean: d.mean}
	if d.n >= uint64(d.cfg.MinPoints) {
		s = d.score(x)
	}
	d.add(x)
	return s
}

// Score scores x without adding it.
func (d *Detector) Score(x float64) Score {
	if d.n < uint64(d.cfg.MinPoints) || math.IsNaN(x) || math.IsInf(x, 0) {
		return Score{Mean: d.mean}
	}
	return d.score(x)
}

// score is Score of a finite x after the warm-up.
func (d *Detector) score(x float64) Score {
	sigma := max(math.Sqrt(d.vari), max(d.cfg.MinSigma, d.cfg.MinSigmaFraction*math.Abs(d.mean)))
	if sigma == 0 {
		if x == d.mean {
			return Score{Mean: d.mean, WarmedUp: true}
		}
		return Score{Z: math.Copysign(1e6, x-d.mean), Mean: d.mean, WarmedUp: true}
	}
	return Score{Z: (x - d.mean) / sigma, Mean: d.mean, Sigma: sigma, WarmedUp: true}
}

// Add adds x to the moving mean and variance. The first values are
// averaged with weight 1/n so the start does not bias the mean.
func (d *Detector) Add(x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	d.add(x)
}

// add is Add of a finite x.
func (d *Detector) add(x float64) {
	d.n++
	a := weight.Of(d.cfg.Alpha, d.n, d.sat)
	diff := x - d.mean
	inc := a * diff
	d.mean += inc
	d.vari = (1 - a) * (d.vari + diff*inc)
}

// Mean returns the moving mean.
func (d *Detector) Mean() float64 { return d.mean }

// Sigma returns the moving standard deviation (not floored).
func (d *Detector) Sigma() float64 { return math.Sqrt(d.vari) }

// N returns the number of values added.
func (d *Detector) N() uint64 { return d.n }

// StateBytes returns the bytes of state kept per series (not counting the
// shared configuration).
func (d *Detector) StateBytes() int { return 24 }

const stateVersion = 1

// MarshalBinary encodes the state: tag, version, mean, variance, count.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagEWMA, stateVersion)
	dst = enc.AppendF64(dst, d.mean)
	dst = enc.AppendF64(dst, d.vari)
	return enc.AppendU(dst, d.n), nil
}

// UnmarshalBinary restores a state written by MarshalBinary into d, which
// keeps its configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagEWMA, stateVersion)
	mean, vari, n := r.F64(), r.F64(), r.U()
	if err := r.Done(); err != nil {
		return fmt.Errorf("ewma: %w", err)
	}
	d.mean, d.vari, d.n = mean, vari, n
	return nil
}
