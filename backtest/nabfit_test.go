package backtest

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/backtest/nab/nabtest"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/levelshift"
	"github.com/telekernel/telekernel/stages/detect"
)

// TestNABFit measures how much of the NAB figure is fit to the 31 files
// (detectors/README.md, "How much of that is fit"): a grid of 189 gauge
// configurations around the shipped values, its best on the whole subset,
// and leave-one-category-out (the grid's best on four categories, scored
// on the fifth; ties among the best broken every way). About a CPU-minute, so it runs only under
// TK_BACKTEST_FULL=1.
func TestNABFit(t *testing.T) {
	if os.Getenv("TK_BACKTEST_FULL") == "" {
		t.Skip("set TK_BACKTEST_FULL=1 to score the 189 configurations of the NAB fit grid")
	}
	data, labels := nabtest.Data(t)
	ds, err := LoadDataset(FormatNAB, []string{data}, nil, labels)
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		name  string
		files []float64 // standard score per file, in corpus order
	}
	var grid []point
	for _, fire := range []float64{0.525, 0.54, 0.555} {
		for _, cooldown := range []int{37, 50, 100} {
			for _, spread := range []float64{0.075, 0.1, 0.3} {
				for _, rep := range []ensemble.RepeatConfig{{Count: -1, Window: 1000},
					{Count: 2, Window: 1000}, {Count: 2, Window: 3000}, {Count: 3, Window: 1000},
					{Count: 3, Window: 3000}, {Count: 4, Window: 1000}, {Count: 4, Window: 3000}} {
					name := fmt.Sprintf("fire %v cooldown %d spread %v repeat %d/%d", fire, cooldown, spread, rep.Count, rep.Window)
					cfg := detect.Config{Detectors: ensemble.MetricsConfig{Gauges: ensemble.Config{Fire: fire, Cooldown: cooldown,
						LevelShift: levelshift.Config{Spread: spread}, Repeat: rep}}}
					res, err := Evaluate(t.Context(), name, cfg, ds, NABEvents(ds.Corpus), quiet)
					if err != nil {
						t.Fatal(err)
					}
					i := slices.IndexFunc(res.NAB, func(ps nab.ProfileScore) bool { return ps.Profile == nab.Standard })
					p := point{name: name}
					for _, f := range res.NAB[i].Files {
						p.files = append(p.files, f.Score)
					}
					grid = append(grid, p)
				}
			}
		}
	}
	// Normalised standard score of files fs (NAB's: the null detector 0,
	// the perfect one 100).
	windows := func(fs []int) (n int) {
		for _, f := range fs {
			n += len(ds.Corpus.Windows[f])
		}
		return n
	}
	raw := func(p point, fs []int) (r float64) {
		for _, f := range fs {
			r += p.files[f]
		}
		return r
	}
	norm := func(r float64, w int) float64 { return 100 * (r + float64(w)) / float64(2*w) }
	byCat := map[string][]int{}
	var all []int
	for i, s := range ds.Corpus.Series {
		cat, _, _ := strings.Cut(s.Name, "/")
		byCat[cat], all = append(byCat[cat], i), append(all, i)
	}
	// best returns the configurations with the highest score on files fs
	// (several tie: they fire the same on those files).
	best := func(fs []int) []point {
		m := slices.MaxFunc(grid, func(a, b point) int { return cmp.Compare(raw(a, fs), raw(b, fs)) })
		var out []point
		for _, p := range grid {
			if raw(p, fs) == raw(m, fs) {
				out = append(out, p)
			}
		}
		return out
	}
	shipped := grid[slices.IndexFunc(grid, func(p point) bool { return p.name == "fire 0.54 cooldown 50 spread 0.1 repeat 3/3000" })]
	top := best(all)[0]
	// A tie on four categories is broken by chance: the held-out score is
	// the mean over the tied picks, and its range the worst and best.
	var heldOut, heldLo, heldHi float64
	for cat, fs := range byCat {
		var rest []int
		for _, f := range all {
			if !slices.Contains(fs, f) {
				rest = append(rest, f)
			}
		}
		picks := best(rest)
		var sum, lo, hi float64 = 0, math.Inf(1), math.Inf(-1)
		for _, p := range picks {
			r := raw(p, fs)
			sum, lo, hi = sum+r, min(lo, r), max(hi, r)
		}
		heldOut, heldLo, heldHi = heldOut+sum/float64(len(picks)), heldLo+lo, heldHi+hi
		t.Logf("%-22s held out: %d picks tied, %+.3f raw (%+.3f to %+.3f; shipped %+.3f)", cat, len(picks), sum/float64(len(picks)), lo, hi, raw(shipped, fs))
	}
	w := windows(all)
	scores := make([]float64, len(grid))
	for i, p := range grid {
		scores[i] = norm(raw(p, all), w)
	}
	t.Logf("%d configurations: %.2f–%.2f; shipped %.2f; best %s %.2f; leave-one-category-out %.2f (%.2f–%.2f)",
		len(grid), slices.Min(scores), slices.Max(scores), norm(raw(shipped, all), w), top.name, norm(raw(top, all), w),
		norm(heldOut, w), norm(heldLo, w), norm(heldHi, w))
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"the shipped values", norm(raw(shipped, all), w), 73.19},
		{"the grid's best", norm(raw(top, all), w), 74.04},
		{"the grid's worst", slices.Min(scores), 65.90},
		{"leave-one-category-out", norm(heldOut, w), 71.22},
		{"leave-one-category-out at worst", norm(heldLo, w), 70.32},
		{"leave-one-category-out at best", norm(heldHi, w), 72.12},
		{"the best's gain on realTraffic", raw(top, byCat["realTraffic"]) - raw(shipped, byCat["realTraffic"]), 1.58},
		{"the best's gain on realKnownCause", raw(top, byCat["realKnownCause"]) - raw(shipped, byCat["realKnownCause"]), -0.68},
	} {
		if math.Abs(c.got-c.want) > 0.005 {
			t.Errorf("%s: %.3f, the README says %.2f", c.what, c.got, c.want)
		}
	}
}
