package backtest

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// TestScoreSimTailNotCutByUnscoredFault: a link down on sim-02, and a
// fault the detect stage is not scored on (a counter reset: silent; a PSU
// degradation: another stage's) on the same device 200 s later. A
// detection 195 s after the link down, in its After tail, is the link
// down's for Score (the other fault is none of its events); ScoreSim
// should agree: the other fault is not one a detection detects.
func TestScoreSimTailNotCutByUnscoredFault(t *testing.T) {
	for _, other := range []sim.Fault{
		{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultCounterReset, After: time.Hour + 200*time.Second, Duration: time.Minute},
		{Device: "sim-02", Component: "PSU1", Kind: sim.FaultPSUDegradation, After: time.Hour + 200*time.Second, Duration: time.Hour},
	} {
		cfg := fabric(
			sim.Fault{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: time.Hour, Duration: time.Minute},
			other,
		)
		truth, exp := fabricTruth(t, cfg, 3)
		events, quiet := truth.Scoring()
		sc := Scoring{Quiet: quiet}
		dets := []schemas.Detection{fire("sim-02", 3600+195, "oper-status")}
		r := Score(events, dets, exp, sc)
		s := ScoreSim(truth, dets, exp, sc, &r)
		if r.Detected != 1 {
			t.Fatalf("%s: Score detected %d of %d events, want 1", other.Kind, r.Detected, len(events))
		}
		if !s.Faults[0].Detected() || s.RequiredDetected != 1 {
			t.Errorf("%s 200 s after a link down on its device: ScoreSim says the link down detected %v (%d required detected), Score detected %d; want it detected, as Score has it",
				other.Kind, s.Faults[0].Detected(), s.RequiredDetected, r.Detected)
		}
	}
}
