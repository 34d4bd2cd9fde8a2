package nab

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/telekernel/telekernel/backtest/nab/nabtest"
)

// dataDir returns the NAB subset (see nabtest.Dir).
func dataDir(t testing.TB) string { return nabtest.Dir(t) }

var (
	corpusOnce sync.Once
	corpus     *Corpus
	corpusErr  error
)

func loadCorpus(t testing.TB) *Corpus {
	dir := dataDir(t)
	corpusOnce.Do(func() {
		corpus, corpusErr = Load(filepath.Join(dir, "data"), filepath.Join(dir, "labels", "combined_windows.json"))
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpus
}

func TestScaledSigmoid(t *testing.T) {
	f := func(y, want float64) {
		t.Helper()
		if got := scaledSigmoid(y); math.Abs(got-want) > 5e-6 {
			t.Errorf("S(%v) = %v, want %v", y, got, want)
		}
	}
	f(0.01, -0.024995)
	f(0.1, -0.244919)
	f(0.5, -0.848284)
	f(1, -0.986614)
	f(2, -0.999909)
	f(3, -0.999999)
	f(3.0001, -1)
	g := func(y, want float64) {
		t.Helper()
		if got := scaledSigmoid(y) / maxTP; math.Abs(got-want) > 5e-6 {
			t.Errorf("S(%v)/maxTP = %v, want %v", y, got, want)
		}
	}
	g(-1, 1)
	g(-0.75, 0.96699)
	g(-0.5, 0.85979)
	g(-0.25, 0.56212)
	g(-0.1, 0.24824)
}

func TestProbation(t *testing.T) {
	f := func(n, want int) {
		t.Helper()
		if got := Probation(n); got != want {
			t.Errorf("Probation(%d) = %d, want %d", n, got, want)
		}
	}
	f(4032, 604)
	f(5000, 750)
	f(22695, 750)
	f(1624, 243)
}

// TestPerfectAndNull checks the two ends of the normalised scale on the
// corpus: a detector that fires once at the first row of every window
// scores 100, one that never fires scores 0.
func TestPerfectAndNull(t *testing.T) {
	c := loadCorpus(t)
	perfect := make([][]float64, len(c.Series))
	null := make([][]float64, len(c.Series))
	for i, s := range c.Series {
		perfect[i] = make([]float64, s.Len())
		null[i] = make([]float64, s.Len())
		for j := range null[i] {
			null[i][j] = 0.5
		}
		for _, w := range c.Windows[i] {
			perfect[i][w[0]] = 1
		}
	}
	for _, tc := range []struct {
		name   string
		scores [][]float64
		want   float64
	}{{"perfect", perfect, 100}, {"null", null, 0}} {
		res, err := c.Evaluate(tc.scores, Profiles)
		if err != nil {
			t.Fatal(err)
		}
		for _, ps := range res {
			if math.Abs(ps.Normalized-tc.want) > 1e-9 {
				t.Errorf("%s %s: %v, want %v", tc.name, ps.Profile.Name, ps.Normalized, tc.want)
			}
		}
	}
	if n := c.Labels.Count(); n != 53 {
		t.Errorf("windows = %d, want 53", n)
	}
}

// TestReference reproduces the official scorer's results for the reference
// detectors: the optimised threshold, every file's score and TP/TN/FP/FN,
// the totals, and the normalised scores of final_results_subset.json.
func TestReference(t *testing.T) {
	c := loadCorpus(t)
	dir := dataDir(t)
	var final map[string]map[string]float64
	b, err := os.ReadFile(filepath.Join(dir, "reference", "final_results_subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &final); err != nil {
		t.Fatal(err)
	}
	profiles, err := LoadProfiles(filepath.Join(dir, "config", "profiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(profiles) != 3 || profiles[0] != Standard || profiles[1] != RewardLowFPRate || profiles[2] != RewardLowFNRate {
		t.Fatalf("profiles.json = %+v, want the three built-in profiles", profiles)
	}
	for _, det := range []string{"numenta", "windowedGaussian"} {
		scores, err := c.ReadResults(filepath.Join(dir, "reference"), det)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Evaluate(scores, Profiles)
		if err != nil {
			t.Fatal(err)
		}
		for _, ps := range res {
			want := readRefScores(t, filepath.Join(dir, "reference", det, det+"_"+ps.Profile.Name+"_scores.csv"))
			if math.Abs(ps.Threshold-want.threshold) > 1e-11 {
				t.Errorf("%s %s: threshold %.15g, want %.15g", det, ps.Profile.Name, ps.Threshold, want.threshold)
			}
			for _, f := range append(ps.Files, ps.Total) {
				w, ok := want.files[f.Name]
				if !ok {
					t.Errorf("%s %s: no reference row for %s", det, ps.Profile.Name, f.Name)
					continue
				}
				if math.Abs(f.Score-w.Score) > 1e-9 || f.TP != w.TP || f.TN != w.TN || f.FP != w.FP || f.FN != w.FN || f.Scorable != w.Scorable {
					t.Errorf("%s %s %s: got %+v, want %+v", det, ps.Profile.Name, f.Name, f, w)
				}
			}
			if len(want.files) != len(ps.Files)+1 {
				t.Errorf("%s %s: %d reference rows, scored %d files", det, ps.Profile.Name, len(want.files), len(ps.Files))
			}
			wantNorm := final[det][ps.Profile.Name]
			if math.Abs(ps.Normalized-wantNorm) > 1e-9 {
				t.Errorf("%s %s: normalised %.12f, want %.12f", det, ps.Profile.Name, ps.Normalized, wantNorm)
			}
			t.Logf("%s %-20s %.12f (reference %.12f) threshold %.12g", det, ps.Profile.Name, ps.Normalized, wantNorm, ps.Threshold)
		}
	}
}

type refScores struct {
	threshold float64
	files     map[string]FileScore
}

func readRefScores(t *testing.T, path string) refScores {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := refScores{files: map[string]FileScore{}}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return n
	}
	for _, r := range recs[1:] { // Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count
		name := r[2]
		if r[0] == "Totals" {
			name = "Totals"
		} else if out.threshold, err = strconv.ParseFloat(r[3], 64); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		score, err := strconv.ParseFloat(r[4], 64)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out.files[name] = FileScore{Name: name, Score: score, TP: atoi(r[5]), TN: atoi(r[6]), FP: atoi(r[7]), FN: atoi(r[8]), Scorable: atoi(r[9])}
	}
	return out
}

// TestWindowInProbation checks a window with no scorable row (it ends
// before the probationary period does): it contributes nothing, neither
// −A_FN when missed (SCORING.md §5), nor to the null detector's score that
// normalisation starts from (§8); a detection in it, being in the
// probationary period, is not a detection.
func TestWindowInProbation(t *testing.T) {
	scores := make([]float64, 100) // P = 15
	scores[3] = 1                  // in the probationary window
	scores[50] = 1                 // the first row of the scorable window
	files := []FileInput{{Name: "a/b.csv", Scores: scores, Windows: [][2]int{{2, 5}, {50, 59}}}}
	ps, err := Score(files, Standard)
	if err != nil {
		t.Fatal(err)
	}
	// The scorable window found at its first row (+1), nothing else.
	if ps.Raw != 1 || ps.Total.TP != 1 || ps.Total.FP != 0 {
		t.Errorf("raw %v TP %d FP %d, want 1, 1, 0", ps.Raw, ps.Total.TP, ps.Total.FP)
	}
	// null = −1 (the scorable window), perfect = +2 (both windows, as NAB
	// counts them): 100·(1 + 1)/(2 + 1).
	if want := 200.0 / 3; math.Abs(ps.Normalized-want) > 1e-9 {
		t.Errorf("normalised %v, want %v", ps.Normalized, want)
	}
	null, err := Score([]FileInput{{Name: "a/b.csv", Scores: make([]float64, 100), Windows: files[0].Windows}}, Standard)
	if err != nil {
		t.Fatal(err)
	}
	if null.Raw != -1 || null.Normalized != 0 {
		t.Errorf("null detector: raw %v normalised %v, want −1 and 0", null.Raw, null.Normalized)
	}
}
