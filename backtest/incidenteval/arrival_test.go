package incidenteval

import (
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// arrivalRuns is how many arrival orders TestSimIncidentsArrival tries
// per skew.
const arrivalRuns = 20

// TestSimIncidentsArrival feeds the scenario's detections to the rules in
// many arrival orders, as the stream delivers them (each detection up to
// skew after its event time, one alert's detections in order; see
// Arrival), and requires every order to give the same incidents as the
// event-time order (rule, cause, state, entities, evidence and its roles)
// and the same score.
func TestSimIncidentsArrival(t *testing.T) {
	s, err := Simulate(t.Context(), scenario(), 11*time.Hour, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	incs, causeAt, err := Correlate(s.Detections, s.Inventory, incidents.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, wantScore := signatures(incs), s.Score(incs, causeAt)
	t.Logf("event-time order: %d incidents from %d detections, %d of %d root causes correct, %d spurious",
		len(incs), len(s.Detections), wantScore.Correct, len(wantScore.Outcomes), len(wantScore.Spurious))
	for _, skew := range []time.Duration{0, 5 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second} {
		counts := map[int]int{}
		for seed := range uint64(arrivalRuns) {
			got, causeAt, err := CorrelateInOrder(Arrival(s.Detections, skew, seed), s.Inventory, incidents.Config{})
			if err != nil {
				t.Fatal(err)
			}
			counts[len(got)]++
			sig := signatures(got)
			r := s.Score(got, causeAt)
			if !slices.Equal(sig, want) || r.Correct != wantScore.Correct || len(r.Spurious) != len(wantScore.Spurious) {
				t.Errorf("skew %v seed %d: %d incidents (%d correct, %d spurious), want the %d of event-time order (%d correct, %d spurious)",
					skew, seed, len(got), r.Correct, len(r.Spurious), len(incs), wantScore.Correct, len(wantScore.Spurious))
				logDiff(t, sig, want)
			}
		}
		t.Logf("skew %v: incident counts over %d arrival orders %v", skew, arrivalRuns, counts)
	}
}

// signatures returns the sorted signatures of incs.
func signatures(incs []*schemas.Incident) []string {
	out := make([]string, len(incs))
	for i, in := range incs {
		out[i] = Signature(in)
	}
	slices.Sort(out)
	return out
}

// logDiff logs the signatures only one of got and want has (their rule and
// cause part).
func logDiff(t *testing.T, got, want []string) {
	t.Helper()
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Logf("  only in this order: %.200s", g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Logf("  only in event-time order: %.200s", w)
		}
	}
}
