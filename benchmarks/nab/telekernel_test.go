package nab

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/detectors/ensemble"
)

// TestTelekernelOnNAB runs the default onset output over the whole subset
// (about 140 000 points, well under a second), writes NAB's results
// layout, reads it back, and checks the scores agree and stay above the
// floor this configuration reached (a regression guard, not the goal).
func TestTelekernelOnNAB(t *testing.T) {
	c := loadCorpus(t)
	sh, err := ensemble.NewShared(ensemble.Config{})
	if err != nil {
		t.Fatal(err)
	}
	scores := c.Run(Ensemble(sh, OutputOnset), 2)
	res, err := c.Evaluate(scores, nab.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	floor := map[string]float64{"standard": 76, "reward_low_FP_rate": 67, "reward_low_FN_rate": 81}
	for _, ps := range res {
		t.Logf("%-20s %.2f (threshold %.6g)", ps.Profile.Name, ps.Normalized, ps.Threshold)
		if ps.Normalized < floor[ps.Profile.Name] {
			t.Errorf("%s: %.2f, below the floor %.0f", ps.Profile.Name, ps.Normalized, floor[ps.Profile.Name])
		}
	}
	dir := t.TempDir()
	if err := c.WriteResults(dir, DetectorName, scores); err != nil {
		t.Fatal(err)
	}
	back, err := c.ReadResults(dir, DetectorName)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := c.Evaluate(back, nab.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res {
		if math.Abs(res[i].Normalized-res2[i].Normalized) > 1e-12 {
			t.Errorf("%s: %.12f from memory, %.12f from the written files", res[i].Profile.Name, res[i].Normalized, res2[i].Normalized)
		}
	}
	// Prefixes: scoring a file's first half alone gives the same scores,
	// on the first file and on files where every onset source and rule
	// (range breaks, echoes, the weekly source) acts in the first half.
	for _, s := range c.Series {
		if s != c.Series[0] && !strings.Contains(s.Name, "cpu_utilization") && !strings.Contains(s.Name, "machine_temperature") && !strings.Contains(s.Name, "nyc_taxi") {
			continue
		}
		for _, out := range []Output{OutputScore, OutputOnset} {
			d := Ensemble(sh, out)()
			half := s.Len() / 2
			want := scoresOf(t, sh, out, s, half)
			fired := 0
			for j := 0; j < half; j++ {
				got := d.Update(s.Times[j].UnixNano(), s.Values[j])
				if got != want[j] {
					t.Fatalf("%s %s point %d: %v, in a longer run %v", out, s.Name, j, got, want[j])
				}
				if got > 0 {
					fired++
				}
			}
			if out == OutputOnset && s != c.Series[0] && fired < 5 {
				t.Errorf("%s: %d onsets in the first half, the prefix test proves little", s.Name, fired)
			}
		}
	}
}

func scoresOf(t *testing.T, sh *ensemble.Shared, o Output, s *nab.Series, n int) []float64 {
	t.Helper()
	d := Ensemble(sh, o)()
	out := make([]float64, s.Len())
	for j := range out {
		out[j] = d.Update(s.Times[j].UnixNano(), s.Values[j])
	}
	return out[:n]
}

// BenchmarkEnsembleNAB measures the ensemble over the subset, one
// goroutine.
func BenchmarkEnsembleNAB(b *testing.B) {
	c := loadCorpus(b)
	sh, _ := ensemble.NewShared(ensemble.Config{})
	points := 0
	for _, s := range c.Series {
		points += s.Len()
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Run(Ensemble(sh, OutputOnset), 1)
	}
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// TestEchoRule: a job that pins the series at the same level every 500
// points (longer than the k-NN's memory of 400, so the k-NN finds each
// one strange again) is alerted on at its first run; with the echo rule
// its later runs are not new incidents.
func TestEchoRule(t *testing.T) {
	sh, err := ensemble.NewShared(ensemble.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n, first = 6000, 1000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	count := func(p onsetParams) (atFirst bool, later int) {
		d := onsets(sh, p)()
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range n {
			// a daily cycle (288 points) of ±10 with noise 0.3; the job
			// pins the series at 140 for 20 points
			x := 100 + 10*math.Sin(2*math.Pi*float64(i)/288) + 0.3*rng.NormFloat64()
			if i >= first && (i-first)%500 < 20 {
				x = 140 + 0.3*rng.NormFloat64()
			}
			v := d.Update(t0+int64(i)*int64(5*time.Minute), x)
			switch {
			case v < 0.5:
			case i >= first && i < first+20:
				atFirst = true
			case i >= first+20:
				later++
			}
		}
		return atFirst, later
	}
	def := onsetParams{&BreakConfig, BreakValue, BreakGapWeight, EchoMemory, EchoRatio, Suppress, defaultWeekly()}
	noEcho := def
	noEcho.echoMemory = 0
	f1, with := count(def)
	f2, without := count(noEcho)
	t.Logf("onsets after the first run: %d with the echo rule, %d without", with, without)
	if !f1 || !f2 {
		t.Errorf("the first run was not alerted on (with the echo rule %v, without %v)", f1, f2)
	}
	if with >= without || with > without/3 {
		t.Errorf("%d onsets on later runs with the echo rule, %d without", with, without)
	}
}
