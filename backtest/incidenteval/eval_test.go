package incidenteval

import (
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// scenario is a fabric of 2 spines and 4 leaves (power mode, optics) over
// 11 simulated hours with every fault kind once or twice, a volumetric
// surge on two ports of one leaf, a BGP clear of every session of a spine
// and a line card of a spine (three links down at once), and a leaf the
// collector loses for 5 minutes: the backtest package's floor scenario
// plus the surge, the line card and the lost target.
func scenario() sim.Config {
	h, m := time.Hour, time.Minute
	return sim.Config{Devices: 6, Interfaces: 4, Topology: sim.Topology{Spines: 2}, Power: true, Transceivers: true, Faults: []sim.Fault{
		{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: h, Duration: 5 * m},
		{Device: "sim-03", Interface: "Ethernet2", Kind: sim.FaultLinkFlap, After: h + 40*m, Duration: 10 * m, Flaps: 5},
		{Device: "sim-04", Interface: "Ethernet1", Kind: sim.FaultBGPReset, After: 2*h + 20*m},
		{Device: "sim-05", Interface: "Ethernet2", Kind: sim.FaultReroute, After: 3 * h, Duration: 20 * m},
		{Device: "sim-02", Interface: "Ethernet3", Kind: sim.FaultTrafficSpike, After: 3*h + 40*m, Duration: 10 * m},
		{Device: "sim-03", Interface: "Ethernet4", Kind: sim.FaultTrafficDrop, After: 4*h + 20*m, Duration: 30 * m},
		{Device: "sim-04", Interface: "Ethernet3", Kind: sim.FaultRxErrors, After: 5 * h, Duration: h},
		{Device: "sim-05", Interface: "Ethernet4", Kind: sim.FaultCounterReset, After: 6*h + 20*m},
		{Device: "sim-04", Interface: "Ethernet4", Kind: sim.FaultLinkFlap, After: 7 * h, Duration: 4 * m},
		{Device: "sim-02", Interface: "Ethernet4", Kind: sim.FaultOpticDegradation, After: 6*h + 40*m, Duration: 2 * h},
		{Device: "sim-02", Component: "Fan1", Kind: sim.FaultFanFailure, After: 8 * h, Duration: h, Precursor: 2 * h},
		{Device: "sim-03", Component: "PSU2", Kind: sim.FaultPSUDegradation, After: 8*h + 30*m, Duration: h, Precursor: 2 * h},
		{Device: "sim-01", Kind: sim.FaultBGPReset, After: 9*h + 30*m},
		{Device: "sim-05", Interface: "Ethernet3", Kind: sim.FaultTrafficSpike, After: 10 * h, Duration: 10 * m},
		{Device: "sim-05", Interface: "Ethernet4", Kind: sim.FaultTrafficSpike, After: 10 * h, Duration: 10 * m},
		// A line card of spine sim-01: three of its four leaf links at once.
		{Device: "sim-01", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: 10*h + 30*m, Duration: 5 * m},
		{Device: "sim-01", Interface: "Ethernet2", Kind: sim.FaultLinkDown, After: 10*h + 30*m, Duration: 5 * m},
		{Device: "sim-01", Interface: "Ethernet3", Kind: sim.FaultLinkDown, After: 10*h + 30*m, Duration: 5 * m},
		// The collector loses leaf sim-04: its links to both spines go down.
		{Device: "sim-04", Kind: sim.FaultTargetUnreachable, After: 10*h + 45*m, Duration: 5 * m},
	}}
}

// Goals of issue 15 for the simulator.
const (
	goalSpuriousPer100DeviceHours = 1.0
	goalOpenLatency               = 30 * time.Second
	goalCorrect                   = 0.95 // share of root causes: exactly one incident, right rule and entity
)

// notInTime are the root causes whose first symptom (sim.Config.
// FirstSymptom: 3 sigmas of the series' own noise) may come long before
// the detect path sees them; none since the sibling rule
// (detectors/peer). Measured 2026-12-03 (TestSimIncidents): the fan's
// wear (speed falling to half over the 2 h precursor) opens 2m20s before
// its first symptom, the PSU's (efficiency falling by 0.1 over 2 h)
// 22m40s before, both on the sibling rule, where they opened at the
// fan's stop (1h52m40s after the first symptom) and the PSU's recovery
// (2h33m after) before. The optic's decay (6 dB over 2 h) is in time
// since the drift rule (detectors/drift): 20 s after its first symptom.
var notInTime = map[string]bool{}

// lateAllowed reports whether o may open later than goalOpenLatency after
// its first symptom: a wear of notInTime before the fault (an abrupt fan
// or PSU failure must open in time).
func lateAllowed(o Outcome) bool {
	return notInTime[o.Kind] && o.Symptom.Before(o.Start)
}

// checkOutcomes checks every root cause of r but those of noDetection
// (which may have none) is exactly one incident with the right rule and
// entity, opened within goalOpenLatency of its first symptom unless
// notInTime, and the spurious and silent incidents.
func checkOutcomes(t *testing.T, r *Result, noDetection map[string]bool) {
	t.Helper()
	for _, o := range r.Outcomes {
		switch {
		case len(o.Incidents) == 0 && noDetection[o.Kind]:
		case !o.Correct:
			t.Errorf("%s on %v at %v: %d incidents, want exactly one with the right rule and entity", o.Kind, o.Devices, o.Start, len(o.Incidents))
		case o.SymptomLatency > goalOpenLatency && !lateAllowed(o):
			t.Errorf("%s on %v: incident opened %v after the first symptom (%v after the fault's start), want at most %v", o.Kind, o.Devices, o.SymptomLatency, o.OpenLatency, goalOpenLatency)
		}
	}
	if r.SpuriousPer100DeviceHours() > goalSpuriousPer100DeviceHours || r.SilentMatched > 0 {
		t.Errorf("%d spurious incidents (%.2f per 100 device-hours), %d on a counter reset", len(r.Spurious), r.SpuriousPer100DeviceHours(), r.SilentMatched)
	}
}

// TestSimIncidents runs scenario (about 2 M samples, a few seconds) through
// the detect stage and the incident rules: every root cause the detect
// stage sees comes out as exactly one incident with the right rule and
// entity, no incident is spurious, incidents open within 30 s of their
// first symptom (event time; the fan's and the PSU's wear before their
// failure included, on the sibling rule, which fires on no other
// series), and the rules compress at least 8 detections into an incident on average
// (21.0 measured 2026-12-03, with the lost target and the sibling rule). The optic decays on
// the device whose fan wears and fails at the same time: two incidents,
// the optic's and the fan's (the hardware chain rule).
func TestSimIncidents(t *testing.T) {
	r, err := Run(t.Context(), scenario(), 11*time.Hour, detect.Config{}, incidents.Config{})
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, r)
	checkOutcomes(t, r, nil)
	if r.Correct != len(r.Outcomes) {
		t.Errorf("%d of %d root causes correct (%d with an incident), want all", r.Correct, len(r.Outcomes), r.Detected)
	}
	checkDrift(t, r, scenario())
	checkPeer(t, r, scenario())
	// Every LLDP neighbour the fabric loses goes with its link: no
	// lldp_neighbor_lost of its own.
	checkFired(t, r, "lldp_neighbor_lost", "no series", nil)
	if r.DetectionsPerIncident() < 8 {
		t.Errorf("%.1f detections per incident, want at least 8", r.DetectionsPerIncident())
	}
}

// checkDrift checks the drift rule fired once on the input power of each
// optic of cfg that decays, and on no other series.
func checkDrift(t *testing.T, r *Result, cfg sim.Config) {
	t.Helper()
	var want []string
	for _, f := range cfg.Faults {
		if f.Kind == sim.FaultOpticDegradation {
			want = append(want, f.Device+" name="+f.Interface+"-transceiver "+schemas.MetricOpticInputPower)
		}
	}
	checkFired(t, r, detect.DriftRule, "each decaying optic", want)
}

// checkPeer checks the sibling rule fired once on each fan and PSU of cfg
// that wears or fails (a fan on its speed, a PSU on its efficiency), and
// on no other series.
func checkPeer(t *testing.T, r *Result, cfg sim.Config) {
	t.Helper()
	var want []string
	for _, f := range cfg.Faults {
		switch f.Kind {
		case sim.FaultFanFailure:
			want = append(want, f.Device+" name="+f.Component+" "+schemas.MetricFanSpeed)
		case sim.FaultPSUDegradation:
			want = append(want, f.Device+" name="+f.Component+" "+schemas.MetricPSUEfficiency)
		}
	}
	checkFired(t, r, detect.PeerRule, "each fan and PSU that wears or fails", want)
}

// checkFired checks rule fired once on each series of want (what names
// them) and on no other.
func checkFired(t *testing.T, r *Result, rule, what string, want []string) {
	t.Helper()
	got := slices.Sorted(slices.Values(r.Fired[rule]))
	slices.Sort(want)
	t.Logf("%s rule fired on %v", rule, got)
	if !slices.Equal(got, want) {
		t.Errorf("%s rule fired on %v, want once on %s %v", rule, got, what, want)
	}
}

func logResult(t *testing.T, r *Result) {
	t.Helper()
	t.Logf("%d root causes: %d correct, %d with an incident; %d incidents from %d detections (%.1f per incident); spurious %d in %.0f device-hours (%.2f per 100); %d on silent faults",
		len(r.Outcomes), r.Correct, r.Detected, r.Incidents, r.Detections, r.DetectionsPerIncident(), len(r.Spurious), r.DeviceHours, r.SpuriousPer100DeviceHours(), r.SilentMatched)
	for _, o := range r.Outcomes {
		t.Logf("%-18s %v %v (first symptom %v) correct=%v open %v after the start, %v after the first symptom; cause %v", o.Kind, o.Devices, o.Start.Format("15:04"), o.Symptom.Format("15:04:05"), o.Correct, o.OpenLatency, o.SymptomLatency, o.CauseLatency)
		for _, in := range o.Incidents {
			t.Logf("    %s %s [%s] %s (%.1f; %d evidence) — %s", in.ID, in.OpenedAt.Format("15:04:05"), in.Rule, in.Cause, in.Confidence, len(in.Evidence), in.Action)
		}
	}
	for _, in := range r.Spurious {
		t.Logf("spurious %s %s [%s] %s (%d evidence)", in.ID, in.OpenedAt.Format("15:04:05"), in.Rule, in.Cause, len(in.Evidence))
	}
}
