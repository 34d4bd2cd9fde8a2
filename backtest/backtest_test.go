package backtest

import (
	"context"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// spikeBatches is one device's gauge at 10 s steps: noise around 100, then
// from point spikeAt on a level 50 times higher, in batches of 16 points.
func spikeBatches(n, spikeAt int) ([][]schemas.Sample, int64) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var out [][]schemas.Sample
	var cur []schemas.Sample
	for i := range n {
		v := 100 + rng.NormFloat64()
		if i >= spikeAt {
			v *= 50
		}
		cur = append(cur, schemas.Sample{TS: t0 + int64(i)*int64(10*time.Second), Device: "r1", Metric: "/system/cpu/load",
			Kind: schemas.KindGauge, F64: v, Source: "backtest"})
		if len(cur) == 16 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, t0 + int64(spikeAt)*int64(10*time.Second)
}

// TestRunFiresOnSpike replays a step through the detect stage and checks
// that it fires once, at or just after the step, with the stats of the
// replay.
func TestRunFiresOnSpike(t *testing.T) {
	batches, step := spikeBatches(800, 600)
	dets, st, err := Run(context.Background(), detect.Config{}, Batches(batches), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if st.Points != 800 || st.Batches != int64(len(batches)) {
		t.Errorf("points %d batches %d, want 800 and %d", st.Points, st.Batches, len(batches))
	}
	if sp := st.Devices["r1"]; sp.Hours() < 2.2 || sp.Hours() > 2.3 {
		t.Errorf("r1 spans %.3f h, want 799 × 10 s = 2.22 h", sp.Hours())
	}
	var firing []schemas.Detection
	for _, d := range dets {
		if d.State == schemas.StateFiring {
			firing = append(firing, d)
		}
	}
	if len(firing) == 0 || st.Firing != len(firing) {
		t.Fatalf("%d firing detections (stats %d), want at least one: %+v", len(firing), st.Firing, dets)
	}
	lat := firing[0].EventTime.UnixNano() - step
	if lat < 0 || lat > int64(30*time.Second) {
		t.Errorf("first firing %v after the step, want within 3 samples", time.Duration(lat))
	}
	if firing[0].Device != "r1" || firing[0].Metric != "/system/cpu/load" {
		t.Errorf("fired on %s %s", firing[0].Device, firing[0].Metric)
	}
}

// TestRunRejectsBadConfig checks that an invalid detect configuration ends
// the replay before it starts, naming the field.
func TestRunRejectsBadConfig(t *testing.T) {
	cfg := detect.Config{}
	cfg.Alert.FireZ = -1
	_, _, err := Run(context.Background(), cfg, Batches(nil))
	if err == nil {
		t.Fatal("no error for alert.fire_z -1")
	}
	t.Log(err)
}

// TestRunCountsDroppedRows: samples the detect stage drops on their own (a
// time outside the window, an empty metric) are counted in the stats and
// printed, not lost without a word.
func TestRunCountsDroppedRows(t *testing.T) {
	batches, _ := spikeBatches(64, 64)
	bad := batches[0][0]
	bad.TS = 1 // 1970
	noMetric := batches[0][1]
	noMetric.Metric = ""
	batches = append(batches, []schemas.Sample{bad, noMetric})
	_, st, err := Run(context.Background(), detect.Config{}, Batches(batches), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if want := (schemas.RowDrops{BadTimestamp: 1, BadName: 1}); st.Points != 66 || st.Dropped != want {
		t.Errorf("points %d, dropped %+v; want 66 and %+v", st.Points, st.Dropped, want)
	}
	var out strings.Builder
	if err := PrintTable(&out, []*Result{{Name: "default", Stats: st}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 (bad_timestamp 1, bad_name 1)") {
		t.Errorf("the table does not show the dropped points:\n%s", out.String())
	}
}

// TestEvaluateNABWithoutWindows replays NAB files whose labels hold no
// window (artificialNoAnomaly alone): the NAB score is undefined there
// (perfect = null = 0), so there is none, rather than a NaN that the table
// prints and --json cannot encode.
func TestEvaluateNABWithoutWindows(t *testing.T) {
	s := &nab.Series{Name: "artificialNoAnomaly/flat.csv"}
	for i := range 400 {
		s.Times = append(s.Times, time.Date(2014, 4, 1, 0, 5*i, 0, 0, time.UTC))
		s.Values = append(s.Values, 1)
	}
	s.Values[300] = 1000
	c, err := nab.NewCorpus([]*nab.Series{s}, nab.Labels{s.Name: nil})
	if err != nil {
		t.Fatal(err)
	}
	ds := &Dataset{Format: FormatNAB, Corpus: c, Devices: map[string]bool{s.Name: true},
		Groups: []Group{{Name: "nab", Open: func() (Source, error) { return NABSource(c), nil }}}}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, NABEvents(c), quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range res.NAB {
		t.Errorf("%s: NAB score %v without windows, want none", ps.Profile.Name, ps.Normalized)
	}
	if err := PrintJSON(io.Discard, []*Result{res}); err != nil {
		t.Errorf("PrintJSON: %v", err)
	}
}
