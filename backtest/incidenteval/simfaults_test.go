package incidenteval

import (
	"os"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// TestSimFaultsDrift runs deploy/examples/sim-faults.yaml (20 devices, 16
// interfaces with transceivers, 3 days; several CPU-minutes) through the
// detect stage under TK_BACKTEST_FULL=1: the drift rule fires once, on
// the input power of the optic that loses 6 dB over 6 h, within 60 s of
// its first symptom (measured 2026-12-02: 40 s; a ramp of 0.1 σ per point
// reaches the rule's bound about 7 points after 3 σ, see detectors/README
// "Drift"), resolves at the optic's replacement, and no other optic
// power series has any detection.
func TestSimFaultsDrift(t *testing.T) {
	s := simFaults(t)
	var f sim.Fault
	for _, x := range s.Config.Faults {
		if x.Kind == sim.FaultOpticDegradation {
			f = x
		}
	}
	series := f.Device + " name=" + f.Interface + "-transceiver " + schemas.MetricOpticInputPower
	symptom, end := s.Config.FirstSymptom(f), s.Config.Start.Add(f.After+f.Duration)
	var drift []schemas.Detection
	for _, d := range s.Detections {
		on := d.Device + " " + d.Keys + " " + d.Metric
		if (d.Metric == schemas.MetricOpticInputPower || d.Metric == schemas.MetricOpticOutputPower) && on != series {
			t.Errorf("detection on another optic: %s %s %s %s", d.State, d.Detector, d.EventTime.Format(time.DateTime), on)
		}
		if d.Detector == detect.DriftRule {
			t.Logf("%s %v after the first symptom: %s", d.State, d.EventTime.Sub(symptom), on)
			if on != series {
				t.Errorf("drift rule on %s, want only %s", on, series)
			}
			drift = append(drift, d)
		}
	}
	if len(drift) != 2 || drift[0].EventTime.Sub(symptom) > time.Minute || drift[0].EventTime.Before(s.Config.Start.Add(f.After)) ||
		drift[1].State != schemas.StateResolved || drift[1].EventTime.Sub(end) > time.Minute {
		t.Errorf("%d drift detections, want one firing within 1m of the first symptom (%v) and one resolved within 1m of the replacement (%v)",
			len(drift), symptom.Format(time.DateTime), end.Format(time.DateTime))
	}
}

// TestSimFaultsPeer runs deploy/examples/sim-faults.yaml (20 devices, 3
// days; several CPU-minutes) through the detect stage under
// TK_BACKTEST_FULL=1: the sibling rule fires once on the fan that wears
// (6 h) and fails, and once on the PSU that wears (8 h) and degrades,
// each after its wear starts and no later than 30 s after its first
// symptom, resolves within 5 minutes of the component's replacement, and
// fires on no other series in the 1440 device-hours (40 fans, 40 PSUs).
// Measured 2026-12-03: the fan 9m30s and the PSU 1h34m20s before their
// first symptoms (5h47m40s and 7h45m40s before the faults' starts),
// resolved 3m30s and 3m50s after the replacements.
func TestSimFaultsPeer(t *testing.T) {
	s := simFaults(t)
	got := map[string][]schemas.Detection{}
	for _, d := range s.Detections {
		if d.Detector == detect.PeerRule {
			got[d.Device+" "+d.Keys] = append(got[d.Device+" "+d.Keys], d)
		}
	}
	n := 0
	for _, f := range s.Config.Faults {
		if f.Kind != sim.FaultFanFailure && f.Kind != sim.FaultPSUDegradation {
			continue
		}
		n++
		ds := got[f.Device+" name="+f.Component]
		symptom, wear, end := s.Config.FirstSymptom(f), s.Config.Start.Add(f.After-f.Precursor), s.Config.Start.Add(f.After+f.Duration)
		for _, d := range ds {
			t.Logf("%s %s %s: %v after the first symptom, %v after the fault's start, %v after its end", d.State, d.Device, d.Keys,
				d.EventTime.Sub(symptom), d.EventTime.Sub(s.Config.Start.Add(f.After)), d.EventTime.Sub(end))
		}
		if len(ds) != 2 || ds[0].EventTime.Before(wear) || ds[0].EventTime.Sub(symptom) > 30*time.Second ||
			ds[1].State != schemas.StateResolved || ds[1].EventTime.Before(end) || ds[1].EventTime.Sub(end) > 5*time.Minute {
			t.Errorf("%s on %s %s: %d sibling detections, want one firing in [%v, first symptom %v + 30s] and one resolved within 5m of %v",
				f.Kind, f.Device, f.Component, len(ds), wear.Format(time.DateTime), symptom.Format(time.DateTime), end.Format(time.DateTime))
		}
	}
	if len(got) != n {
		for k, ds := range got {
			for _, d := range ds {
				t.Logf("%s %s at %s: %s", k, d.State, d.EventTime.Format(time.DateTime), d.Annotations["description"])
			}
		}
		t.Errorf("sibling rule on %d components, want only the %d that wear", len(got), n)
	}
}

// simFaults runs deploy/examples/sim-faults.yaml through the detect stage,
// under TK_BACKTEST_FULL=1 only (it skips t otherwise).
func simFaults(t *testing.T) *Simulated {
	t.Helper()
	if os.Getenv("TK_BACKTEST_FULL") == "" {
		t.Skip("set TK_BACKTEST_FULL=1 to run the 3-day sim-faults scenario")
	}
	c, err := config.Load("../../deploy/examples/sim-faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Simulate(t.Context(), c.Sim.Config, c.Sim.Span, c.Detect)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
