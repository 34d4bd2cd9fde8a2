package maintain

import (
	"bytes"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// fcsStage returns staleStage's stage with the default model's FCS error
// counter signal beside the optics'.
func fcsStage(t testing.TB) *Stage {
	t.Helper()
	var cfg Config
	sigs := maintenance.DefaultSignals()
	cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: append(sigs[:2:2], sigs[5]), Stale: 30 * time.Minute}
	m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMaintainCounterWithoutRateExpires: sim-01's Ethernet1 sends its
// FCS error counter once at minute 10 (an optic swapped, an interface
// renamed), or three times, each lower than the last (only resets), and
// never again, while sim-01 reports its other series on, or goes silent
// at minute 120. The counter series, which never had a rate, is
// checkpointed (a new owner restored from the changelog at minute 60
// holds it too, and goes on as the first owner does) and is forgotten,
// its changelog record tombstoned, 5 h (10 × stale) after its last
// sample, as any series; silent, sim-01 goes with it and the changelog
// holds nothing of it. Before, ExpireEach skipped a series with no rate
// (no time of a reading): it stayed in the tracker, and its device known,
// for ever, and it was never checkpointed.
func TestMaintainCounterWithoutRateExpires(t *testing.T) {
	const ticks, cut = 460, 60
	fcs := schemas.SeriesKey{Device: stepDevice, Metric: schemas.MetricInFCSErrors, Keys: "name=Ethernet1"}
	fcsLog := string(pipeline.StateKey(nil, fcs))
	for _, c := range []struct {
		name   string
		values []uint64 // the counter's samples, from minute 10
		silent bool     // sim-01 sends nothing from minute 120
	}{
		{"one sample", []uint64{7}, false},
		{"one sample, device silent", []uint64{7}, true},
		{"only resets", []uint64{30, 20, 10}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs := stagetest.FleetTicks(t, degradingOptic(t), ticks, func(i int, s *schemas.Sample) bool {
				if s.Device == stepDevice && c.silent && i >= 120 {
					return false
				}
				s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
				if s.Device == stepDevice && s.Metric == schemas.MetricInErrors && s.Keys == fcs.Keys && i >= 10 && i < 10+len(c.values) {
					s.Metric, s.U64 = fcs.Metric, c.values[i-10]
				}
				return true
			})
			m := fcsStage(t)
			_, changelog := thresholdRun(t, m, recs[:cut])
			if !slices.Contains(m.Tracker(0).Keys(), fcs) {
				t.Fatalf("at minute %d the tracker does not hold %s", cut, fcs)
			}
			if changelog[fcsLog] == nil {
				t.Errorf("at minute %d the changelog holds no record of %s", cut, fcs)
			}
			next, atCut := fcsStage(t), maps.Clone(changelog)
			for k, v := range atCut {
				if err := next.Restore(0, []byte(k), v); err != nil {
					t.Fatal(err)
				}
			}
			rest, changelog := thresholdRun(t, m, recs[cut:], changelog)
			restored, restoredLog := thresholdRun(t, next, recs[cut:], atCut)

			var held []string
			for _, k := range m.Tracker(0).Keys() {
				if k == fcs || c.silent && k.Device == stepDevice {
					held = append(held, k.String())
				}
			}
			if len(held) != 0 {
				t.Errorf("at minute %d (the counter's last sample at %d) the tracker holds %v, want none of them", ticks-1, 9+len(c.values), held)
			}
			if _, ok := changelog[fcsLog]; ok {
				t.Errorf("the changelog still holds the record of %s", fcs)
			}
			if c.silent {
				if m.parts[0].devs.Lookup(stepDevice) != nil {
					t.Errorf("%s, silent since minute 120, is still known", stepDevice)
				}
				if ks := keysOf(changelog, stepDevice); len(ks) != 0 {
					t.Errorf("the changelog holds %v, want nothing of %s", ks, stepDevice)
				}
			}
			if !slices.Equal(restored, rest) {
				t.Errorf("restored at minute %d, the new owner's events:\n%v\nwant the first owner's:\n%v", cut, restored, rest)
			}
			if got, want := next.Tracker(0).Keys(), m.Tracker(0).Keys(); !slices.Equal(got, want) {
				t.Errorf("restored at minute %d, the new owner holds %v, want the first owner's %v", cut, got, want)
			}
			differ := map[string]bool{}
			for _, l := range []map[string][]byte{changelog, restoredLog} {
				for k := range l {
					differ[k] = !bytes.Equal(changelog[k], restoredLog[k])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(differ)) {
				if differ[k] {
					t.Errorf("restored at minute %d, the new owner's changelog record %q is %x, want the first owner's %x", cut, k, restoredLog[k], changelog[k])
				}
			}
		})
	}
}
