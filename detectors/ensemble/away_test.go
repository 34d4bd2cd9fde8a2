package ensemble

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// awayDays is three days of a link's traffic read every 10 s (a daily
// swing of ±40 % around 4e8, 1 % noise) whose traffic doubles on the
// second day from 02:00 to 06:00 (the other uplink failed and its traffic
// was rerouted here) and is back after.
func awayDays() ([]int64, []float64) { return awayDaysBy(2) }

// awayDaysBy is awayDays with the second day's traffic from 02:00 to
// 06:00 multiplied by f.
func awayDaysBy(f float64) ([]int64, []float64) {
	const step = 10 * time.Second
	n := int(3 * 24 * time.Hour / step)
	rng := rand.New(rand.NewPCG(3, 9))
	ts, xs := make([]int64, n), make([]float64, n)
	for i := range n {
		t := time.Duration(i) * step
		day := float64(t%(24*time.Hour)) / float64(24*time.Hour)
		x := 4e8 * (1 + 0.4*math.Sin(2*math.Pi*day)) * (1 + 0.01*rng.NormFloat64())
		if t >= 26*time.Hour && t < 30*time.Hour {
			x *= f
		}
		ts[i], xs[i] = int64(t), x
	}
	return ts, xs
}

// TestStretchAwayForgotten: traffic rerouted onto a link for four hours
// fires when it arrives, once, and when it leaves, and nothing the next
// day. The first alert's hold (an hour) keeps its points out of the
// seasonal bins; the three hours after it, the baselines take the doubled
// level, bins included. Before the alert on the other side made the bins
// forget that stretch and the seasonal level go back (Ensemble.away), the
// next day's normal traffic fired as a drop at 03:00, where the hold had
// ended, and at 07:00, where the leaving alert's hold had ended against
// a level still doubled; and before a run along the stretch stopped
// firing, the seasonal member fired again at 03:05, the first bin after
// the hold, its offset yesterday's. An ensemble restored before every
// point does the same.
func TestStretchAwayForgotten(t *testing.T) {
	sh, err := NewShared(detectLike)
	if err != nil {
		t.Fatal(err)
	}
	ts, xs := awayDays()
	rec, rs := restoreEveryPoint(t, sh, ts, xs)
	arrive := firedIn(ts, rs, 26*time.Hour, 30*time.Hour)
	leave := firedIn(ts, rs, 30*time.Hour, 30*time.Hour+time.Minute)
	after := firedIn(ts, rs, 30*time.Hour+time.Minute, math.MaxInt64)
	if len(arrive) != 1 || arrive[0] >= 26*time.Hour+time.Minute || len(leave) != 1 {
		t.Errorf("fired %v while the traffic was here and %v as it left; want one alert as it arrived and one as it left", arrive, leave)
	}
	if len(after) != 0 {
		t.Errorf("fired at %v after the traffic left; want nothing", after)
	}
	if rec.away == 0 {
		t.Error("no record held the stretch away")
	}
}

// TestStretchBelowForgotten: the link's traffic at 5 % on the second day
// from 02:00 to 06:00 (a customer's outage upstream) fires once, as it
// drops (level_shift accepts the new level an hour in, and the alert
// goes on as the other members' until their baselines take it: before,
// it ended there and robust_z fired again 20 s later); its coming back to
// the carrying level is no alert (the veto of Config.LevelShift), and
// ends the stretch all the same: nothing fires after. Before, the bins
// kept the stretch at 5 % and the third day's normal traffic fired as a
// rise at 04:00, and at 05:05 (where the holds of the drop's two alerts
// ran out, and of the rise's); with the rest of Ensemble.away but without
// the veto's coming back, at 04:00.
func TestStretchBelowForgotten(t *testing.T) {
	sh, err := NewShared(detectLike)
	if err != nil {
		t.Fatal(err)
	}
	ts, xs := awayDaysBy(0.05)
	_, rs := restoreEveryPoint(t, sh, ts, xs)
	drop := firedIn(ts, rs, 26*time.Hour, 30*time.Hour)
	after := firedIn(ts, rs, 30*time.Hour, math.MaxInt64)
	if len(drop) != 1 || drop[0] >= 26*time.Hour+time.Minute {
		t.Errorf("fired %v while the traffic was down; want one alert, as it dropped", drop)
	}
	if len(after) != 0 {
		t.Errorf("fired at %v after the traffic came back; want nothing", after)
	}
}

// firedIn returns the times (since the series' start, ts being Unix ns
// from 0) of the alerts in rs that fired in [from, to).
func firedIn(ts []int64, rs []Result, from, to time.Duration) []time.Duration {
	var out []time.Duration
	for i, r := range rs {
		if o := time.Duration(ts[i]); r.Transition == Fired && o >= from && o < to {
			out = append(out, o)
		}
	}
	return out
}
