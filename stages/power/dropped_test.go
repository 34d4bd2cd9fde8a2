package power

import (
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestPowerDroppedCounted: four devices report every minute for 10
// minutes; in each case a few samples carry a value the estimator does
// not take, and telekernel_power_dropped_values_total counts them under
// their reason alone: a PSU input reading that is NaN, negative, above
// 1e9 or a counter (psu_reading); a port's in-octets jumping by 2^50 for
// one sample, a rate far above twice its speed (over_speed); a port speed
// and a transceiver presence that are none (garbled). Before, nothing
// counted them: an operator saw only rows or rates missing.
func TestPowerDroppedCounted(t *testing.T) {
	for _, tc := range []struct {
		reason string
		want   float64
		edit   func(i int, s *schemas.Sample) bool // reports whether it changed s
	}{
		{"psu_reading", 4, func(i int, s *schemas.Sample) bool {
			if s.Device != "sim-00" || s.Metric != schemas.MetricPSUInCurrent || s.Keys != "name=PSU1" {
				return false
			}
			switch i {
			case 2:
				s.F64 = math.NaN()
			case 4:
				s.F64 = -1
			case 6:
				s.F64 = 2e9
			case 8:
				s.Kind, s.U64, s.F64 = schemas.KindCounter, 7, 0
			default:
				return false
			}
			return true
		}},
		{"over_speed", 1, func(i int, s *schemas.Sample) bool {
			if i != 5 || s.Device != "sim-01" || s.Metric != schemas.MetricInOctets || s.Keys != "name=Ethernet1" {
				return false
			}
			s.U64 += 1 << 50 // the next sample, back at the count, is a reset: no rate
			return true
		}},
		{"garbled", 2, func(i int, s *schemas.Sample) bool {
			if i != 5 || s.Device != "sim-02" {
				return false
			}
			switch {
			case s.Metric == schemas.MetricPortSpeed && s.Keys == "name=Ethernet2":
				s.Str = "SPEED_?"
			case s.Metric == schemas.MetricOpticPresent && s.Keys == "name=Ethernet2-transceiver":
				s.Str = "PRES\x00NT"
			default:
				return false
			}
			return true
		}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			start, _ := time.Parse(time.DateOnly, expiryStart)
			recs := stagetest.EditedTicks(t, sim.Config{Devices: 4, Interfaces: 4, Start: start, Interval: time.Minute, Power: true}, 10, int(tc.want), tc.edit)
			reg := prometheus.NewRegistry()
			p, err := New(Config{}, "power", "detections", pipeline.NewMetrics(reg), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			run(t, p, recs)
			for _, r := range []string{"psu_reading", "over_speed", "garbled"} {
				want := 0.0
				if r == tc.reason {
					want = tc.want
				}
				if got := testenv.MetricValue(t, reg, "telekernel_power_dropped_values_total", "reason="+r); got != want {
					t.Errorf("telekernel_power_dropped_values_total{reason=%q} = %g, want %g", r, got, want)
				}
			}
		})
	}
}
