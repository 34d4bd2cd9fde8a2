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
