package nab

import (
	"math"
	"time"

	"github.com/telekernel/telekernel/detectors/likelihood"
	"github.com/telekernel/telekernel/detectors/seasonal"
)

// The weekly source of the onset output: a weekly-seasonal baseline
// (timestamp-indexed, so gaps and sampling rates do not matter) whose
// residual z, smoothed over WeeklySmooth points, sets a new record
// (likelihood.Record, decaying by WeeklyDecay per point) while the weekly
// profile explains at least WeeklyStrength of the series' variance. It
// finds a day that is ordinary for the series' range but wrong for its day
// of the week (a public holiday on a weekday), which the range break and
// the k-NN, blind to the calendar, cannot see.
var (
	// WeeklyConfig is the weekly baseline: 336 bins of 30 minutes, a
	// profile that follows slowly (gamma 0.1).
	WeeklyConfig = seasonal.Config{Period: 7 * 24 * time.Hour, Bins: 336, Gamma: 0.1}
	// WeeklySmooth is the span, in points, of the EW mean of the
	// residual z (a sustained deviation, not one point).
	WeeklySmooth = 36.0
	// WeeklyDecay is the record's decay per point.
	WeeklyDecay = 1.5e-4
	// WeeklyStrength is the least Strength of the weekly baseline for the
	// source to fire: on series without a weekly pattern it stays silent.
	WeeklyStrength = 0.5
	// WeeklyMinAge is the history needed before the source fires: two
	// periods (the first only initialises the profile).
	WeeklyMinAge = 14 * 24 * time.Hour
	// WeeklyValue is the value of a weekly onset; WeeklyCooldown the least
	// number of points between two.
	WeeklyValue    = 0.55
	WeeklyCooldown = 100
)

// weeklyParams configures the weekly source; defaultWeekly returns the
// constants above.
type weeklyParams struct {
	cfg                     seasonal.Config
	smooth, decay, strength float64
	minAge                  time.Duration
	value                   float64
	cooldown                int
}

func defaultWeekly() *weeklyParams {
	return &weeklyParams{WeeklyConfig, WeeklySmooth, WeeklyDecay, WeeklyStrength, WeeklyMinAge, WeeklyValue, WeeklyCooldown}
}

// weeklySource is the weekly source of one series. It is not safe for
// concurrent use.
type weeklySource struct {
	p       weeklyParams
	sd      *seasonal.Detector
	rec     *likelihood.Record
	smooth  float64 // EW mean of the residual z
	first   int64   // timestamp of the first point
	n, last int     // points seen; point of the last onset
}

func newWeeklySource(p weeklyParams) *weeklySource {
	sd, err := seasonal.New(p.cfg)
	if err != nil {
		panic(err) // the callers pass valid constant configurations
	}
	rec, err := likelihood.NewRecord(likelihood.RecordConfig{Decay: p.decay})
	if err != nil {
		panic(err) // the callers pass valid constants
	}
	return &weeklySource{p: p, sd: sd, rec: rec, last: -p.cooldown}
}

// Update scores x at ts and returns its value (WeeklyValue) on an onset, 0 otherwise.
func (w *weeklySource) Update(ts int64, x float64) float64 {
	w.n++
	if w.n == 1 {
		w.first = ts
	}
	z := w.sd.Update(ts, x)
	if !z.WarmedUp {
		return 0
	}
	w.smooth += (z.Z - w.smooth) / w.p.smooth
	if ts-w.first < int64(w.p.minAge) {
		return 0
	}
	r := w.rec.Update(math.Abs(w.smooth))
	if w.sd.Strength(ts) < w.p.strength {
		return 0
	}
	if r > 1 && w.n-w.last >= w.p.cooldown {
		w.last = w.n
		return w.p.value
	}
	return 0
}
