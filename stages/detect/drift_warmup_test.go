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
// envelope rule's warm-up (the first 30 minutes) or after it, or two
// (1e100 and -40 dBm a few readings apart), the power back on the next
// reading, leaves the rule's detections those of the run without them:
// the optic's decay, 2 h 30 min later, fires and resolves at the same
// ticks. Before, the warm-up learned the reading into the envelope's
// range: the decay fired 19 to 21 ticks late (1 dB below) or not at all;
// and a 1e100 or -1e100 among the first 30 differences, which the noise
// estimate cannot yet tell a spike by, made its band about 10^98 wide for
// good: the decay never fired.
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
	set := func(v float64) func(s *schemas.Sample) { return func(s *schemas.Sample) { s.F64 = v } }
	type edits = map[int]func(s *schemas.Sample)
	cases := []struct {
		name  string
		edits edits
	}{
		{"1e100 at 1 and -40 at 12", edits{1: set(1e100), 12: set(-40)}},
		{"-1e100 at 5", edits{5: set(-1e100)}},
	}
	for _, tick := range []int{1, 40, 120, 175} {
		for _, v := range []struct {
			name string
			edit func(s *schemas.Sample)
		}{{"-40", set(-40)}, {"1 dB below", func(s *schemas.Sample) { s.F64-- }}, {"1e100", set(1e100)}} {
			cases = append(cases, struct {
				name  string
				edits edits
			}{fmt.Sprintf("%s at %d", v.name, tick), edits{tick: v.edit}})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
				if edit, ok := c.edits[i]; ok && s.Device == badDevice && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet2-transceiver" {
					edit(s)
				}
			}), -1)
			if g := drifts(got); !slices.Equal(g, want) {
				t.Errorf("drift rule: %s, want %s", strings.Join(g, "; "), strings.Join(want, "; "))
			}
		})
	}
}
