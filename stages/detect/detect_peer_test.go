package detect

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectPeerRule: 12 simulated hours of 3 devices, a fan of one
// wearing to half its speed over 2 h before it stops for an hour, a PSU
// of another losing 0.1 of efficiency over 2 h before an hour at that
// loss: each wear is one sibling alert of its own (label rule=peer, its
// own fingerprint; the fan's on its speed, the PSU's on its efficiency),
// fired after the wear starts and no later than 30 s after its first
// symptom (sim.Config.FirstSymptom), resolved within 5 minutes of the
// component's replacement; nothing else fires the rule. A stage restored
// from the changelog while both fire gives the same detections and state.
func TestDetectPeerRule(t *testing.T) {
	if testing.Short() {
		t.Skip("12 simulated hours")
	}
	h := time.Hour
	faults := []sim.Fault{
		{Device: "sim-01", Component: "Fan2", Kind: sim.FaultFanFailure, After: 8 * h, Duration: h, Precursor: 2 * h},
		{Device: "sim-02", Component: "PSU1", Kind: sim.FaultPSUDegradation, After: 9 * h, Duration: h, Precursor: 2 * h},
	}
	cfg := sim.Config{Devices: 3, Faults: faults}
	recs, _, _ := simConfigMessages(t, cfg, 12*360)
	cfg.Start = t0
	cfg = cfg.WithDefaults()
	var peers []*schemas.Detection
	for _, d := range process(t, newTestDetect(t, Config{}), recs) {
		if d.Detector == PeerRule {
			peers = append(peers, d)
		}
	}
	for _, d := range peers {
		t.Logf("%s %v %s %s %s: %s", d.State, d.EventTime.Sub(t0), d.Device, d.Metric, d.Keys, d.Annotations["description"])
	}
	if len(peers) != 4 {
		t.Fatalf("%d sibling detections, want a firing and a resolved one per fault: %v", len(peers), summary(peers))
	}
	for _, f := range cfg.Faults {
		metric := map[string]string{sim.FaultFanFailure: schemas.MetricFanSpeed, sim.FaultPSUDegradation: schemas.MetricPSUEfficiency}[f.Kind]
		var on []*schemas.Detection
		for _, d := range peers {
			if d.Device == f.Device {
				on = append(on, d)
			}
		}
		if len(on) != 2 {
			t.Fatalf("%s: %d sibling detections on %s, want 2", f.Kind, len(on), f.Device)
		}
		fire, res := on[0], on[1]
		if fire.Device != f.Device || fire.Metric != metric || fire.Keys != "name="+f.Component || fire.State != schemas.StateFiring ||
			fire.Labels["rule"] != PeerRule || fire.Severity != schemas.SeverityWarning ||
			fire.Fingerprint == schemas.Fingerprint(schemas.AlertLabels(fire.Device, fire.Metric, fire.Keys)) {
			t.Errorf("firing detection %s on %s %s %s, labels %v: want %s %s name=%s with rule=%s and a fingerprint of its own",
				fire.State, fire.Device, fire.Metric, fire.Keys, fire.Labels, f.Device, metric, f.Component, PeerRule)
		}
		symptom, wear, end := cfg.FirstSymptom(f), t0.Add(f.After-f.Precursor), t0.Add(f.After+f.Duration)
		if lat := fire.EventTime.Sub(symptom); lat > 30*time.Second || fire.EventTime.Before(wear) {
			t.Errorf("%s fired %v after the first symptom, want within 30 s and not before the wear", f.Kind, lat)
		}
		if at := res.EventTime.Sub(end); res.State != schemas.StateResolved || res.Fingerprint != fire.Fingerprint || at < 0 || at > 5*time.Minute {
			t.Errorf("%s: then %s %v after the replacement, want resolved within 5m", f.Kind, res.State, at)
		}
	}
	// Hand off while both fire (records hold 60 ticks of 10 s: 10 minutes).
	cut := 3 * (6*7 + 3) // 07:30, 3 devices
	a, b, da, db := handoff(t, recs, cut)
	resolved := func(s string) bool { return strings.HasPrefix(s, "resolved "+PeerRule) }
	if !slices.Equal(da, db) || !slices.ContainsFunc(da, resolved) {
		t.Errorf("after the handoff %v, without %v", db, da)
	}
	if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Error("final states differ after the handoff")
	}
}

// handoff processes recs[:cut] on a stage, restores a second stage from
// its changelog, and processes recs[cut:] on both: the two stages and the
// summaries of their detections after the cut.
func handoff(t *testing.T, recs []*kgo.Record, cut int) (a, b *Stage, da, db []string) {
	t.Helper()
	a, b = newTestDetect(t, Config{}), newTestDetect(t, Config{})
	process(t, a, recs[:cut])
	for k, v := range checkpoint(a) {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, summary(process(t, a, recs[cut:])), summary(process(t, b, recs[cut:]))
}
