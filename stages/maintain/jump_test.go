package maintain

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestMaintainJumpAheadKeepsOpenCases: sim-01, whose optic degrades
// (its cases open at 80 and 85 minutes), has its clock set two days ahead
// at minute 101, and its optic readings come 9 minutes late then (none
// from 101 to 109; the rest of its samples every minute). Its first
// sample after the jump lowers its offset by two days; the optic series'
// latest samples, from before the jump, are then judged two days old in
// its own time, and the next sweep closes its open cases as stale. On
// time, the 9 minutes without optic readings close nothing (stale: 30m).
func TestMaintainJumpAheadKeepsOpenCases(t *testing.T) {
	staleCloses := func(jump time.Duration) (n int, all []string) {
		recs := stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
			if s.Device == "sim-01" && (s.Metric == schemas.MetricOpticInputPower || s.Metric == schemas.MetricOpticLaserBias) && i >= 101 && i < 110 {
				return false
			}
			s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
			if s.Device == "sim-01" && i >= 101 {
				s.TS += int64(jump)
			}
			return true
		})
		var cfg Config
		cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
			Signals: maintenance.DefaultSignals()[:2], Stale: 30 * time.Minute}
		m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		all = process(t, m, recs)
		for _, l := range all {
			if strings.HasSuffix(l, " "+schemas.CloseStale) {
				n++
			}
		}
		return n, all
	}
	n, all := staleCloses(0)
	if n != 0 || len(all) == 0 {
		t.Fatalf("on time: %d stale closes of %v; want cases opened, none closed as stale", n, all)
	}
	if n, all := staleCloses(48 * time.Hour); n != 0 {
		t.Errorf("sim-01 set two days ahead at 101: %d cases closed as stale, want none (they were open and report again at 110): %v", n, all)
	}
}
