package likelihood

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// Defaults of RecordConfig.
const (
	DefaultRecordDecay     = 0.0002
	DefaultRecordMinPoints = 150
)

// RecordConfig configures a Record calibrator.
type RecordConfig struct {
	// Decay is the fraction by which the remembered record shrinks per
	// point, so an old extreme is forgotten after about 1/Decay points.
	// Default DefaultRecordDecay.
	Decay float64 `yaml:"decay"`
	// MinPoints is the number of non-zero raw scores needed before the
	// calibrator scores. Default DefaultRecordMinPoints.
	MinPoints int `yaml:"min_points"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c RecordConfig) WithDefaults() RecordConfig {
	if c.Decay == 0 {
		c.Decay = DefaultRecordDecay
	}
	if c.MinPoints == 0 {
		c.MinPoints = DefaultRecordMinPoints
	}
	return c
}

// Validate reports the first bad field.
func (c RecordConfig) Validate() error {
	switch {
	case !(c.Decay >= 0 && c.Decay < 1):
		return fmt.Errorf("decay: %v must be in [0, 1)", c.Decay)
	case c.MinPoints < 1:
		return fmt.Errorf("min_points: %d must be at least 1", c.MinPoints)
	}
	return nil
}

// Record calibrates a raw score by the record it sets: the ratio of
// log(1 + raw) to the largest log(1 + raw) seen before on this stream
// (which slowly decays). A ratio above 1 is a new record: the series does
// something more extreme than anything in its recent history, whatever its
// noise level. This is an extreme-value calibration: it needs no
// distributional assumption, and it makes one threshold fit series of any
// scale and noise. It is not safe for concurrent use.
type Record struct {
	cfg RecordConfig
	max float64
	n   uint64
}

// NewRecord returns a calibrator for cfg after WithDefaults and Validate.
func NewRecord(cfg RecordConfig) (*Record, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return &Record{cfg: cfg}, nil
}

// Update adds a raw score (≥ 0; NaN counts as 0) and returns its ratio to
// the previous record, 0 while warming up.
func (r *Record) Update(raw float64) float64 {
	if !(raw > 0) {
		raw = 0
	}
	g := math.Log1p(min(raw, 1e300))
	ratio := 0.0
	if r.n >= uint64(r.cfg.MinPoints) && r.max > 0 {
		ratio = g / r.max
	}
	if g != 0 {
		r.n++
	}
	r.max = max(r.max*(1-r.cfg.Decay), g)
	return ratio
}

// Max returns the current record, as log(1 + raw).
func (r *Record) Max() float64 { return r.max }

// StateBytes returns the bytes of state kept per stream.
func (r *Record) StateBytes() int { return 16 }

// MarshalBinary encodes the state (version 1).
func (r *Record) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (r *Record) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagRecord, stateVersion)
	dst = enc.AppendF64(dst, r.max)
	return enc.AppendU(dst, r.n), nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (r *Record) UnmarshalBinary(b []byte) error {
	rd := enc.Reader{B: b}
	rd.Header(enc.TagRecord, stateVersion)
	m, n := rd.F64(), rd.U()
	if err := rd.Done(); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	r.max, r.n = m, n
	return nil
}
