package detect

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectDriftRule: two simulated days of 3 devices with transceivers
// and the power model (temperatures and laser bias swing daily), an optic
// losing 6 dB of receive power over 2 h on the second: the decay is one
// drift alert of its own (label rule=drift, its own fingerprint) on that
// optic's input power, fired within 30 s of its first symptom
// (sim.Config.FirstSymptom) and resolved within a minute of the optic's
// replacement; no other optic series fires the rule. A stage restored from
// the changelog while it fires gives the same detections and state.
func TestDetectDriftRule(t *testing.T) {
	if testing.Short() {
		t.Skip("two simulated days")
	}
	day := 24 * time.Hour
	f := sim.Fault{Device: "sim-01", Interface: "Ethernet2", Kind: sim.FaultOpticDegradation, After: day + 6*time.Hour, Duration: 2 * time.Hour}
	cfg := sim.Config{Devices: 3, Power: true, Transceivers: true, Faults: []sim.Fault{f}}
	recs, _, _ := simConfigMessages(t, cfg, 2*8640)
	cfg.Start = t0
	cfg = cfg.WithDefaults() // the fault's factor
	symptom, end := cfg.FirstSymptom(cfg.Faults[0]), t0.Add(f.After+f.Duration)
	var drifts []*schemas.Detection
	for _, d := range process(t, newTestDetect(t, Config{}), recs) {
		if d.Detector == DriftRule {
			drifts = append(drifts, d)
		}
	}
	t.Logf("drift: %v; first symptom %v", summary(drifts), symptom.Sub(t0))
	for _, d := range drifts {
		t.Logf("%s %s %s: %s", d.State, d.Device, d.Keys, d.Annotations["description"])
	}
	if len(drifts) != 2 {
		t.Fatalf("%d drift detections, want one firing and one resolved: %v", len(drifts), summary(drifts))
	}
	fire, res := drifts[0], drifts[1]
	if fire.Device != f.Device || fire.Metric != schemas.MetricOpticInputPower || !strings.Contains(fire.Keys, f.Interface) ||
		fire.Labels["rule"] != DriftRule || fire.Severity != schemas.SeverityWarning ||
		fire.Fingerprint == schemas.Fingerprint(schemas.AlertLabels(fire.Device, fire.Metric, fire.Keys)) {
		t.Errorf("firing detection on %s %s %s, labels %v: want %s's input power of %s with rule=%s and a fingerprint of its own",
			fire.Device, fire.Metric, fire.Keys, fire.Labels, f.Device, f.Interface, DriftRule)
	}
	if lat := fire.EventTime.Sub(symptom); lat > 30*time.Second || fire.EventTime.Before(t0.Add(f.After)) {
		t.Errorf("fired %v after the first symptom, want within 30 s and not before the decay", lat)
	}
	if at := res.EventTime.Sub(end); res.State != schemas.StateResolved || res.Fingerprint != fire.Fingerprint || at < 0 || at > time.Minute {
		t.Errorf("then %s %v after the optic's replacement, want resolved within 1m", res.State, at)
	}
	// Hand off while it fires (records hold 60 ticks of 10 s: 10 minutes).
	cut := 3 * (6*24 + 6*6 + 6) // 1 day 07:00, 3 devices
	a, b, da, db := handoff(t, recs, cut)
	resolved := func(s string) bool { return strings.HasPrefix(s, "resolved drift") }
	if !slices.Equal(da, db) || !slices.ContainsFunc(da, resolved) {
		t.Errorf("after the handoff %v, without %v", db, da)
	}
	if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Error("final states differ after the handoff")
	}
}
