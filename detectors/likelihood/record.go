package likelihood

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/internal/cfgcheck"
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
	cfgcheck.Default(&c.Decay, DefaultRecordDecay)
	cfgcheck.Default(&c.MinPoints, DefaultRecordMinPoints)
	return c
}

// Validate reports the first bad field.
func (c RecordConfig) Validate() error {
	return cfgcheck.First(
		cfgcheck.Check(!(c.Decay >= 0 && c.Decay < 1), "decay: %v must be in [0, 1)", c.Decay),
		cfgcheck.AtLeast("min_points", c.MinPoints, 1),
	)
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
	// lim and left let AddQuiet skip the logarithm: a raw score at most
	// lim cannot raise the record over the next left decays (see
	// quietLimit). Neither is state: a restored record recomputes them.
	lim  float64
	left uint32
}

// NewRecord returns a calibrator for cfg after WithDefaults and Validate.
func NewRecord(cfg RecordConfig) (*Record, error) {
	r := new(Record)
	if err := InitRecord(r, cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// InitRecord sets *r to a new calibrator for cfg, as NewRecord returns, or
// returns the first bad field: a caller that keeps records in a larger
// struct (the ensemble's per-series block) builds one in place.
func InitRecord(r *Record, cfg RecordConfig) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	*r = Record{cfg: cfg}
	return nil
}

// Update adds a raw score (≥ 0; NaN counts as 0) and returns its ratio to
// the previous record, 0 while warming up. It is Ratio(raw, 0) then Add(raw).
func (r *Record) Update(raw float64) float64 {
	g := logScore(raw)
	ratio := r.RatioLog(g)
	r.AddLog(g)
	return ratio
}

// logScore maps a raw score to the record's scale, log(1 + raw); NaN and
// negative scores count as 0.
func logScore(raw float64) float64 {
	if !(raw > 0) {
		return 0
	}
	return math.Log1p(min(raw, 1e300))
}

// Ratio returns raw's ratio to the current record without adding it, 0
// while the record warms up (MinPoints non-zero scores).
func (r *Record) Ratio(raw float64) float64 { return r.RatioLog(logScore(raw)) }

// RatioLog is Ratio with the score given as Log(raw), for a caller that
// needs the log score more than once.
func (r *Record) RatioLog(g float64) float64 {
	if r.n >= uint64(r.cfg.MinPoints) && r.max > 0 {
		return g / r.max
	}
	return 0
}

// Add adds a raw score to the record: the record decays by one point and
// becomes the score's log(1 + raw) if that is larger.
func (r *Record) Add(raw float64) { r.AddLog(logScore(raw)) }

// AddLog is Add with the score given as Log(raw).
func (r *Record) AddLog(g float64) {
	if g != 0 {
		r.n++
	}
	r.max = max(r.decayed(), g)
}

// AddQuiet is Add for a caller that does not need the score's ratio: it
// leaves the record exactly as Add does, but takes the logarithm only of
// a raw score that may raise the record (most do not), which is most of
// the cost of Add.
//
// Its common path (TryQuiet) makes no call: a score at most the quiet
// limit, while the limit holds, only decays the record (as addQuiet
// would); a score that may raise the record, or a limit due for renewal,
// takes addQuiet.
func (r *Record) AddQuiet(raw float64) {
	if !r.TryQuiet(raw) {
		r.addQuiet(raw)
	}
}

// TryQuiet is AddQuiet's common path, for a caller that calls it on every
// point (an ensemble, for each member): when AddQuiet would only decay the
// record (a score at most the quiet limit, while the limit holds), it
// does so and reports true; otherwise it changes nothing and reports
// false, and the caller calls AddQuiet. Unlike AddQuiet it is inlined.
func (r *Record) TryQuiet(raw float64) bool {
	if raw > r.lim || r.left == 0 {
		return false
	}
	if raw > 0 {
		r.n++
	}
	r.left--
	r.max *= 1 - r.cfg.Decay
	return true
}

// addQuiet is AddQuiet in full.
func (r *Record) addQuiet(raw float64) {
	if raw > 0 {
		r.n++
	}
	m := r.decayed()
	if raw > r.lim {
		m = max(m, logScore(raw))
	}
	r.max = m
}

// quietPoints is how many decays a quiet limit holds for.
const quietPoints = 32

// decayed returns the record decayed by one point, counting the decay
// against the quiet limit, which it renews every quietPoints decays.
func (r *Record) decayed() float64 {
	m := r.max * (1 - r.cfg.Decay)
	if r.left == 0 {
		r.lim, r.left = quietLimit(m, r.cfg.Decay), quietPoints
	}
	r.left--
	return m
}

// quietLimit returns a raw score whose log(1 + raw) is below the record m
// decayed by quietPoints points, with a margin of a millionth that
// dwarfs the rounding of log1p, expm1 and the decays in between (a few
// units in the last place): no raw score at most the limit can raise the
// record within those points, however the logarithm rounds. A raise
// between only makes it safer. Near the smallest floats there is no such
// margin, so the limit is 0 there (every positive score is checked).
func quietLimit(m, decay float64) float64 {
	q := 1 - decay
	for range 5 { // q^32
		q *= q
	}
	if m *= q; m < 1e-290 {
		return 0
	}
	return math.Expm1(m) * (1 - 1e-6)
}

// Skip counts a raw score that is kept out of the record (a point of an
// incident): the record decays by one point and the warm-up counts it,
// but the record does not rise. Raise can add it later.
func (r *Record) Skip(raw float64) { r.SkipLog(logScore(raw)) }

// SkipLog is Skip with the score given as Log(raw).
func (r *Record) SkipLog(g float64) {
	if g != 0 {
		r.n++
	}
	r.max = r.decayed()
}

// SkipQuiet is Skip without the logarithm, which Skip needs only to know
// whether the score is 0.
func (r *Record) SkipQuiet(raw float64) {
	if raw > 0 {
		r.n++
	}
	r.max = r.decayed()
}

// Raise raises the record to g, a log(1 + raw) score kept out of it
// earlier (see Skip), if that is larger.
func (r *Record) Raise(g float64) { r.max = max(r.max, g) }

// Log returns raw on the record's scale, log(1 + raw).
func Log(raw float64) float64 { return logScore(raw) }

// Count returns the non-zero raw scores the record took (and Skip
// counted): the warm-up's count.
func (r *Record) Count() uint64 { return r.n }

// Max returns the current record, as log(1 + raw).
func (r *Record) Max() float64 { return r.max }

// StateBytes returns the bytes of state kept per stream: the record and
// its count (and the quiet limit, which is not written).
func (r *Record) StateBytes() int { return 32 }

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
	if !(m >= 0) || math.IsInf(m, 1) {
		return fmt.Errorf("record: %v is not a record (a finite log score, at least 0)", m)
	}
	// max(m, 0) makes a −0 the +0 an Add would leave.
	r.max, r.n, r.left = max(m, 0), n, 0
	return nil
}
