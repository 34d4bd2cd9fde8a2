package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestDriftWarmupSpike: one reading of sim-00 Ethernet2's receive power
// far off (a loss of signal's -40 dBm, 1 dB below, or 1e100) during its
// envelope rule's warm-up (the first 30 minutes), the power back on the
// next reading, leaves the rule's detections those of the run without it:
// the optic's decay, 2 h 30 min later, fires and resolves at the same
// ticks. Before, the warm-up learned the reading into the envelope's
// range: the decay fired 19 to 21 ticks late (1 dB below) or not at all.
func TestDriftWarmupSpike(t *testing.T) {
	if testing.Short() {
		t.Skip("runs of 3.5 simulated hours")
	}
	drifts := func(o badOut) []string {
		var out []string
		for _, d := range o.dets {
			if d.Labels["rule"] == DriftRule {
				out = append(out, badName(d))
			}
		}
		return out
	}
	want := drifts(badRun(t, badRecords(t, nil), -1))
	if len(want) == 0 {
		t.Fatal("without a bad reading: no detection of the drift rule")
	}
	for _, tick := range []int{1, 40, 120, 175} {
		for _, v := range []struct {
			name string
			edit func(s *schemas.Sample)
		}{{"-40", func(s *schemas.Sample) { s.F64 = -40 }}, {"1 dB below", func(s *schemas.Sample) { s.F64-- }}, {"1e100", func(s *schemas.Sample) { s.F64 = 1e100 }}} {
			if tick == 1 && v.name == "1e100" {
				// Before the rule's noise estimate can tell a spike (30
				// differences), such a reading still widens the noise,
				// and so the band, for good (drift.maxValue is 1e150).
				continue
			}
			t.Run(fmt.Sprintf("%s at %d", v.name, tick), func(t *testing.T) {
				got := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
					if i == tick && s.Device == badDevice && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet2-transceiver" {
						v.edit(s)
					}
				}), -1)
				if g := drifts(got); !slices.Equal(g, want) {
					t.Errorf("drift rule: %s, want %s", strings.Join(g, "; "), strings.Join(want, "; "))
				}
			})
		}
	}
}
