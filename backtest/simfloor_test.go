package backtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/config"
	"github.com/telekernel/telekernel/pipeline"
)

// floorScenario is a small version of deploy/examples/sim-faults.yaml: a
// fabric of 2 spines and 4 leaves with every fault kind once or twice over
// 11 simulated hours, the first an hour in.
func floorScenario() sim.Config {
	h := time.Hour
	m := time.Minute
	return fabric(
		sim.Fault{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: h, Duration: 5 * m},
		sim.Fault{Device: "sim-03", Interface: "Ethernet2", Kind: sim.FaultLinkFlap, After: h + 40*m, Duration: 10 * m, Flaps: 5},
		sim.Fault{Device: "sim-04", Interface: "Ethernet1", Kind: sim.FaultBGPReset, After: 2*h + 20*m},
		sim.Fault{Device: "sim-05", Interface: "Ethernet2", Kind: sim.FaultReroute, After: 3 * h, Duration: 20 * m},
		sim.Fault{Device: "sim-02", Interface: "Ethernet3", Kind: sim.FaultTrafficSpike, After: 3*h + 40*m, Duration: 10 * m},
		sim.Fault{Device: "sim-03", Interface: "Ethernet4", Kind: sim.FaultTrafficDrop, After: 4*h + 20*m, Duration: 30 * m},
		sim.Fault{Device: "sim-04", Interface: "Ethernet3", Kind: sim.FaultRxErrors, After: 5 * h, Duration: h},
		sim.Fault{Device: "sim-05", Interface: "Ethernet4", Kind: sim.FaultCounterReset, After: 6*h + 20*m},
		sim.Fault{Device: "sim-04", Interface: "Ethernet4", Kind: sim.FaultLinkFlap, After: 7 * h, Duration: 4 * m},
		sim.Fault{Device: "sim-01", Interface: "Ethernet4", Kind: sim.FaultOpticDegradation, After: 6*h + 40*m, Duration: 2 * h},
		sim.Fault{Device: "sim-02", Component: "Fan1", Kind: sim.FaultFanFailure, After: 8 * h, Duration: h, Precursor: 2 * h},
		sim.Fault{Device: "sim-03", Component: "PSU2", Kind: sim.FaultPSUDegradation, After: 8*h + 30*m, Duration: h, Precursor: 2 * h},
		sim.Fault{Device: "sim-01", Kind: sim.FaultBGPReset, After: 9*h + 30*m},
	)
}

// simFloors are, per fault kind the detect stage must fire on, how many of
// floorScenario's faults it detects on their device with the default
// configuration, measured on 2026-12-02 before the detection work of issue
// 12 (branches det-state, det-level) landed: state rows were not yet
// detections. They are regression floors, not the goal; the goal is every
// fault (simGoal), so raise them to the counts in floorScenario once the
// detection branches land.
var simFloors = map[string]int{
	sim.FaultTrafficSpike: 1, sim.FaultTrafficDrop: 1, sim.FaultLinkDown: 1, sim.FaultReroute: 1, sim.FaultFanFailure: 1,
	sim.FaultLinkFlap: 1, // of 2: the flap of an edge port (4 min, down every other sample) is missed
	sim.FaultBGPReset: 1, // of 2: the reset of one leaf session (sim-04) is missed on both ends
	sim.FaultRxErrors: 0, // of 1: in-errors rising to 2/s over an hour is missed
}

// Issue 12's goal for the simulator, with the default configuration.
const (
	simGoalFalsePer100DeviceHours = 1.0 // at most 1 false incident per 100 device-hours
)

// TestSimBacktestFloors runs floorScenario (1.95 M samples, about 4 s)
// through the detect stage with the default configuration: every fault
// kind the detect stage must fire on keeps at least its floor of detected
// faults, the counter reset (not a failure) stays silent, and false
// incidents stay within issue 12's goal of 1 per 100 device-hours.
func TestSimBacktestFloors(t *testing.T) {
	ds, err := LoadSim(floorScenario(), 11*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(context.Background(), "default", pipeline.DetectConfig{}, ds, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sim
	t.Logf("%d points in %v; %d firing; required %d/%d; false %d in %.0f device-hours (%.2f per 100)", res.Stats.Points, res.Stats.Elapsed,
		res.Stats.Firing, s.RequiredDetected, s.Required, s.FalseIncidents, s.DeviceHours, s.FalsePer100DeviceHours)
	for _, f := range s.Faults {
		t.Logf("faults[%d] %s %s: %s", f.Index, f.Kind, f.Device, faultCell(&f))
	}
	seen := map[string]bool{}
	for _, k := range s.Kinds {
		seen[k.Kind] = true
		t.Logf("%-18s %-11s %d/%d peers %d/%d median %v max %v", k.Kind, k.Expect, k.Detected, k.Faults, k.PeersDetected, k.Peers, k.MedianLatency, k.MaxLatency)
		switch k.Expect {
		case ExpectFire:
			floor, ok := simFloors[k.Kind]
			if !ok {
				t.Errorf("%s: no floor in simFloors", k.Kind)
			}
			if k.Detected < floor {
				t.Errorf("%s: %d of %d faults detected, below the floor of %d", k.Kind, k.Detected, k.Faults, floor)
			}
		case ExpectSilent:
			if k.Detected > 0 {
				t.Errorf("%s: the detect stage fired on %d of %d (it should stay silent)", k.Kind, k.Detected, k.Faults)
			}
		}
	}
	for _, kind := range sim.FaultKinds {
		if !seen[kind] {
			t.Errorf("floorScenario has no %s fault", kind)
		}
	}
	if s.DeviceHours < 60 || s.FalsePer100DeviceHours > simGoalFalsePer100DeviceHours {
		t.Errorf("%d false incidents in %.1f device-hours (%.2f per 100), want at most %v per 100", s.FalseIncidents, s.DeviceHours,
			s.FalsePer100DeviceHours, simGoalFalsePer100DeviceHours)
	}
}

// simScenarioFloors are, per fault kind the detect stage must fire on, how
// many of deploy/examples/sim-faults.yaml's faults the default
// configuration detects on their device, measured on 2026-12-02 before the
// detection branches of issue 12 landed (the README's "Backtests"
// figures). Raise them when those land.
var simScenarioFloors = map[string]int{
	sim.FaultTrafficSpike: 1, sim.FaultTrafficDrop: 1, sim.FaultFanFailure: 1, sim.FaultLinkDown: 3, sim.FaultReroute: 2,
	sim.FaultLinkFlap: 1, // of 2: the edge port's flap is missed
	sim.FaultBGPReset: 2, // of 3: sim-09's reset of one session is missed
	sim.FaultRxErrors: 0, // of 1
}

// TestSimBacktestFull checks the README's simulator figures: the default
// fleet (20 devices, 4 interfaces) without faults for 5 simulated days
// (2400 device-hours, 59.6 M samples) gives no false incident, and the
// 3-day scenario deploy/examples/sim-faults.yaml (141.6 M samples) keeps
// its per-kind floors and at most 15 false incidents in 1440
// device-hours. About 20 CPU-minutes: it runs only under
// TK_BACKTEST_FULL=1.
func TestSimBacktestFull(t *testing.T) {
	if os.Getenv("TK_BACKTEST_FULL") == "" {
		t.Skip("set TK_BACKTEST_FULL=1 to run the 5-day clean fleet and the 3-day fault scenario (about 20 CPU-minutes)")
	}
	clean := config.Default().Sim.Config
	clean.Faults = []sim.Fault{}
	res := simEvaluate(t, clean, 120*time.Hour)
	if s := res.Sim; s.DeviceHours < 2399 || s.FalseIncidents > 0 {
		t.Errorf("clean fleet: %d false incidents in %.1f device-hours, want 0 in 2400", s.FalseIncidents, s.DeviceHours)
	}
	cfg, err := config.Load("../deploy/examples/sim-faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := simEvaluate(t, cfg.Sim.Config, cfg.Sim.Span).Sim
	for _, k := range s.Kinds {
		if floor, ok := simScenarioFloors[k.Kind]; k.Expect == ExpectFire && (!ok || k.Detected < floor) {
			t.Errorf("scenario %s: %d of %d detected, below the floor of %d", k.Kind, k.Detected, k.Faults, floor)
		}
		if k.Expect == ExpectSilent && k.Detected > 0 {
			t.Errorf("scenario %s: fired on %d of %d", k.Kind, k.Detected, k.Faults)
		}
	}
	if s.RequiredDetected < 11 || s.DeviceHours < 1439 || s.FalseIncidents > 15 {
		t.Errorf("scenario: %d/%d required faults detected (floor 11), %d false incidents in %.1f device-hours (ceiling 15 in 1440)",
			s.RequiredDetected, s.Required, s.FalseIncidents, s.DeviceHours)
	}
}

// simEvaluate backtests cfg over span with the default detect
// configuration and logs the outcome per kind.
func simEvaluate(t *testing.T, cfg sim.Config, span time.Duration) *Result {
	t.Helper()
	ds, err := LoadSim(cfg, span)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), "default", pipeline.DetectConfig{}, ds, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sim
	t.Logf("%d devices, %v: %d points in %v, %d firing; required %d/%d; false %d in %.1f device-hours (%.2f per 100)", cfg.Devices, span,
		res.Stats.Points, res.Stats.Elapsed.Round(time.Second), res.Stats.Firing, s.RequiredDetected, s.Required, s.FalseIncidents, s.DeviceHours, s.FalsePer100DeviceHours)
	for _, k := range s.Kinds {
		t.Logf("%-18s %-11s %d/%d peers %d/%d median %v max %v", k.Kind, k.Expect, k.Detected, k.Faults, k.PeersDetected, k.Peers, k.MedianLatency, k.MaxLatency)
	}
	return res
}
