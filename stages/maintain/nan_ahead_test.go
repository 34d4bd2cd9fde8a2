package maintain

import (
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestMaintainDroppedReadingAhead: one optic reading of sim-01 without a
// value the tracker keeps (NaN, or +Inf for a series metric), stamped a
// year ahead at minute 40 (sim-01 alone in its partition), changes
// nothing: sim-01's optic cases, open
// when its Ethernet2 readings stop at minute 120, close as stale 30
// minutes later as with the reading on time. Before, the stage placed
// it, setting sim-01's offset back a year, while the tracker dropped it,
// so no series kept its time and no step could undo it: sim-01's samples
// no longer moved the partition's clock, and the stale closes never came.
func TestMaintainDroppedReadingAhead(t *testing.T) {
	const opt = "name=Ethernet1-transceiver"
	for _, c := range []struct {
		name         string
		metric, keys string
		v            float64
	}{
		{"NaN rx power", schemas.MetricOpticInputPower, opt, math.NaN()},
		{"+Inf laser bias", schemas.MetricOpticLaserBias, opt, math.Inf(1)},
		{"NaN temperature (a covariate)", schemas.MetricTemperature, "name=CPU", math.NaN()},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(shift time.Duration) []string {
				done := false
				recs := stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
					if s.Device != stepDevice || i >= 120 && strings.Contains(s.Keys, "Ethernet2") {
						return false
					}
					s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
					if i == 40 && !done && s.Device == stepDevice && s.Metric == c.metric && s.Keys == c.keys {
						s.F64 = c.v
						s.TS += int64(shift)
						done = true
					}
					return true
				})
				if !done {
					t.Fatalf("no %s sample of %s at minute 40", c.metric, stepDevice)
				}
				var cfg Config
				cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
					Signals: maintenance.DefaultSignals()[:2], Stale: 30 * time.Minute}
				m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				return process(t, m, recs)
			}
			want := run(0)
			stale := slices.DeleteFunc(closes(want), func(l string) bool { return !strings.HasSuffix(l, " "+schemas.CloseStale) })
			if len(stale) != 2 {
				t.Fatalf("with the reading on time, cases closed as stale: %v, want sim-01's two", stale)
			}
			if got := run(365 * 24 * time.Hour); !slices.Equal(got, want) {
				t.Errorf("events with the reading a year ahead:\n%v\nwant those with it on time:\n%v", got, want)
			}
		})
	}
}
