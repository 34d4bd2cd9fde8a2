package detect

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// wholeGauges returns rows of n ticks of two gauges a router reports in
// whole units, each an average over a load interval updated every 2 s and
// rounded: a CPU's one-minute utilisation in percent (3–6 %, 100 % while
// stuck(i)) and the input packet rate of a port carrying only its
// control traffic (about 1 packet per second over a 30 s load interval; 0
// while dead(i)).
func wholeGauges(n int, stuck, dead func(i int) bool) func(i int) []schemas.Sample {
	rng := rand.New(rand.NewPCG(21, 22))
	cpuA, pktA := math.Exp(-2.0/60), math.Exp(-2.0/30)
	cpu, base, pkt := 4.0, 4.0, 1.0
	return func(i int) []schemas.Sample {
		base = min(6, max(3, base+0.05*rng.NormFloat64()))
		for range 5 {
			x := min(100, max(0, base+0.6*rng.NormFloat64()))
			if stuck(i) {
				x = 100
			}
			cpu = cpuA*cpu + (1-cpuA)*x
			// Packets in 2 s at 1 per second: Poisson(2).
			k, p, l := 0, rng.Float64(), math.Exp(-2)
			for ; p > l; k++ {
				p *= rng.Float64()
			}
			if dead(i) {
				k = 0
			}
			pkt = pktA*pkt + (1-pktA)*float64(k)/2
		}
		return []schemas.Sample{
			{Kind: schemas.KindGauge, Metric: "/native/total-cpu-one-minute", Keys: "name=0/RP0/CPU0", F64: math.Round(cpu)},
			{Kind: schemas.KindGauge, Metric: "/native/input-packet-rate", Keys: "name=HundredGigE0/0/0/2", F64: math.Round(pkt)},
		}
	}
}

// TestDetectWholeUnitGauges: gauges a device reports in whole units (a
// CPU's utilisation in percent, a control-only port's packet rate of
// about 1 per second) move by a unit or two, or read 0, on their own; a
// day of them fires nothing (before: 22 detections, 11 firing; the CPU's
// baseline sigma, the spread of readings that are mostly the same whole
// number, made a move from 4 to 6 % tens of sigmas, and a first reading of
// 0 on the port was a calm range break). The CPU stuck at 100 % fires on
// its first reading up, and the port going dead fires once its level in
// units over the run of zeros reaches level_shift's min_events (its
// average reads 0 from the 2nd point on, then 14 readings at 1 packet per
// second; before, on the 3rd point down).
func TestDetectWholeUnitGauges(t *testing.T) {
	const n = 8640 + 360
	never := func(int) bool { return false }
	recs := sampleRecords(t, n, 60, wholeGauges(n, never, never))
	if got := summary(process(t, newTestDetect(t, Config{}), recs)); len(got) != 0 {
		t.Errorf("a day of whole-unit gauges: %d detections, want none: %v", len(got), got[:min(len(got), 10)])
	}

	stuck := func(i int) bool { return i >= 8700 && i < 8820 }
	dead := func(i int) bool { return i >= 8700 && i < 8760 }
	recs = sampleRecords(t, n, 60, wholeGauges(n, stuck, dead))
	got := summary(process(t, newTestDetect(t, Config{}), recs))
	var firing []string
	for _, s := range got {
		if len(s) > 7 && s[:7] == "firing " {
			firing = append(firing, s)
		}
	}
	want := []string{"firing ewma total-cpu-one-minute@8700", "firing level_shift input-packet-rate@8715"}
	if !slices.Equal(firing, want) {
		t.Errorf("stuck CPU and dead port: firing %v, want %v (all: %v)", firing, want, got)
	}
}

// TestWholeUnitsConfig: every gauge's ensemble takes whole-unit readings
// as such (ensemble.Config.WholeUnits), a counter's rate never.
func TestWholeUnitsConfig(t *testing.T) {
	c := Config{}.WithDefaults()
	if !c.EnsembleConfig("/native/input-packet-rate", false).WholeUnits || !c.EnsembleConfig("/components/component/state/temperature/instant", false).WholeUnits {
		t.Error("a gauge's ensemble does not have WholeUnits")
	}
	if c.EnsembleConfig(schemas.MetricInPkts, true).WholeUnits {
		t.Error("a counter rate's ensemble has WholeUnits")
	}
}

// TestDetectStuckGaugeHolds: a CPU stuck at 100 % for 20 minutes (its
// one-minute average climbing from 4 % over some 30 readings) is one
// alert from its first reading up until it is back. Before, level_shift,
// whose level follows a climb that stays within its band at each point,
// carried 45 % half a minute later, and the other members' expected 4 %
// then looked like an idle stretch they had learned: the alert was
// vetoed and resolved at 99 %, 95 sigmas off (8730).
func TestDetectStuckGaugeHolds(t *testing.T) {
	const n = 8640 + 360
	stuck := func(i int) bool { return i >= 8700 && i < 8820 }
	never := func(int) bool { return false }
	recs := sampleRecords(t, n, 60, wholeGauges(n, stuck, never))
	got := summary(process(t, newTestDetect(t, Config{}), recs))
	if len(got) != 2 || got[0] != "firing ewma total-cpu-one-minute@8700" || !strings.HasPrefix(got[1], "resolved ewma total-cpu-one-minute@") {
		t.Fatalf("got %v, want one firing at 8700 and its resolution", got)
	}
	if at, _ := strconv.Atoi(got[1][strings.LastIndexByte(got[1], '@')+1:]); at < 8820 || at > 8850 {
		t.Errorf("resolved at %d, want after the CPU is back (8820) and within 30 readings", at)
	}
}
