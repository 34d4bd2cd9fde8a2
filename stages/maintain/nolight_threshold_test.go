package maintain

import (
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestMaintainNoLightThreshold: sim-01's Ethernet2 transceiver, whose
// receive power decays 6 dB, reports its lower receive-power threshold
// as -40 dBm (a module that encodes an unset threshold, 0 mW, as the
// floor of its scale) or below; its case opens on the configured
// threshold, 4 dB below its healthy level, as when it reports none.
// Before, it was held as the device's threshold: at -40 dBm the case
// opened 95 minutes later (after the ramp had crossed the configured
// threshold), predicting a failure at no light; at -45.5 dBm none opened.
func TestMaintainNoLightThreshold(t *testing.T) {
	run := func(thr float64, sev string) []string {
		recs := stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
			s.Keys = strings.TrimSuffix(s.Keys, ",severity=CRITICAL") // the fleet sets a transceiver's keys once
			if i == 0 && thr != 0 && s.Device == stepDevice && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet2-transceiver" {
				s.Metric, s.Keys, s.F64 = schemas.MetricThresholdInPowerLower, s.Keys+",severity="+sev, thr
			}
			return true
		})
		events, _ := thresholdRun(t, newOpticStage(t), recs)
		var rx []string
		for _, l := range events {
			if strings.Contains(l, " optic_rx_power "+schemas.MaintenanceOpen+" ") {
				rx = append(rx, l)
			}
		}
		return rx
	}
	want := run(0, "")
	if len(want) == 0 || !strings.HasSuffix(want[0], schemas.ThresholdConfigured) {
		t.Fatalf("without a device threshold: rx opens %v, want one on the configured threshold", want)
	}
	for _, tc := range []struct {
		thr float64
		sev string
	}{{-40, "WARNING"}, {-40, "CRITICAL"}, {-45.5, "CRITICAL"}} {
		if got := run(tc.thr, tc.sev); len(got) == 0 || got[0] != want[0] {
			t.Errorf("threshold %g dBm (%s): rx opens %v, want %v", tc.thr, tc.sev, got, want[:1])
		}
	}
}
