package power

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestPowerUnmeasuredCounted: of four devices reporting every minute for
// 30 minutes, sim-00 has one PSU input read at 3 times its value once (its
// total steps and waits a tick), sim-03 one at 100 times once (the reading
// jumps and waits), sim-01 sends no PSU reading and sim-02 stops sending
// them at minute 10 (stale from minute 15, psu_max_age 5m); the 29
// finished ticks of each are counted by reason, and the minutes between
// sim-02's last reading and its staleness, which bring no PSU value, are
// not. Before, a tick without a measurement was counted nowhere: an
// operator saw power rows with samples 0 and no reason.
func TestPowerUnmeasuredCounted(t *testing.T) {
	const ticks, glitch, stop = 30, 20, 10
	start, _ := time.Parse(time.DateOnly, expiryStart)
	fleet, err := sim.New(sim.Config{Devices: 4, Interfaces: 4, Start: start, Interval: time.Minute, Power: true})
	if err != nil {
		t.Fatal(err)
	}
	psu := map[string]bool{schemas.MetricPSUInVoltage: true, schemas.MetricPSUInCurrent: true, schemas.MetricPSUOutPower: true}
	recs := stagetest.FleetTicks(t, fleet, ticks, func(i int, s *schemas.Sample) bool {
		s.TS = start.Add(time.Duration(i) * time.Minute).UnixNano()
		if !psu[s.Metric] {
			return true
		}
		cur1 := i == glitch && s.Metric == schemas.MetricPSUInCurrent && s.Keys == "name=PSU1"
		switch {
		case s.Device == "sim-00" && cur1:
			s.F64 *= 3
		case s.Device == "sim-03" && cur1:
			s.F64 *= 100
		case s.Device == "sim-01", s.Device == "sim-02" && i >= stop:
			return false
		}
		return true
	})
	reg := prometheus.NewRegistry()
	p, err := New(Config{}, "power", "detections", pipeline.NewMetrics(reg), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	run(t, p, recs)
	stale := ticks - 1 - (stop + 5) // minutes 15 to 28: the last reading more than 5m old
	for reason, want := range map[string]float64{"waiting": 2, "none": ticks - 1, "stale": float64(stale)} {
		if got := unmeasured(t, reg, reason); got != want {
			t.Errorf("telekernel_power_unmeasured_ticks_total{reason=%q} = %g, want %g", reason, got, want)
		}
	}
}

// unmeasured returns telekernel_power_unmeasured_ticks_total{reason} in
// reg.
func unmeasured(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	return testenv.MetricValue(t, reg, "telekernel_power_unmeasured_ticks_total", "reason="+reason)
}
