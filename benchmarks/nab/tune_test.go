package nab

import (
	"fmt"
	"os"
	"testing"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/knncad"
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
		res, err := c.Evaluate(c.Run(v.f, 2), Profiles)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%-40s %6.2f %6.2f %6.2f  (TP %d FP %d)\n", v.name, res[0].Normalized, res[1].Normalized, res[2].Normalized, res[0].Total.TP, res[0].Total.FP)
		if os.Getenv("TK_NAB_FILES") != "" {
			PrintFiles(os.Stdout, res[0])
		}
	}
}

type tuneVariant struct {
	name string
	f    func() Detector
}

func tuneVariants(t *testing.T) []tuneVariant {
	sh := func(c ensemble.Config) *ensemble.Shared {
		s, err := ensemble.NewShared(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := sh(ensemble.Config{})
	out := []tuneVariant{{"default", Ensemble(base, OutputOnset)}}
	stat := []string{"robust_z", "ewma", "seasonal", "cusum"}
	k := func(d, tr, ca, kk int) knncad.Config { return knncad.Config{Dim: d, Train: tr, Calib: ca, K: kk} }
	for _, v := range []struct {
		name  string
		cfg   ensemble.Config
		kc    knncad.Config
		kcd   int
		share int
	}{
		{"nf shared 200", ensemble.Config{Detectors: stat}, KNNConfig, 100, 200},
		{"nf shared 150", ensemble.Config{Detectors: stat}, KNNConfig, 100, 150},
		{"nf shared 250", ensemble.Config{Detectors: stat}, KNNConfig, 100, 250},
		{"nf shared 200 ens cd 50", ensemble.Config{Detectors: stat, Cooldown: 50}, KNNConfig, 100, 200},
		{"nf shared 200 ens cd 150", ensemble.Config{Detectors: stat, Cooldown: 150}, KNNConfig, 100, 200},
		{"nf shared 200 knn cd 150", ensemble.Config{Detectors: stat}, KNNConfig, 150, 200},
		{"nf shared 200 knn dim 16", ensemble.Config{Detectors: stat}, k(16, 400, 400, 3), 100, 200},
		{"nf shared 200 knn dim 24", ensemble.Config{Detectors: stat}, k(24, 400, 400, 3), 100, 200},
		{"nf shared 200 knn train 600", ensemble.Config{Detectors: stat}, k(20, 600, 400, 3), 100, 200},
		{"nf shared 200 no ewma", ensemble.Config{Detectors: []string{"robust_z", "seasonal", "cusum"}}, KNNConfig, 100, 200},
		{"nf shared 200 no cusum", ensemble.Config{Detectors: []string{"robust_z", "ewma", "seasonal"}}, KNNConfig, 100, 200},
		{"nf shared 200 no seasonal", ensemble.Config{Detectors: []string{"robust_z", "ewma", "cusum"}}, KNNConfig, 100, 200},
		{"nf shared 200 no robust", ensemble.Config{Detectors: []string{"ewma", "seasonal", "cusum"}}, KNNConfig, 100, 200},
	} {
		out = append(out, tuneVariant{v.name, combo(sh(v.cfg), v.kc, KNNFire, v.kcd, v.share)})
	}
	return out
}

// combo is Ensemble's onset output with a cooldown shared by both sources:
// no onset within shared points of the previous one, whichever fired it.
func combo(sh *ensemble.Shared, kc knncad.Config, fire float64, knnCooldown, shared int) func() Detector {
	return func() Detector {
		e := sh.New()
		kd, _ := knncad.New(kc)
		n, last, lastAny, lastV := 0, -knnCooldown, -shared-1, 0.0
		return DetectorFunc(func(ts int64, x float64) float64 {
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
				if n-lastAny < shared && v <= lastV {
					return 0
				}
				lastAny, lastV = n, v
			}
			return v
		})
	}
}
