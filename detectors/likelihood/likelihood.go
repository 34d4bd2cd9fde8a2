// Package likelihood calibrates a raw anomaly score stream into a
// probability: how unusual the recent raw scores are compared with the
// series' own history of raw scores. It is the streaming, bounded-memory
// form of Numenta's "anomaly likelihood": the raw scores are averaged over
// a short window, the average is compared with an exponentially weighted
// mean and variance of past averages, and the Gaussian tail probability Q
// of that deviation gives the likelihood 1 − Q.
//
// Calibration is what makes scores of different detectors and different
// series comparable against one threshold. A raw score is compared with the
// history before it is added (no look-ahead).
package likelihood

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultShort     = 1
	DefaultAlpha     = 0.002
	DefaultMinPoints = 100
	// MaxShort bounds the averaging window.
	MaxShort = 1024
)

// Config configures a Calibrator.
type Config struct {
	// Short is the number of recent raw scores averaged. Default
	// DefaultShort (no averaging).
	Short int `yaml:"short"`
	// Alpha smooths the mean and variance of past averages. Default
	// DefaultAlpha (a memory of about 500 points).
	Alpha float64 `yaml:"alpha"`
	// MinPoints is the number of raw scores needed before the likelihood
	// leaves 0.5. Default DefaultMinPoints.
	MinPoints int `yaml:"min_points"`
	// MinSigma floors the standard deviation of the averages. Default
	// 1e-3.
	MinSigma float64 `yaml:"min_sigma"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Short, DefaultShort)
	cfgcheck.Default(&c.Alpha, DefaultAlpha)
	cfgcheck.Default(&c.MinPoints, DefaultMinPoints)
	cfgcheck.Default(&c.MinSigma, 1e-3)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.Between("short", c.Short, 1, MaxShort),
		cfgcheck.Fraction("alpha", c.Alpha),
		cfgcheck.AtLeast("min_points", c.MinPoints, 2),
		cfgcheck.Positive("min_sigma", c.MinSigma),
	)
}

// Calibrator is the calibration state of one raw score stream. It is not
// safe for concurrent use.
type Calibrator struct {
	cfg  Config
	ring []float64
	sum  float64
	pos  int
	mean float64
	vari float64
	n    uint64
}

// New returns a calibrator for cfg after WithDefaults and Validate.
func New(cfg Config) (*Calibrator, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("likelihood: %w", err)
	}
	return &Calibrator{cfg: cfg, ring: make([]float64, cfg.Short)}, nil
}

// Update adds a raw score (larger = more anomalous; NaN counts as 0) and
// returns the likelihood in [0, 1] that the recent raw scores are unusual:
// 0.5 while warming up.
func (c *Calibrator) Update(raw float64) float64 {
	if math.IsNaN(raw) {
		raw = 0
	}
	raw = math.Min(raw, 1e12)
	c.sum += raw - c.ring[c.pos]
	c.ring[c.pos] = raw
	c.pos++
	if c.pos == len(c.ring) {
		c.pos = 0
		// Recompute the sum once per turn so rounding does not drift.
		c.sum = 0
		for _, v := range c.ring {
			c.sum += v
		}
	}
	avg := c.sum / float64(len(c.ring))
	l := 0.5
	if c.n >= uint64(c.cfg.MinPoints) {
		sd := math.Max(math.Sqrt(c.vari), c.cfg.MinSigma)
		l = 1 - Tail((avg-c.mean)/sd)
	}
	c.n++
	a := math.Max(c.cfg.Alpha, 1/float64(c.n))
	diff := avg - c.mean
	inc := a * diff
	c.mean += inc
	c.vari = (1 - a) * (c.vari + diff*inc)
	return l
}

// Tail returns the upper tail probability of the standard normal
// distribution at z.
func Tail(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// LogScale maps a likelihood to [0, 1] on a log scale, as Numenta does:
// 1 − 1e-5 becomes 0.5 and 1 − 1e-10 becomes 1, so the extreme tail, where
// the anomalies are, is spread out.
func LogScale(l float64) float64 {
	return math.Max(0, math.Min(1, math.Log(1.0000000001-l)/math.Log(1e-10)))
}

// StateBytes returns the bytes of state kept per stream.
func (c *Calibrator) StateBytes() int { return 8*len(c.ring) + 40 }

const stateVersion = 1

// MarshalBinary encodes the state (version 1).
func (c *Calibrator) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (c *Calibrator) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagLikelihood, stateVersion)
	for _, f := range [...]float64{c.sum, c.mean, c.vari} {
		dst = enc.AppendF64(dst, f)
	}
	dst = enc.AppendU(dst, uint64(c.pos))
	dst = enc.AppendU(dst, c.n)
	return enc.AppendF64s(dst, c.ring), nil
}

// UnmarshalBinary restores a state written with the same Short.
func (c *Calibrator) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagLikelihood, stateVersion)
	sum, mean, vari := r.F64(), r.F64(), r.F64()
	pos, n := r.U(), r.U()
	ring := r.F64s(nil, len(c.ring))
	if err := r.Done(); err != nil {
		return fmt.Errorf("likelihood: %w", err)
	}
	if len(ring) != len(c.ring) || pos >= uint64(len(c.ring)) {
		return fmt.Errorf("likelihood: state for short %d, the calibrator has %d", len(ring), len(c.ring))
	}
	c.sum, c.mean, c.vari, c.pos, c.n = sum, mean, vari, int(pos), n
	copy(c.ring, ring)
	return nil
}
