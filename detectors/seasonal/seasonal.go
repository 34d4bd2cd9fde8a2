// Package seasonal scores values against a seasonal baseline: an additive
// Holt-Winters model whose seasonal profile is kept per time-of-period bin
// (by default 288 five-minute bins of a day), indexed by the sample's
// timestamp, so irregular sampling and gaps do not shift the phase. The
// residual x − (level + season[bin]) is scored by its z-score against an
// exponentially weighted mean absolute residual.
//
// A bin's offset moves by Gamma on every point, so a series read many
// times a bin (10 s points, 5-minute bins: 30 points a visit) takes
// today's value within a visit's first points: at a visit's first point the
// expected value is the previous period's, and its error is how today
// differs from the previous period, not the noise from one point to the
// next. The residual scale is therefore kept apart for a visit's first
// point and for the points after it, and a point k points into its visit
// is scored against the larger of the scale within visits and the
// first points' scale × (1 − Gamma)^k, the share of the offset still the
// previous period's. A series read once a bin or less is scored against
// the first points' scale alone, as before the split. Score's Sigma is the
// scale over all points and Score's Visit the scale Z is scored against;
// an ensemble draws its band from the larger where the point is in line
// with the series' recent points (ensemble.Result.Z).
//
// A bin with no offset yet (every point of it kept out, or missing, since
// the series began) has no expectation: its values score as not warmed up
// rather than against the level alone.
//
// Strength reports how much of the series' variation the seasonal profile
// explains (1 − residual variance / variance around the level), which an
// ensemble uses to decide whether the series is seasonal at this period.
//
// A value is scored before it updates the model (no look-ahead).
package seasonal

import (
	"fmt"
	"math"
	"time"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/internal/intmath"
)

// Defaults of Config.
const (
	DefaultPeriod     = 24 * time.Hour
	DefaultBins       = 288
	DefaultAlpha      = 0.01
	DefaultGamma      = 0.2
	DefaultSigmaAlpha = 0.01
	// MaxBins bounds the memory of one series.
	MaxBins = 4096
)

// Config configures a Detector.
type Config struct {
	// Period is the length of the season. Default DefaultPeriod (daily);
	// 168h is weekly.
	Period time.Duration `yaml:"period"`
	// Bins is the number of time-of-period bins. Default DefaultBins; at
	// most MaxBins.
	Bins int `yaml:"bins"`
	// Alpha smooths the level, per point. Default DefaultAlpha.
	Alpha float64 `yaml:"alpha"`
	// Gamma smooths a bin's seasonal offset, per point (a bin read 30
	// times a visit takes the visit's value within its first points; see
	// the package comment). Default DefaultGamma.
	Gamma float64 `yaml:"gamma"`
	// SigmaAlpha smooths the residual scale, per point. Default
	// DefaultSigmaAlpha.
	SigmaAlpha float64 `yaml:"sigma_alpha"`
	// MinSigma floors the residual sigma in absolute units. Default 0.
	MinSigma float64 `yaml:"min_sigma"`
	// MinSigmaFraction floors the residual sigma at this fraction of
	// |level|. Default 1e-3.
	MinSigmaFraction float64 `yaml:"min_sigma_fraction"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Period, DefaultPeriod)
	cfgcheck.Default(&c.Bins, DefaultBins)
	cfgcheck.Default(&c.Alpha, DefaultAlpha)
	cfgcheck.Default(&c.Gamma, DefaultGamma)
	cfgcheck.Default(&c.SigmaAlpha, DefaultSigmaAlpha)
	cfgcheck.Default(&c.MinSigmaFraction, 1e-3)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.Positive("period", c.Period),
		cfgcheck.Between("bins", c.Bins, 1, MaxBins),
		cfgcheck.Fraction("alpha", c.Alpha),
		cfgcheck.Check(!(c.Gamma > 0 && c.Gamma <= 1), "gamma: %v must be in (0, 1]", c.Gamma),
		cfgcheck.Fraction("sigma_alpha", c.SigmaAlpha),
		cfgcheck.Check(c.MinSigma < 0 || c.MinSigmaFraction < 0, "min_sigma and min_sigma_fraction must not be negative"),
	)
}

// Score is the result of scoring one value.
type Score struct {
	Z        float64 // residual z-score against the scale of the point's place in its visit; 0 while warming up
	Expected float64 // level + seasonal offset of the value's bin
	Sigma    float64 // residual scale over all points (floored)
	Visit    float64 // residual scale of the point's place in its visit (floored), Z's
	WarmedUp bool    // a full period has been seen and the value's bin has an offset
}

// Detector is the seasonal model of one series. It is not safe for
// concurrent use.
type Detector struct {
	cfg    Config
	binNS  int64
	season []float64 // offset per bin; NaN until the bin is first visited
	level  float64
	mae    float64 // EW mean absolute residual
	mae0   float64 // of a visit's first point
	maeIn  float64 // of the points after it
	resVar float64 // EW variance of the residual
	lvlVar float64 // EW variance around the level alone
	first  int64   // timestamp of the first value
	n      uint64
	m      uint64 // values that updated the residual scale
	m0     uint64 // of which a visit's first point
	mIn    uint64 // and the points after it
	last   int64  // timestamp of the latest value added; 0 before one
	k      uint32 // the latest value's position in its visit (0: the first)
	open   bool   // a value may continue the latest value's visit (false before one)
	// binTS and binAt cache bin's last answer (Score and Add ask for the
	// same timestamp; the division is the slow part): not state.
	binTS int64
	binAt int
	// stale is (1 − Gamma)^(k+1): the share of the next point's offset
	// still the previous period's if it falls in the latest value's
	// visit. Not state (Add and UnmarshalBinary set it).
	stale   float64
	lastBin int // bin of last
	// kept has a bit per bin, set by Keep and cleared by Add: the bin's
	// latest value was kept out of the profile, so its offset is older
	// than its neighbours'.
	kept []uint64
}

// Keep records that the value at ts is kept out of the profile (an
// ensemble's hold of an incident): its bin keeps its offset, and Kept
// reports the bin until a value is added to it. The model is unchanged.
func (d *Detector) Keep(ts int64) {
	b := d.bin(ts)
	d.kept[b/64] |= 1 << (b % 64)
}

// Learn moves the offset of ts's bin towards x as Add does, and leaves
// the level, the residual scales and the visit untouched: the bin takes a
// value the rest of the model keeps out (an ensemble's echo of a hold,
// which recurs at its time of the period). The bin is no longer kept.
func (d *Detector) Learn(ts int64, x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) || d.n == 0 {
		return
	}
	b := d.bin(ts)
	d.kept[b/64] &^= 1 << (b % 64)
	off := d.season[b]
	if math.IsNaN(off) {
		d.season[b] = x - d.level
		return
	}
	d.season[b] = off + d.cfg.Gamma*(x-d.level-off)
}

// Offset returns the seasonal offset of ts's bin (NaN while the bin has
// none), to give back to Forget.
func (d *Detector) Offset(ts int64) float64 { return d.season[d.bin(ts)] }

// Forget sets the offset of ts's bin back to off, its Offset before a
// value added since turned out to be an incident's (an ensemble's alert
// fired on it or on the value after it), and marks the bin kept, as Keep
// would have: the bin expects at its next visit what it did before the
// incident. The level and the residual scales keep the value.
func (d *Detector) Forget(ts int64, off float64) {
	b := d.bin(ts)
	d.season[b] = off
	d.kept[b/64] |= 1 << (b % 64)
}

// Level returns the model's level (the series without its seasonal
// offsets), to give back to ForgetSince.
func (d *Detector) Level() float64 { return d.level }

// ForgetSince drops the offset of every bin from ts from's to ts to's
// (at most one period, wrapping) whose latest value was added rather than
// kept out: their values came from a stretch the series has since left
// (an ensemble's stretch away from its level, which ended by coming
// back), so they have no expectation until their next visit starts them
// afresh, as a bin never visited. So does to's own bin, kept or not: the
// stretch's last points are in it, before the ones that came back.
// Another kept bin keeps its older offset. A bin the series skipped in
// the stretch (a gap) loses its offset too: a bin keeps no time of its
// latest value. The level goes back to level, its
// Level before the stretch: it climbed with the stretch, and the bins'
// next values, learned against it, would take offsets as far off the
// other way. The residual scales keep the values.
func (d *Detector) ForgetSince(from, to int64, level float64) {
	if d.n > 0 && !math.IsNaN(level) {
		d.level = level
	}
	n := len(d.season)
	steps := min(int64(n), intmath.FloorDiv(to, d.binNS)-intmath.FloorDiv(from, d.binNS)+1)
	b, last := d.bin(from), d.bin(to)
	for range steps {
		if b == last || d.kept[b/64]&(1<<(b%64)) == 0 {
			d.season[b] = math.NaN()
		}
		if b++; b == n {
			b = 0
		}
	}
}

// Period returns the length of the season in nanoseconds.
func (d *Detector) Period() int64 { return int64(d.cfg.Period) }

// Kept reports whether the latest value of ts's bin was kept out of the
// profile (Keep) rather than added.
func (d *Detector) Kept(ts int64) bool {
	b := d.bin(ts)
	return d.kept[b/64]&(1<<(b%64)) != 0
}

// anyKept reports whether a bin's latest value was kept out.
func (d *Detector) anyKept() bool {
	for _, w := range d.kept {
		if w != 0 {
			return true
		}
	}
	return false
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
		return fmt.Errorf("seasonal: %w", err)
	}
	*d = Detector{cfg: cfg, season: make([]float64, cfg.Bins), binNS: max(int64(cfg.Period)/int64(cfg.Bins), 1), kept: make([]uint64, (cfg.Bins+63)/64)}
	for i := range d.season {
		d.season[i] = math.NaN()
	}
	return nil
}

func (d *Detector) bin(ts int64) int {
	if ts == d.binTS {
		return d.binAt
	}
	b := intmath.FloorDiv(ts, d.binNS) % int64(len(d.season))
	if b < 0 {
		b += int64(len(d.season))
	}
	d.binTS, d.binAt = ts, int(b)
	return int(b)
}

// pos returns the position in its visit of a value at ts: 0 when it is
// the visit's first (another bin than the latest value's, or a bin's
// width or more after it), else one more than the latest value's.
func (d *Detector) pos(ts int64) uint32 {
	if !d.open || ts-d.last >= d.binNS || ts < d.last || d.bin(ts) != d.lastBin {
		return 0
	}
	return d.k + 1
}

// Update scores x at ts, then updates the model with it. NaN and infinite
// values are ignored and score zero.
func (d *Detector) Update(ts int64, x float64) Score {
	s := d.Score(ts, x)
	d.Add(ts, x)
	return s
}

// Score scores x at ts without updating the model.
func (d *Detector) Score(ts int64, x float64) Score {
	var s Score
	d.ScoreInto(ts, x, &s)
	return s
}

// ScoreInto is Score writing the Score to *s, which it first zeroes: the
// ensemble scores every point, and the copy of a returned Score (five
// fields, so kept in memory) read it back in halves of two fields each,
// which waited for the fields' stores to complete, on every point.
func (d *Detector) ScoreInto(ts int64, x float64, s *Score) {
	*s = Score{}
	if math.IsNaN(x) || math.IsInf(x, 0) || d.n == 0 {
		return
	}
	off := d.season[d.bin(ts)]
	fresh := math.IsNaN(off)
	if fresh {
		off = 0
	}
	exp := d.level + off
	s.Expected = exp
	if ts-d.first < int64(d.cfg.Period) || fresh {
		return
	}
	floor := max(d.cfg.MinSigma, d.cfg.MinSigmaFraction*math.Abs(d.level))
	s.WarmedUp, s.Sigma = true, max(1.2533141373155001*d.mae, floor)
	mae := d.mae0
	if d.m0 == 0 {
		// No visit's first point has been scored yet (the first period's
		// initialise the offsets): the scale over all points.
		mae = d.mae
	}
	if d.pos(ts) > 0 {
		mae = max(d.maeIn, d.stale*mae)
	}
	sigma := max(1.2533141373155001*mae, floor)
	s.Visit = sigma
	if sigma == 0 {
		if x != exp {
			s.Z = math.Copysign(1e6, x-exp)
		}
		return
	}
	s.Z = (x - exp) / sigma
}

// Add updates the level, the bin's offset and the residual scale with x.
func (d *Detector) Add(ts int64, x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	k := d.pos(ts)
	b := d.bin(ts)
	d.kept[b/64] &^= 1 << (b % 64)
	if d.n == 0 {
		d.first, d.level = ts, x
	}
	d.n++
	d.last, d.lastBin, d.k, d.open = ts, b, k, true
	if k == 0 {
		d.stale = 1 - d.cfg.Gamma
	} else {
		d.stale *= 1 - d.cfg.Gamma
	}
	off := d.season[b]
	a := max(d.cfg.Alpha, 1/float64(d.n))
	if math.IsNaN(off) {
		// A first visit: the offset is initialised from this value, so its
		// residual (0 by construction) says nothing about the scale.
		off = x - d.level
		d.season[b] = off
	} else {
		d.m++
		res := x - d.level - off
		lres := x - d.level
		sa := max(d.cfg.SigmaAlpha, 1/float64(d.m))
		d.mae += sa * (math.Abs(res) - d.mae)
		if k == 0 {
			d.m0++
			d.mae0 += max(d.cfg.SigmaAlpha, 1/float64(d.m0)) * (math.Abs(res) - d.mae0)
		} else {
			d.mIn++
			d.maeIn += max(d.cfg.SigmaAlpha, 1/float64(d.mIn)) * (math.Abs(res) - d.maeIn)
		}
		d.resVar += sa * (res*res - d.resVar)
		d.lvlVar += sa * (lres*lres - d.lvlVar)
	}
	d.level += a * (x - off - d.level)
	d.season[b] = off + d.cfg.Gamma*(x-d.level-off)
}

// Strength returns 1 − residual variance / variance around the level, in
// [0, 1]: near 1 when the seasonal profile explains the series, near 0
// when it does not. It is 0 until a full period has been seen.
func (d *Detector) Strength(ts int64) float64 {
	if d.n == 0 || ts-d.first < int64(d.cfg.Period) || d.lvlVar == 0 {
		return 0
	}
	return max(0, 1-d.resVar/d.lvlVar)
}

// maxVisitPoints bounds a restored visit's position: a million points in
// one bin (5 minutes at 300 µs) is more than any series is read; a record
// with more is malformed.
const maxVisitPoints = 1 << 20

// staleShare returns (1 − gamma)^(k+1) as Add builds it, one factor per
// point of the visit, so that a restored detector holds the same bits as
// one that saw the points (math.Pow differs from the product in its last
// bits at most k). It stops at 0, where the product stays.
func staleShare(gamma float64, k uint32) float64 {
	s := 1 - gamma
	for i := uint32(0); i < k && s != 0; i++ {
		s *= 1 - gamma
	}
	return s
}

// StateBytes returns the bytes of state kept per series: the profile, the
// kept bins' bits and the detector's fields (112 bytes before the scales
// by place in a visit, which added 64 with their counts, position and
// caches; the kept bits' slice added 24 and a word per 64 bins).
func (d *Detector) StateBytes() int { return 8*len(d.season) + 8*len(d.kept) + 200 }

// stateVersion 3 added, after version 2's fields, the kept bins' bits
// (Keep): their number of 64-bit words, then the words. It is written only
// while a bin's latest value was kept out; otherwise the record is version
// 2's (or 1's), byte for byte, which a build before version 3 reads.
// Version 2 added, after the profile, the scale within visits, the
// counts of the visits' first points and of the points after them, the
// latest value's time and its position in its visit. A detector that has
// seen one point at most writes version 1, which a build before version
// 2 reads: its latest value's time is its first's. (Until 2026-12-05 a
// detector that had seen no point after a visit's first, a series read
// once a bin or less, wrote version 1 too; without the latest value's
// time, a restored one took the next value for the first of its visit
// even when it fell in the latest value's bin within a bin's width, an
// early poll, where the uninterrupted one took it for the second:
// TestVersion1RoundTrip.) A version 1 record restores with its scale as
// the first points' (what it is for such a series) and, when it holds
// more than one point (written by an older build), the next value the
// first of its visit. A version 1 or 2 record restores with no bin kept.
const stateVersion = 3

// MarshalBinary encodes the state (version 3 while a bin is kept, else 2,
// or 1 for a detector that has seen one point at most or was restored
// from a version 1 record and fed nothing since).
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	version := byte(2)
	switch {
	case d.anyKept():
		version = 3
	case d.n <= 1 || !d.open:
		// One point at most (its time is the first's), or restored from
		// an older build's version 1 record and fed nothing since.
		version = 1
	}
	dst = enc.AppendHeader(dst, enc.TagSeasonal, version)
	for _, f := range [...]float64{d.level, d.mae, d.resVar, d.lvlVar} {
		dst = enc.AppendF64(dst, f)
	}
	dst = enc.AppendI(dst, d.first)
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendU(dst, d.m)
	dst = enc.AppendF64s(dst, d.season)
	if version >= 2 {
		dst = enc.AppendF64(dst, d.mae0)
		dst = enc.AppendF64(dst, d.maeIn)
		dst = enc.AppendU(dst, d.m0)
		dst = enc.AppendU(dst, d.mIn)
		dst = enc.AppendI(dst, d.last)
		dst = enc.AppendU(dst, uint64(d.k))
	}
	if version >= 3 {
		dst = enc.AppendU(dst, uint64(len(d.kept)))
		for _, w := range d.kept {
			dst = enc.AppendU(dst, w)
		}
	}
	return dst, nil
}

// UnmarshalBinary restores a state written with the same number of bins.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	version := byte(stateVersion)
	if len(b) >= 2 && b[1] >= 1 && b[1] < stateVersion {
		version = b[1]
	}
	r.Header(enc.TagSeasonal, version)
	level, mae, resVar, lvlVar := r.F64(), r.F64(), r.F64(), r.F64()
	first, n, m := r.I(), r.U(), r.U()
	season := r.F64s(make([]float64, 0, len(d.season)), len(d.season))
	mae0, maeIn := mae, 0.0
	m0, mIn, last, k := m, uint64(0), int64(0), uint64(0)
	if version >= 2 {
		mae0, maeIn = r.F64(), r.F64()
		m0, mIn, last, k = r.U(), r.U(), r.I(), r.U()
	}
	kept := make([]uint64, len(d.kept))
	if version >= 3 {
		if nw := r.U(); nw != uint64(len(kept)) && r.Err == nil {
			return fmt.Errorf("seasonal: state has %d words of kept bins, the detector %d", nw, len(kept))
		}
		for i := range kept {
			kept[i] = r.U()
		}
	}
	if err := r.Done(); err != nil {
		return fmt.Errorf("seasonal: %w", err)
	}
	if len(season) != len(d.season) {
		return fmt.Errorf("seasonal: state has %d bins, the detector %d", len(season), len(d.season))
	}
	if k > maxVisitPoints {
		return fmt.Errorf("seasonal: state record is malformed (a visit of %d points)", k)
	}
	d.level, d.mae, d.resVar, d.lvlVar, d.first, d.n, d.m = level, mae, resVar, lvlVar, first, n, m
	open := version >= 2 && n > 0
	if version == 1 && n == 1 {
		// One point: the latest value is the first.
		last, open = first, true
	}
	// After an older build's version 1 record of more than one point the
	// next value is the first of its visit.
	d.mae0, d.maeIn, d.m0, d.mIn, d.last, d.k, d.open = mae0, maeIn, m0, mIn, last, uint32(k), open
	d.lastBin = d.bin(last)
	d.stale = staleShare(d.cfg.Gamma, uint32(k))
	copy(d.season, season)
	copy(d.kept, kept)
	return nil
}
