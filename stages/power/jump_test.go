package power

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestPowerJumpAheadKeepsSlowPSUs: sim-00 sends its PSU readings every
// 10 minutes (another subscription's interval) and the rest every minute;
// its clock is set two days ahead at minute 32. Its first sample after
// the jump lowers its offset by two days, its PSUs' latest readings, from
// before the jump, are then judged two days old, and the next sweep
// forgets them, though they report on schedule. On time, none is
// forgotten.
func TestPowerJumpAheadKeepsSlowPSUs(t *testing.T) {
	forgotten := func(jump time.Duration) string {
		start, _ := time.Parse(time.DateOnly, expiryStart)
		fleet, err := sim.New(sim.Config{Devices: 3, Interfaces: 4, Start: start, Interval: time.Minute, Power: true})
		if err != nil {
			t.Fatal(err)
		}
		psu := map[string]bool{schemas.MetricPSUInVoltage: true, schemas.MetricPSUInCurrent: true, schemas.MetricPSUInPower: true, schemas.MetricPSUOutPower: true}
		recs := stagetest.FleetTicks(t, fleet, 120, func(i int, s *schemas.Sample) bool {
			if s.Device == "sim-00" && psu[s.Metric] && i%10 != 0 {
				return false
			}
			s.TS = start.Add(time.Duration(i) * time.Minute).UnixNano()
			if s.Device == "sim-00" && i >= 32 {
				s.TS += int64(jump)
			}
			return true
		})
		var logs bytes.Buffer
		p, err := New(Config{DeviceExpiry: expiryAfter}, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		run(t, p, recs)
		var out []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "dropped the state") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if got := forgotten(0); got != "" {
		t.Fatalf("on time: %s, want nothing dropped", got)
	}
	if got := forgotten(48 * time.Hour); got != "" {
		t.Errorf("sim-00 set two days ahead: %s\nwant nothing dropped: its PSUs report every 10 minutes", got)
	}
}
