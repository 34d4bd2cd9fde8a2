package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestDriftWarmupAbsurdNoise: an absurd reading of sim-00 Ethernet2's
// receive power (1e100, -1e100) among the first 30 of its envelope rule's
// warm-up, alone or with a loss of signal's -40 dBm a few readings on,
// the power back on the next reading, leaves the rule's detections those
// of the run without them: the optic's decay, 2 h 30 min later, fires and
// resolves at the same ticks. Before, the rule's noise estimate, which
// cannot tell a spike before 30 differences, learned the reading: its
// noise, and so its band, was about 10^98 wide, and the decay never fired.
func TestDriftWarmupAbsurdNoise(t *testing.T) {
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
	for _, bad := range []map[int]float64{{1: 1e100}, {5: -1e100}, {1: 1e100, 12: -40}} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			got := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
				if v, ok := bad[i]; ok && s.Device == badDevice && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet2-transceiver" {
					s.F64 = v
				}
			}), -1)
			if g := drifts(got); !slices.Equal(g, want) {
				t.Errorf("drift rule: %s, want %s", strings.Join(g, "; "), strings.Join(want, "; "))
			}
		})
	}
}
