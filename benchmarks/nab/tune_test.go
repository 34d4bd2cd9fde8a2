package nab

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/knncad"
	"github.com/telekernel/telekernel/detectors/likelihood"
	"github.com/telekernel/telekernel/detectors/rangebreak"
	"github.com/telekernel/telekernel/detectors/seasonal"
)

// TestTune is a tuning bench, not a test: with TK_NAB_TUNE=1 it scores the
// variants below on the subset (in-sample) and prints them; with
// TK_NAB_FILES=1 also the per-file standard scores.
func TestTune(t *testing.T) {
	if os.Getenv("TK_NAB_TUNE") == "" {
		t.Skip("set TK_NAB_TUNE=1")
	}
	c := loadCorpus(t)
	for _, v := range tuneVariants(t) {
		res, err := c.Evaluate(c.Run(v.f, 2), nab.Profiles)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%-40s %6.2f %6.2f %6.2f  (TP %d FP %d)\n", v.name, res[0].Normalized, res[1].Normalized, res[2].Normalized, res[0].Total.TP, res[0].Total.FP)
		if os.Getenv("TK_NAB_FILES") != "" {
			nab.PrintFiles(os.Stdout, res[0])
		}
	}
}

type tuneVariant struct {
	name string
	f    func() nab.Detector
}

func tuneVariants(t *testing.T) []tuneVariant {
	sh := func(c ensemble.Config) *ensemble.Shared {
		s, err := ensemble.NewShared(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	def := ensemble.Config{}
	all := ensemble.Config{Detectors: []string{"robust_z", "ewma", "seasonal", "cusum", "forest"}}
	without := func(m string) ensemble.Config {
		var c ensemble.Config
		for _, d := range ensemble.DefaultDetectors {
			if d != m {
				c.Detectors = append(c.Detectors, d)
			}
		}
		return c
	}
	knn := func(dim, train int) knncad.Config { c := KNNConfig; c.Dim, c.Train = dim, train; return c }
	// earlier is the onset output before the range break (66.02): the
	// variants below that were measured against it keep running against it.
	earlier := onsetParams{suppress: earlierSuppress}
	out := []tuneVariant{{"default", Ensemble(sh(def), OutputOnset)}}
	if os.Getenv("TK_NAB_EXP8") != "" {
		withWeekly := func(f func(w *weeklyParams)) func() nab.Detector {
			w := defaultWeekly()
			f(w)
			return onsets(sh(def), onsetParams{&BreakConfig, BreakValue, BreakGapWeight, EchoMemory, EchoRatio, Suppress, w})
		}
		out = append(out, tuneVariant{"without the weekly source", onsets(sh(def), onsetParams{&BreakConfig, BreakValue, BreakGapWeight, EchoMemory, EchoRatio, Suppress, nil})})
		for _, v := range []struct {
			name string
			f    func(w *weeklyParams)
		}{
			{"weekly strength 0.375", func(w *weeklyParams) { w.strength = 0.375 }},
			{"weekly strength 0.625", func(w *weeklyParams) { w.strength = 0.625 }},
			{"weekly strength 0 (no gate)", func(w *weeklyParams) { w.strength = 0 }},
			{"weekly gamma 0.075", func(w *weeklyParams) { w.cfg.Gamma = 0.075 }},
			{"weekly gamma 0.125", func(w *weeklyParams) { w.cfg.Gamma = 0.125 }},
			{"weekly smooth 27", func(w *weeklyParams) { w.smooth = 27 }},
			{"weekly smooth 45", func(w *weeklyParams) { w.smooth = 45 }},
			{"weekly decay 1.125e-4", func(w *weeklyParams) { w.decay = 1.125e-4 }},
			{"weekly decay 1.875e-4", func(w *weeklyParams) { w.decay = 1.875e-4 }},
			{"weekly bins 252", func(w *weeklyParams) { w.cfg.Bins = 252 }},
			{"weekly bins 420", func(w *weeklyParams) { w.cfg.Bins = 420 }},
			{"weekly min age 10.5 days", func(w *weeklyParams) { w.minAge = 252 * time.Hour }},
			{"weekly min age 17.5 days", func(w *weeklyParams) { w.minAge = 420 * time.Hour }},
			{"weekly cooldown 75", func(w *weeklyParams) { w.cooldown = 75 }},
			{"weekly cooldown 125", func(w *weeklyParams) { w.cooldown = 125 }},
			{"weekly value 0.54", func(w *weeklyParams) { w.value = 0.54 }},
			{"weekly value 0.56", func(w *weeklyParams) { w.value = 0.56 }},
		} {
			out = append(out, tuneVariant{v.name, withWeekly(v.f)})
		}
		return out
	}
	if os.Getenv("TK_NAB_EXP7") != "" {
		out = append(out, tuneVariant{"without the echo rule", onsets(sh(def), onsetParams{&BreakConfig, BreakValue, BreakGapWeight, 0, 0, Suppress, nil})})
		for _, v := range []struct {
			mem   int
			ratio float64
		}{{1000, 1.2}, {1500, 1.2}, {2000, 1.2}, {3000, 1.2}, {4000, 1.2}, {5000, 1.2}, {2500, 1}, {2500, 1.1}, {2500, 1.5}, {2500, 10}} {
			out = append(out, tuneVariant{fmt.Sprintf("echo memory %d ratio %.1f", v.mem, v.ratio), onsets(sh(def), onsetParams{&BreakConfig, BreakValue, BreakGapWeight, v.mem, v.ratio, Suppress, nil})})
		}
		for _, sup := range []int{0, 50, 125, 150, 200} {
			p := onsetParams{&BreakConfig, BreakValue, BreakGapWeight, EchoMemory, EchoRatio, sup, nil}
			out = append(out, tuneVariant{fmt.Sprintf("suppress %d", sup), onsets(sh(def), p)})
		}
		return out
	}
	if os.Getenv("TK_NAB_EXP6") != "" {
		out = append(out, tuneVariant{"without range breaks", onsets(sh(def), earlier)})
		for _, v := range []struct {
			bins, warm    int
			value, weight float64
		}{
			{16, 200, 0.54, 0}, {16, 200, 0.55, 0.02}, {16, 200, 0.53, 0.02}, {16, 200, 0.56, 0.02},
			{16, 200, 0.54, 0.01}, {16, 200, 0.54, 0.03}, {8, 200, 0.54, 0.02}, {12, 200, 0.54, 0.02},
			{24, 200, 0.54, 0.02}, {32, 200, 0.54, 0.02}, {16, 100, 0.54, 0.02}, {16, 150, 0.54, 0.02},
			{16, 250, 0.54, 0.02}, {16, 300, 0.54, 0.02}, {16, 500, 0.54, 0.02}, {16, 200, 0.50, 0.02},
		} {
			c := rangebreak.Config{Bins: v.bins, Warm: v.warm}
			out = append(out, tuneVariant{fmt.Sprintf("range break bins %d warm %d value %.2f+%.2f·log10(gap/100)", v.bins, v.warm, v.value, v.weight), onsets(sh(def), onsetParams{&c, v.value, v.weight, 0, 0, 200, nil})})
		}
		return out
	}
	if os.Getenv("TK_NAB_EXP5") != "" {
		for _, v := range []struct {
			period time.Duration
			bins   int
		}{{7 * 24 * time.Hour, 336}, {7 * 24 * time.Hour, 2016}, {24 * time.Hour, 48}, {24 * time.Hour, 96}} {
			c := ensemble.Config{Seasonal: seasonal.Config{Period: v.period, Bins: v.bins}}
			out = append(out, tuneVariant{fmt.Sprintf("seasonal period %v bins %d", v.period, v.bins), Ensemble(sh(c), OutputOnset)})
		}
		return out
	}
	if os.Getenv("TK_NAB_EXP4") != "" {
		for _, a := range []float64{0.005, 0.01, 0.02, 0.04} {
			out = append(out, tuneVariant{fmt.Sprintf("knn fire + %.3f·log10(n/1000)", a), knnGrowing(sh(def), a)})
		}
		return out
	}
	if os.Getenv("TK_NAB_EXP3") != "" {
		for _, d := range []float64{2e-3, 1e-3, 5e-4, 2e-4} {
			for _, fire := range []float64{0.52, 0.55} {
				out = append(out, tuneVariant{fmt.Sprintf("knn record decay %g fire %.2f", d, fire), knnRecord(sh(def), d, fire, false)})
			}
		}
		out = append(out, tuneVariant{"knn record decay 1e-3 max with window", knnRecord(sh(def), 1e-3, KNNFire, true)})
		return out
	}
	if os.Getenv("TK_NAB_EXP2") != "" {
		for _, v := range []struct {
			kc   knncad.Config
			step int
			fire float64
		}{
			{knncad.Config{Dim: 10, Train: 400, Calib: 400, K: 3}, 2, 0.55},
			{knncad.Config{Dim: 10, Train: 400, Calib: 400, K: 3}, 2, 0.60},
			{knncad.Config{Dim: 10, Train: 200, Calib: 200, K: 3}, 4, 0.55},
			{knncad.Config{Dim: 10, Train: 200, Calib: 200, K: 3}, 4, 0.60},
			{knncad.Config{Dim: 10, Train: 300, Calib: 300, K: 3}, 3, 0.55},
		} {
			out = append(out, tuneVariant{fmt.Sprintf("second knn dim %d train %d step %d fire %.2f", v.kc.Dim, v.kc.Train, v.step, v.fire), second(sh(def), v.kc, v.step, v.fire)})
		}
		return out
	}
	if os.Getenv("TK_NAB_EXP") != "" {
		for _, a := range []float64{0.8, 0.9, 1.0} {
			for _, d := range []float64{0, 1e-4, 5e-4} {
				out = append(out, tuneVariant{fmt.Sprintf("onset record a %.2f decay %g", a, d), onsetRecord(onsets(sh(def), earlier), a, d, 0)})
			}
		}
		for _, b := range []float64{0.5, 1, 2} {
			out = append(out, tuneVariant{fmt.Sprintf("onset weight b %.1f", b), onsetRecord(onsets(sh(def), earlier), 0, 0, b)})
		}
		return out
	}
	for _, v := range []struct {
		name   string
		cfg    ensemble.Config
		kc     knncad.Config
		fire   float64
		kcd    int
		supp   int
		scored bool // value-aware suppression
	}{
		{"combo = the earlier default (suppress 200)", def, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"suppress 150", def, KNNConfig, KNNFire, KNNCooldown, 150, true},
		{"suppress 250", def, KNNConfig, KNNFire, KNNCooldown, 250, true},
		{"plain shared cooldown 100", def, KNNConfig, KNNFire, KNNCooldown, 100, false},
		{"plain shared cooldown 200", def, KNNConfig, KNNFire, KNNCooldown, 200, false},
		{"no suppression", def, KNNConfig, KNNFire, KNNCooldown, 0, true},
		{"knn cooldown 150", def, KNNConfig, KNNFire, 150, 200, true},
		{"ensemble cooldown 50", ensemble.Config{Cooldown: 50}, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"ensemble cooldown 150", ensemble.Config{Cooldown: 150}, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"knn dim 16", def, knn(16, 400), KNNFire, KNNCooldown, 200, true},
		{"knn dim 24", def, knn(24, 400), KNNFire, KNNCooldown, 200, true},
		{"knn train 600", def, knn(20, 600), KNNFire, KNNCooldown, 200, true},
		{"knn fire 0.50", def, KNNConfig, 0.50, KNNCooldown, 200, true},
		{"knn fire 0.55", def, KNNConfig, 0.55, KNNCooldown, 200, true},
		{"ensemble fire 0.51", ensemble.Config{Fire: 0.51, Resolve: 0.49}, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"ensemble fire 0.55", ensemble.Config{Fire: 0.55}, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"record decay 1e-4", ensemble.Config{Calibration: likelihood.RecordConfig{Decay: 1e-4}}, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"record decay 5e-4", ensemble.Config{Calibration: likelihood.RecordConfig{Decay: 5e-4}}, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"without ewma", without("ewma"), KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"without cusum", without("cusum"), KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"without seasonal", without("seasonal"), KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"without robust_z", without("robust_z"), KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"with the forest", all, KNNConfig, KNNFire, KNNCooldown, 200, true},
		{"with the forest, no suppression", all, KNNConfig, KNNFire, KNNCooldown, 0, true},
	} {
		out = append(out, tuneVariant{v.name, combo(sh(v.cfg), v.kc, v.fire, v.kcd, v.supp, v.scored)})
	}
	return out
}

// earlierSuppress is the suppression of the onset output before the range
// break, which the older variants below keep.
const earlierSuppress = 200

// combo is Ensemble's onset output with a cooldown shared by both sources:
// no onset within shared points of the previous one, whichever fired it.
// With scored false the suppression ignores the scores (a plain cooldown).
func combo(sh *ensemble.Shared, kc knncad.Config, fire float64, knnCooldown, shared int, scored bool) func() nab.Detector {
	return func() nab.Detector {
		e := sh.New()
		kd, _ := knncad.New(kc)
		n, last, lastAny, lastV := 0, -knnCooldown, -shared-1, 0.0
		return nab.DetectorFunc(func(ts int64, x float64) float64 {
			n++
			r := e.Update(ts, x)
			k := kd.Update(x)
			v := 0.0
			if r.Transition == ensemble.Fired {
				v = r.Score
			}
			if k.WarmedUp && k.Excess > 1 {
				if s := 1 - 1/(1+k.Excess); s > fire && n-last >= knnCooldown {
					v, last = max(v, s), n
				}
			}
			if v > 0 {
				// Value-aware: an onset within shared points of a stronger
				// (or equal) one is dropped, so the suppression acts as if
				// applied after NAB's threshold.
				if n-lastAny < shared && (v <= lastV || !scored) {
					return 0
				}
				lastAny, lastV = n, v
			}
			return v
		})
	}
}

// onsetRecord post-filters onsets by the file's own history of onsets:
// M is the largest earlier onset (decaying by decay per point). With
// alpha > 0, an onset below alpha·M is dropped; with beta > 0, it is
// weighted by min(1, v/M)^beta.
func onsetRecord(f func() nab.Detector, alpha, decay, beta float64) func() nab.Detector {
	return func() nab.Detector {
		d := f()
		m := 0.0
		return nab.DetectorFunc(func(ts int64, x float64) float64 {
			v := d.Update(ts, x)
			m *= 1 - decay
			if v <= 0 {
				return 0
			}
			out := v
			if m > 0 {
				if alpha > 0 && v < alpha*m {
					out = 0
				}
				if beta > 0 {
					out = v * math.Pow(math.Min(1, v/m), beta)
				}
			}
			m = math.Max(m, v)
			return out
		})
	}
}

// second is the default onset output plus a second k-NN source on the
// series averaged over step points (one input per step points), with the
// same fire rule, cooldown and value-aware suppression.
func second(sh *ensemble.Shared, kc knncad.Config, step int, fire2 float64) func() nab.Detector {
	return func() nab.Detector {
		e := sh.New()
		kd, _ := knncad.New(KNNConfig)
		k2, _ := knncad.New(kc)
		n, last, last2, lastAny, lastV := 0, -KNNCooldown, -KNNCooldown, -earlierSuppress-1, 0.0
		sum, cnt := 0.0, 0
		return nab.DetectorFunc(func(ts int64, x float64) float64 {
			n++
			r := e.Update(ts, x)
			k := kd.Update(x)
			v := 0.0
			if r.Transition == ensemble.Fired {
				v = r.Score
			}
			if k.WarmedUp && k.Excess > 1 {
				if s := 1 - 1/(1+k.Excess); s > KNNFire && n-last >= KNNCooldown {
					v, last = max(v, s), n
				}
			}
			sum, cnt = sum+x, cnt+1
			if cnt == step {
				k := k2.Update(sum / float64(step))
				sum, cnt = 0, 0
				if k.WarmedUp && k.Excess > 1 {
					if s := 1 - 1/(1+k.Excess); s > fire2 && n-last2 >= KNNCooldown {
						v, last2 = max(v, s), n
					}
				}
			}
			if v > 0 {
				if n-lastAny < earlierSuppress && v <= lastV {
					return 0
				}
				lastAny, lastV = n, v
			}
			return v
		})
	}
}

// knnRecord is the default onset output with the k-NN's excess taken
// against a slowly decaying record of its nonconformities (all history)
// instead of (or, with both, as well as) the largest of the last Calib.
func knnRecord(sh *ensemble.Shared, decay, fire float64, both bool) func() nab.Detector {
	return func() nab.Detector {
		e := sh.New()
		kd, _ := knncad.New(KNNConfig)
		n, last, lastAny, lastV := 0, -KNNCooldown, -earlierSuppress-1, 0.0
		rec := 0.0
		return nab.DetectorFunc(func(ts int64, x float64) float64 {
			n++
			r := e.Update(ts, x)
			k := kd.Update(x)
			v := 0.0
			if r.Transition == ensemble.Fired {
				v = r.Score
			}
			ex := 0.0
			if rec > 0 {
				ex = k.NCM / rec
			}
			if both {
				ex = min(ex, k.Excess)
			}
			if k.NCM > 0 {
				rec = max(rec*(1-decay), k.NCM)
			}
			if k.WarmedUp && ex > 1 {
				if s := 1 - 1/(1+ex); s > fire && n-last >= KNNCooldown {
					v, last = max(v, s), n
				}
			}
			if v > 0 {
				if n-lastAny < earlierSuppress && v <= lastV {
					return 0
				}
				lastAny, lastV = n, v
			}
			return v
		})
	}
}

// knnGrowing is the default onset output with the k-NN's firing score
// raised by a·log10(n/1000) after 1000 points: a detector that has seen
// more normal shapes asks more of a new one.
func knnGrowing(sh *ensemble.Shared, a float64) func() nab.Detector {
	return func() nab.Detector {
		e := sh.New()
		kd, _ := knncad.New(KNNConfig)
		n, last, lastAny, lastV := 0, -KNNCooldown, -earlierSuppress-1, 0.0
		return nab.DetectorFunc(func(ts int64, x float64) float64 {
			n++
			r := e.Update(ts, x)
			k := kd.Update(x)
			v := 0.0
			if r.Transition == ensemble.Fired {
				v = r.Score
			}
			fire := KNNFire
			if n > 1000 {
				fire += a * math.Log10(float64(n)/1000)
			}
			if k.WarmedUp && k.Excess > 1 {
				if s := 1 - 1/(1+k.Excess); s > fire && n-last >= KNNCooldown {
					v, last = max(v, s), n
				}
			}
			if v > 0 {
				if n-lastAny < earlierSuppress && v <= lastV {
					return 0
				}
				lastAny, lastV = n, v
			}
			return v
		})
	}
}
