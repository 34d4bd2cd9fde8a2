package backtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
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
		sim.Fault{Device: "sim-05", Kind: sim.FaultTargetUnreachable, After: 10*h + 15*m, Duration: 5 * m},
	)
}

// Issue 12's goal for the simulator, with the default configuration.
const (
	simGoalFalsePer100DeviceHours = 1.0 // at most 1 false incident per 100 device-hours
)

// TestSimBacktestFloors runs floorScenario (1.95 M samples, about 4 s)
// through the detect stage with the default configuration: every fault the
// detect stage must fire on is detected on its device, the counter reset (not a failure) stays silent, and false
// incidents stay within issue 12's goal of 1 per 100 device-hours.
func TestSimBacktestFloors(t *testing.T) {
	ds, err := LoadSim(floorScenario(), 11*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(context.Background(), "default", detect.Config{}, ds, nil, quiet)
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
			if k.Detected < k.Faults {
				t.Errorf("%s: %d of %d faults detected, want every one (issue 12's goal)", k.Kind, k.Detected, k.Faults)
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
	if s.Outside > 0 {
		t.Errorf("%d faults the detect stage must fire on are outside the replayed data: in no count above", s.Outside)
	}
	if s.DeviceHours < 60 || s.FalsePer100DeviceHours > simGoalFalsePer100DeviceHours {
		t.Errorf("%d false incidents in %.1f device-hours (%.2f per 100), want at most %v per 100", s.FalseIncidents, s.DeviceHours,
			s.FalsePer100DeviceHours, simGoalFalsePer100DeviceHours)
	}
}

// TestSimBacktestFull checks the README's simulator figures: the default
// fleet (20 devices, 4 interfaces) without faults for 5 simulated days
// (2400 device-hours, 59.6 M samples) gives no false incident, and the
// 3-day scenario deploy/examples/sim-faults.yaml (141.6 M samples) keeps
// its per-kind floors and at most 15 false incidents in 1440
// device-hours (the goal), and the README's current figures within one
// incident and a tenth of its firing detections. About 11 minutes on the shared 2-core machine: it runs only under
// TK_BACKTEST_FULL=1.
func TestSimBacktestFull(t *testing.T) {
	if os.Getenv("TK_BACKTEST_FULL") == "" {
		t.Skip("set TK_BACKTEST_FULL=1 to run the 5-day clean fleet and the 3-day fault scenario, also with seed 11 and read every 60 s (about 4.5 minutes on this 2-core machine, 2026-12-06)")
	}
	// The README's clean fleet: 20 devices × 4 interfaces in power mode
	// with optics, no topology, no faults (the embedded default is now a
	// smaller leaf/spine showcase).
	clean := config.Default().Sim.Config
	clean.Devices, clean.Interfaces, clean.Topology, clean.Faults = 20, 4, sim.Topology{}, []sim.Fault{}
	res := simEvaluate(t, clean, 120*time.Hour)
	if s := res.Sim; s.DeviceHours < 2399 || s.FalseIncidents > 0 {
		t.Errorf("clean fleet: %d false incidents in %.1f device-hours, want 0 in 2400", s.FalseIncidents, s.DeviceHours)
	}
	cfg, err := config.Load("../deploy/examples/sim-faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res = simEvaluate(t, cfg.Sim.Config, cfg.Sim.Span)
	s := res.Sim
	// The current figures for the scenario (README, "Backtests", and
	// docs/backtests.md's shipped row): 16/16, 0 false incidents in 1 440
	// device-hours, 216 firing detections; a fault outside the data, one
	// incident more, or a tenth more firing, fails.
	const readmeFalse, readmeFiring = 0, 216
	for _, m := range simScenarioMisses(s, res.Report.Firing, readmeFalse, readmeFiring) {
		t.Error("scenario: " + m)
	}
	// The same faults on another draw of the fleet, and read once a
	// minute (an SNMP poller's usual cadence) instead of every 10 s: the
	// goal holds for the network, not for one seed and one cadence
	// (docs/backtests.md, "Other seeds and cadences"; the README's figures,
	// 16/16 and 0 false incidents each, held as the file's are: one more
	// fails).
	for _, v := range []struct {
		name        string
		set         func(*sim.Config)
		readmeFalse int
	}{
		{"seed 11", func(c *sim.Config) { c.Seed = 11 }, 0},
		{"every 60 s", func(c *sim.Config) { c.Interval = time.Minute }, 0},
	} {
		c := cfg.Sim.Config
		v.set(&c)
		res := simEvaluate(t, c, cfg.Sim.Span)
		for _, m := range simVariantMisses(res.Sim, v.readmeFalse) {
			t.Errorf("scenario, %s: %s", v.name, m)
		}
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
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, nil, quiet)
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

// TestShowcaseDays runs the embedded default's fleet (config.Default: the
// showcase's faults, among them sim-05's uplink down for four hours from
// 02:00 with its traffic rerouted onto its other uplink) for two days and
// six hours (to the third day's 06:00), with long traffic faults added: a second reroute on sim-06 on the
// second day, when the seasonal profile knows the day, a link's traffic
// at 5 % for five hours on the first day and for four on the second, and
// three times its traffic for four hours on the second. Every fault is
// detected and no incident is false. Before an incident's stretch away
// was forgotten when the series came back (ensemble.Ensemble.away), the
// following days' normal traffic where those stretches had been learned
// fired (the reroutes' uplinks and their spines' ends as drops, the
// dropped links as rises): 11 false incidents in 540 device-hours, 146
// firing detections (90 now); and the second day's reroute fired again
// an hour in, as its hold ran out.
func TestShowcaseDays(t *testing.T) {
	if testing.Short() {
		t.Skip("54 simulated hours (about 25 s)")
	}
	cfg := config.Default()
	fleet := cfg.Sim.Fleet()
	h := time.Hour
	fleet.Faults = append(fleet.Faults,
		sim.Fault{Device: "sim-06", Interface: "Ethernet1", Kind: sim.FaultReroute, After: 26 * h, Duration: 4 * h},
		sim.Fault{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultTrafficDrop, After: 3 * h, Duration: 5 * h},
		sim.Fault{Device: "sim-08", Interface: "Ethernet4", Kind: sim.FaultTrafficDrop, After: 26 * h, Duration: 4 * h},
		sim.Fault{Device: "sim-09", Interface: "Ethernet4", Kind: sim.FaultTrafficSpike, After: 28 * h, Duration: 4 * h, Factor: 3},
	)
	ds, err := LoadSim(fleet, 54*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), "default", cfg.Detect, ds, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sim
	t.Logf("%d points in %v; %d firing; required %d/%d; false %d in %.0f device-hours", res.Stats.Points, res.Stats.Elapsed,
		res.Stats.Firing, s.RequiredDetected, s.Required, s.FalseIncidents, s.DeviceHours)
	if s.Required != len(fleet.Faults) || s.RequiredDetected != s.Required {
		t.Errorf("%d of %d faults the detect stage must fire on were detected, of %d; want every one", s.RequiredDetected, s.Required, len(fleet.Faults))
	}
	if s.FalseIncidents != 0 {
		t.Errorf("%d false incidents in %.0f device-hours, want none", s.FalseIncidents, s.DeviceHours)
	}
	// The second day's reroute fires once on the uplink it lands on, as
	// the traffic arrives, and once as it leaves.
	var fired []time.Time
	for _, d := range res.Detections {
		if d.Device == "sim-06" && d.Keys == "name=Ethernet2" && strings.HasSuffix(d.Metric, "/in-octets") && d.State == schemas.StateFiring {
			fired = append(fired, d.EventTime)
		}
	}
	if len(fired) != 2 {
		t.Errorf("sim-06 Ethernet2 in-octets fired at %v; want twice, as the rerouted traffic arrived and as it left", fired)
	}
}

// simReadmeRequired is the README's count of the scenario's faults the
// detect stage must fire on (16/16), with any seed or cadence.
const simReadmeRequired = 16

// simScenarioMisses returns how the report s of
// deploy/examples/sim-faults.yaml, with firing detections, breaks the
// README's figures and issue 12's goal: every one of its 16 faults the
// detect stage must fire on scored (none outside the data) and detected,
// no silent kind fired on, not one false incident more than readmeFalse,
// firing detections at most a tenth above readmeFiring.
func simScenarioMisses(s *SimReport, firing, readmeFalse, readmeFiring int) []string {
	out := simVariantMisses(s, readmeFalse)
	if firing > readmeFiring*11/10 {
		out = append(out, fmt.Sprintf("%d firing detections; README: %d", firing, readmeFiring))
	}
	for _, k := range s.Kinds {
		if k.Expect == ExpectFire && k.Detected < k.Faults {
			out = append(out, fmt.Sprintf("%s: %d of %d detected, want every one", k.Kind, k.Detected, k.Faults))
		}
		if k.Expect == ExpectSilent && k.Detected > 0 {
			out = append(out, fmt.Sprintf("%s: fired on %d of %d", k.Kind, k.Detected, k.Faults))
		}
	}
	if s.DeviceHours < 1439 {
		out = append(out, fmt.Sprintf("%.1f device-hours, want 1 440", s.DeviceHours))
	}
	return out
}

// simVariantMisses returns how the report s of the scenario (or of its
// faults with another seed or cadence) breaks the README's 16/16 and
// readmeFalse false incidents, and issue 12's goal.
func simVariantMisses(s *SimReport, readmeFalse int) []string {
	var out []string
	if s.Required != simReadmeRequired || s.Outside > 0 || s.RequiredDetected < s.Required {
		out = append(out, fmt.Sprintf("%d/%d required faults detected, %d outside the data; README: %d/%[4]d",
			s.RequiredDetected, s.Required, s.Outside, simReadmeRequired))
	}
	if s.FalseIncidents > readmeFalse || s.FalsePer100DeviceHours > simGoalFalsePer100DeviceHours {
		out = append(out, fmt.Sprintf("%d false incidents in %.1f device-hours (%.2f per 100, goal ≤ %g); README: %d",
			s.FalseIncidents, s.DeviceHours, s.FalsePer100DeviceHours, simGoalFalsePer100DeviceHours, readmeFalse))
	}
	return out
}
