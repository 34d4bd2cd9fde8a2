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

// TestDetectQuietRule: the simulator's rx errors (rising to 2/s over 30
// minutes from 1 h in, on a port whose in-errors move on 5 % of intervals)
// are one error_run alert of their own (label rule=error_run, its own
// fingerprint) that fires within 3 minutes of the fault's start and
// resolves within 2 minutes of its end; no other in-errors series fires
// it; a stage restored from the changelog while it fires gives the same
// detections and state.
func TestDetectQuietRule(t *testing.T) {
	start, dur := time.Hour, 30*time.Minute
	recs, _, _ := simMessages(t, 2, 720, []sim.Fault{{Device: "sim-01", Interface: "Ethernet2", Kind: sim.FaultRxErrors, After: start, Duration: dur}})
	dets := process(t, newTestDetect(t, Config{}), recs)
	var quiet []*schemas.Detection
	for _, d := range dets {
		if d.Detector == QuietRule {
			quiet = append(quiet, d)
		}
	}
	if len(quiet) != 2 {
		t.Fatalf("%d error_run detections, want one firing and one resolved: %v", len(quiet), summary(quiet))
	}
	t.Logf("error_run: %v (ticks of 10 s)", summary(quiet))
	fire, res := quiet[0], quiet[1]
	if fire.Device != "sim-01" || fire.Keys != "name=Ethernet2" || fire.Metric != schemas.MetricInErrors || fire.Labels["rule"] != QuietRule ||
		fire.Fingerprint == schemas.Fingerprint(schemas.AlertLabels(fire.Device, fire.Metric, fire.Keys)) {
		t.Errorf("firing detection on %s %s %s, labels %v: want sim-01's in-errors on Ethernet2 with rule=%s and a fingerprint of its own", fire.Device, fire.Metric, fire.Keys, fire.Labels, QuietRule)
	}
	if at := fire.EventTime.Sub(t0); at < start || at > start+3*time.Minute {
		t.Errorf("fired %v after the start, want within 3m of the fault's start (%v)", at, start)
	}
	if at := res.EventTime.Sub(t0); res.State != schemas.StateResolved || res.Fingerprint != fire.Fingerprint || at < start+dur || at > start+dur+2*time.Minute {
		t.Errorf("then %s at %v, want resolved within 2m of the fault's end (%v)", res.State, at, start+dur)
	}
	// Hand off while it fires (records hold 60 ticks of 10 s: 10 minutes).
	cut := 2 * 7 // 01:10 of 2 h, 2 devices
	a, b := newTestDetect(t, Config{}), newTestDetect(t, Config{})
	process(t, a, recs[:cut])
	for k, v := range checkpoint(a) {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	da, db := summary(process(t, a, recs[cut:])), summary(process(t, b, recs[cut:]))
	resolved := func(s string) bool { return strings.HasPrefix(s, "resolved error_run") }
	if !slices.Equal(da, db) || !slices.ContainsFunc(da, resolved) {
		t.Errorf("after the handoff %v, without %v", db, da)
	}
	if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Error("final states differ after the handoff")
	}
}
