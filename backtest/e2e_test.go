package backtest

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/backtest/nab/nabtest"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/levelshift"
	"github.com/telekernel/telekernel/detectors/rangebreak"
	"github.com/telekernel/telekernel/stages/detect"
)

// bigdama returns the bigdama18 folder beside the repository; without it
// the test skips, except under TK_INTEGRATION=1, where it fails.
func bigdama(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(nabtest.SharedData(), "bigdama18")
	if _, err := os.Stat(filepath.Join(dir, "labels", "portflap_first.csv")); err != nil {
		if os.Getenv("TK_INTEGRATION") != "" {
			t.Fatalf("bigdama18 not found at %s: %v", dir, err)
		}
		t.Skipf("bigdama18 not found at %s", dir)
	}
	return dir
}

// cellsAndSpan counts a wide CSV's non-empty feature cells and its time
// span, read independently of the importer.
func cellsAndSpan(t *testing.T, path string) (cells int64, hours float64) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(gz).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	first, last := math.Inf(1), math.Inf(-1)
	for _, row := range rows[1:] {
		for i, c := range row {
			if rows[0][i] == "time" {
				v, _ := strconv.ParseFloat(c, 64)
				first, last = min(first, v), max(last, v)
			} else if rows[0][i] != "" && c != "" {
				cells++
			}
		}
	}
	return cells, (last - first) / 3600
}

// TestBacktestBigdamaPortflap replays two node files of bigdama18's
// portflap experiment (leaf3, spine2: the nodes of its four labelled
// events) through the detect stage with the default configuration and
// checks the replay and the report against the files.
func TestBacktestBigdamaPortflap(t *testing.T) {
	dir := bigdama(t)
	files := []string{filepath.Join(dir, "data", "leaf3portflap_first.csv.gz"), filepath.Join(dir, "data", "spine2portflap_first.csv.gz")}
	ds, err := LoadDataset(FormatWide, files, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Groups) != 1 || ds.Groups[0].Name != "portflap_first" || len(ds.Devices) != 2 || !ds.Devices["leaf3"] || !ds.Devices["spine2"] {
		t.Fatalf("groups %+v devices %v, want one group portflap_first of leaf3 and spine2", ds.Groups, ds.Devices)
	}
	events, err := ReadLabelFiles([]string{filepath.Join(dir, "labels", "portflap_first.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckDevices(events, ds.Devices); err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, events, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var cells int64
	hours := map[string]float64{}
	for _, f := range files {
		c, h := cellsAndSpan(t, f)
		cells += c
		hours[WideDevice(f, DefaultMapping())] = h
	}
	if res.Stats.Points != cells {
		t.Errorf("replayed %d points, the files have %d non-empty cells", res.Stats.Points, cells)
	}
	r := res.Report
	if len(r.Events) != 4 || r.Detected+r.Missed != 4 {
		t.Fatalf("report of %d events, %d detected + %d missed, want 4", len(r.Events), r.Detected, r.Missed)
	}
	for _, d := range r.Devices {
		if math.Abs(d.Hours-hours[d.Device]) > 1e-9 {
			t.Errorf("%s: %.6f device-hours, the file spans %.6f", d.Device, d.Hours, hours[d.Device])
		}
	}
	for _, e := range r.Events {
		if e.Detected && (e.Latency < -DefaultBefore || e.Latency > e.End.Sub(e.Start)+DefaultAfter) {
			t.Errorf("%s: latency %v outside the window", e.Where(), e.Latency)
		}
		t.Logf("%s %s detected %v latency %v by %s", e.Where(), e.Device, e.Detected, e.Latency, e.DetectedMetric)
	}
	if r.Firing != res.Stats.Firing || r.Firing == 0 {
		t.Errorf("report counts %d firing, the replay %d", r.Firing, res.Stats.Firing)
	}
	t.Logf("%d points in %v; detected %d/4, false incidents %d any, %d own over %.2f device-hours", res.Stats.Points,
		res.Stats.Elapsed.Round(time.Millisecond), r.Detected, r.FalseAny, r.FalseOwn, r.DeviceHours)
}

// TestBacktestNAB replays the NAB subset through the detect stage with
// the default configuration, scores the firing detections as NAB onsets,
// and checks the scores against the results layout written and read back
// and against the floor of the baseline in the README.
func TestBacktestNAB(t *testing.T) {
	data, labels := nabtest.Data(t)
	ds, err := LoadDataset(FormatNAB, []string{data}, nil, labels)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, NABEvents(ds.Corpus), quiet)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range ds.Corpus.Series {
		n += s.Len()
	}
	if res.Stats.Points != int64(n) || len(res.Report.Events) != ds.Corpus.Labels.Count() {
		t.Errorf("%d points, %d events; the corpus has %d rows and %d windows", res.Stats.Points, len(res.Report.Events), n, ds.Corpus.Labels.Count())
	}
	scores := NABScores(ds.Corpus, res.Detections)
	onsets := 0
	for _, s := range scores {
		for _, v := range s {
			if v > 0 {
				onsets++
			}
		}
	}
	if onsets == 0 || onsets > res.Stats.Firing {
		t.Errorf("%d onset rows for %d firing detections", onsets, res.Stats.Firing)
	}
	out := t.TempDir()
	if err := ds.Corpus.WriteResults(out, "telekernel", scores); err != nil {
		t.Fatal(err)
	}
	back, err := ds.Corpus.ReadResults(out, "telekernel")
	if err != nil {
		t.Fatal(err)
	}
	again, err := ds.Corpus.Evaluate(back, nab.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	// The shipped configuration (docs/backtests.md: 73.19 / 69.06 /
	// 77.09 since the density member, 71.55 / 67.53 / 75.37 before):
	// fails below issue 12's 72 standard, within 0.6 of each figure.
	floor := map[string]float64{"standard": 72.59, "reward_low_FP_rate": 68.46, "reward_low_FN_rate": 76.49}
	for i, ps := range res.NAB {
		t.Logf("%-20s %.2f (TP %d FP %d)", ps.Profile.Name, ps.Normalized, ps.Total.TP, ps.Total.FP)
		if math.Abs(ps.Normalized-again[i].Normalized) > 1e-9 {
			t.Errorf("%s: %.9f in memory, %.9f from the written files", ps.Profile.Name, ps.Normalized, again[i].Normalized)
		}
		if ps.Normalized < floor[ps.Profile.Name] {
			t.Errorf("%s: %.2f, below the baseline floor %.1f", ps.Profile.Name, ps.Normalized, floor[ps.Profile.Name])
		}
	}
}

// TestBacktestNABWithoutRangeBreak: the gauges' previous members (no
// range_break), range_break without calm breaks, the counters' gate
// (fire, cooldown, level_shift spread) on gauges, each of these without the
// repeat rule, the shipped configuration without the repeat rule, and the
// shipped configuration without density score what the README says
// (detectors/README.md, "The detect stage on NAB": 48.70, 63.44, 65.98,
// 69.85 and 71.55 standard), so each part's share of the shipped figure
// stays measured. Without calm breaks the far breaks
// (rangebreak.Score.Far) still fire: 62.18 before there were any.
func TestBacktestNABWithoutRangeBreak(t *testing.T) {
	data, labels := nabtest.Data(t)
	ds, err := LoadDataset(FormatNAB, []string{data}, nil, labels)
	if err != nil {
		t.Fatal(err)
	}
	off := ensemble.RepeatConfig{Count: -1}
	for _, c := range []struct {
		name string
		cfg  ensemble.Config
		want float64
	}{
		{"without range_break", ensemble.Config{Detectors: slices.Clone(detect.DefaultDetectors), Repeat: off}, 48.70},
		{"without calm breaks", ensemble.Config{RangeBreak: rangebreak.Config{Calm: math.MaxInt32}, Repeat: off}, 63.44},
		{"with the counters' gate", ensemble.Config{Fire: ensemble.DefaultFire, Cooldown: ensemble.DefaultCooldown,
			LevelShift: levelshift.Config{Spread: levelshift.DefaultSpread}, Repeat: off}, 65.98},
		{"without the repeat rule", ensemble.Config{Repeat: off}, 69.85},
		{"without density", ensemble.Config{Detectors: slices.DeleteFunc(slices.Clone(detect.DefaultGaugeDetectors),
			func(m string) bool { return m == "density" })}, 71.55},
	} {
		cfg := detect.Config{Detectors: ensemble.MetricsConfig{Gauges: c.cfg}}
		res, err := Evaluate(t.Context(), c.name, cfg, ds, NABEvents(ds.Corpus), quiet)
		if err != nil {
			t.Fatal(err)
		}
		for _, ps := range res.NAB {
			t.Logf("%s: %-20s %.2f (TP %d FP %d)", c.name, ps.Profile.Name, ps.Normalized, ps.Total.TP, ps.Total.FP)
			if ps.Profile.Name == "standard" && math.Abs(ps.Normalized-c.want) > 0.6 {
				t.Errorf("%s: standard %.2f, the README says %.2f", c.name, ps.Normalized, c.want)
			}
		}
	}
}

// quiet keeps the detect stage's log of every detection out of test output.
var quiet = WithLogger(slog.New(slog.DiscardHandler))

// TestBacktestBigdamaAll replays all of bigdama18 (3 experiments, 33 node
// files, about 12.8 M points; 15–45 s under load) and checks the README's
// figures (bigdamaAllMisses). It runs under
// TK_INTEGRATION=1 (make test) or TK_BACKTEST_FULL=1.
func TestBacktestBigdamaAll(t *testing.T) {
	if os.Getenv("TK_INTEGRATION") == "" && os.Getenv("TK_BACKTEST_FULL") == "" {
		t.Skip("set TK_BACKTEST_FULL=1 (or TK_INTEGRATION=1) to replay all of bigdama18")
	}
	dir := bigdama(t)
	ds, err := LoadDataset(FormatWide, []string{filepath.Join(dir, "data")}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	events, err := ReadLabelFiles([]string{filepath.Join(dir, "labels")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Groups) != 3 || len(ds.Devices) != 11 || len(events) != 23 {
		t.Fatalf("%d groups, %d devices, %d events; want 3, 11, 23", len(ds.Groups), len(ds.Devices), len(events))
	}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, events, quiet)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	t.Logf("%d points in %v; detected %d/23 (%d within 30 s, %d state-based within one sample), median %v; false incidents %d any (%.2f/device-hour), %d own (%.2f) over %.2f device-hours",
		res.Stats.Points, res.Stats.Elapsed.Round(time.Millisecond), r.Detected, r.Within30s, r.StateWithinOneSample, r.MedianLatency,
		r.FalseAny, r.FalseAnyPerDeviceHour, r.FalseOwn, r.FalseOwnPerDeviceHour, r.DeviceHours)
	// The README's figures, with the tolerances bigdamaAllMisses names.
	for _, m := range bigdamaAllMisses(r) {
		t.Error(m)
	}
}

// bigdamaAllMisses returns how r breaks the README's figures for all of
// bigdama18 (README.md, "Backtests", the row TestBigdamaVariants holds
// as "recorded" under TK_BACKTEST_FULL=1): events detected, within 30 s,
// state-based within one sample and the median and max latency exactly,
// incidents outside the device's own events and firing detections up to
// a tenth above the README's (slack), and false incidents outside every
// event not above the README's at all (its headline is 0 per device-hour;
// one incident is 0.05).
func bigdamaAllMisses(r *Report) []string {
	want := bigdamaRecorded()
	got := measure(r, nil)
	out := want.misses(got)
	if got.FalseAny > want.FalseAny {
		out = append(out, fmt.Sprintf("false incidents outside every event: %d, the README says %d", got.FalseAny, want.FalseAny))
	}
	return out
}

// bigdamaRecorded returns the figures of bigdama18 as recorded, the row
// "recorded" of variants.
func bigdamaRecorded() figures {
	for _, v := range variants {
		if v.run == "recorded" {
			return v.want
		}
	}
	panic("no variant recorded")
}
