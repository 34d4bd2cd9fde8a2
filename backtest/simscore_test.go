package backtest

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// TestScoreSimDetectionCreditsOneFault: two faults of one device within
// the 300 s After tail, and one detection, in the first's tail and the
// second's window: it detects the second only, as Score credits one
// detection to one event (TestScoreDetectionCreditsOneEvent); before,
// both faults counted it. One in the first's tail before the second's
// window opens is the first's alone.
func TestScoreSimDetectionCreditsOneFault(t *testing.T) {
	cfg := fabric(
		sim.Fault{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: time.Hour, Duration: time.Minute},
		sim.Fault{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultLinkDown, After: time.Hour + 200*time.Second, Duration: time.Minute},
	)
	truth, exp := fabricTruth(t, cfg, 2)
	events, quiet := truth.Scoring()
	sc := Scoring{Quiet: quiet}
	f := func(at float64, first, second bool) {
		t.Helper()
		dets := []schemas.Detection{fire("sim-02", 3600+at, "oper-status")}
		r := Score(events, dets, exp, sc)
		s := ScoreSim(truth, dets, exp, sc, &r)
		if s.Faults[0].Detected() != first || s.Faults[1].Detected() != second || s.RequiredDetected != b2i(first)+b2i(second) {
			t.Errorf("one detection %v s after the first fault: first detected %v, second %v (%d required detected); want %v, %v",
				at, s.Faults[0].Detected(), s.Faults[1].Detected(), s.RequiredDetected, first, second)
		}
	}
	f(210, false, true) // inside the second
	f(195, false, true) // the second's window opens 10 s before it starts
	f(150, true, false) // in the first's tail, before the second's window
	f(30, true, false)  // inside the first
}

// TestScoreSimPrecursorBeforeStart: a fan's wear is scored before the
// fault's labelled start, as FaultResult.PrecursorFired says: a detection
// of the failure itself, after the start, is not one during the wear.
func TestScoreSimPrecursorBeforeStart(t *testing.T) {
	cfg := fabric(sim.Fault{Device: "sim-02", Component: "Fan1", Kind: sim.FaultFanFailure, After: time.Hour, Duration: 10 * time.Minute, Precursor: 30 * time.Minute})
	cfg.Start = t0
	truth, err := SimGroundTruth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	exp := map[string]Exposure{"sim-02": {Hours: 2, Interval: 10 * time.Second}}
	events, quiet := truth.Scoring()
	sc := Scoring{Quiet: quiet}
	f := func(at float64, detected, wear bool) {
		t.Helper()
		dets := []schemas.Detection{fire("sim-02", 3600+at, "fan")}
		r := Score(events, dets, exp, sc)
		s := ScoreSim(truth, dets, exp, sc, &r)
		if fr := s.Faults[0]; fr.Detected() != detected || fr.PrecursorFired != wear {
			t.Errorf("one detection %v s after the fan's failure: detected %v, fired during the wear %v; want %v, %v",
				at, fr.Detected(), fr.PrecursorFired, detected, wear)
		}
	}
	f(-600, false, true) // during the wear
	f(60, true, false)   // the failure
	f(-5, true, true)    // within Before of the start: both windows hold it
}

// fabricTruth returns the ground truth of cfg started at t0 and the
// exposure of its six devices over hours, read every 10 s.
func fabricTruth(t *testing.T, cfg sim.Config, hours float64) (*SimTruth, map[string]Exposure) {
	t.Helper()
	cfg.Start = t0
	truth, err := SimGroundTruth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	exp := map[string]Exposure{}
	for i := range 6 {
		exp[sim.DeviceName(i)] = Exposure{Hours: hours, Interval: 10 * time.Second}
	}
	return truth, exp
}
