package maintain

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestMaintainDroppedCounted: two devices report their optics every
// minute for 10 minutes; in each case a few samples carry a value the
// tracker does not take, and telekernel_maintain_dropped_values_total
// counts them under their reason alone: a lower receive-power threshold
// of -100 dBm or NaN and an upper laser-bias threshold of 0 mA or 2000 mA
// (threshold); a receive-power reading of NaN, a laser bias of +Inf and a
// transceiver temperature (the bias's covariate) of -Inf (not_finite).
// Before, nothing counted them: an operator saw only cases missing.
func TestMaintainDroppedCounted(t *testing.T) {
	const comp = "name=Ethernet1-transceiver"
	for _, tc := range []struct {
		reason string
		want   float64
		edit   func(i int, s *schemas.Sample) bool // reports whether it changed s
	}{
		{"threshold", 4, func(i int, s *schemas.Sample) bool {
			if s.Device != "sim-01" || s.Keys != comp {
				return false
			}
			switch {
			case s.Metric == schemas.MetricOpticInputPower && (i == 2 || i == 4):
				s.Metric, s.F64 = schemas.MetricThresholdInPowerLower, map[int]float64{2: -100, 4: math.NaN()}[i]
			case s.Metric == schemas.MetricOpticLaserBias && (i == 6 || i == 8):
				s.Metric, s.F64 = schemas.MetricThresholdBiasUpper, map[int]float64{6: 0, 8: 2000}[i]
			default:
				return false
			}
			s.Keys += ",severity=CRITICAL"
			return true
		}},
		{"not_finite", 3, func(i int, s *schemas.Sample) bool {
			if i != 5 || s.Device != "sim-00" || s.Keys != comp {
				return false
			}
			switch s.Metric {
			case schemas.MetricOpticInputPower:
				s.F64 = math.NaN()
			case schemas.MetricOpticLaserBias:
				s.F64 = math.Inf(1)
			case schemas.MetricTemperature:
				s.F64 = math.Inf(-1)
			default:
				return false
			}
			return true
		}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			recs := stagetest.EditedTicks(t, sim.Config{Devices: 2, Interfaces: 2, Start: skewStart, Interval: time.Minute, Transceivers: true, Power: true},
				10, int(tc.want), tc.edit)
			reg := prometheus.NewRegistry()
			var cfg Config
			cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
				Signals: maintenance.DefaultSignals()[:2]}
			m, err := New(cfg, "maintenance", pipeline.NewMetrics(reg), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if err := m.Process(context.Background(), r, func(*kgo.Record) {}); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range []string{"threshold", "not_finite"} {
				want := 0.0
				if r == tc.reason {
					want = tc.want
				}
				if got := testenv.MetricValue(t, reg, "telekernel_maintain_dropped_values_total", "reason="+r); got != want {
					t.Errorf("telekernel_maintain_dropped_values_total{reason=%q} = %g, want %g", r, got, want)
				}
			}
		})
	}
}
