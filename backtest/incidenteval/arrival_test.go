package incidenteval

import (
	"fmt"
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
	base := newEventTimeOrder(t, s)
	for _, skew := range []time.Duration{0, 5 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second} {
		counts := map[int]int{}
		for seed := range uint64(arrivalRuns) {
			n, _ := base.check(t, Arrival(s.Detections, skew, seed), fmt.Sprintf("skew %v seed %d", skew, seed))
			counts[n]++
		}
		t.Logf("skew %v: incident counts over %d arrival orders %v", skew, arrivalRuns, counts)
	}
}

// eventTimeOrder is what every arrival order of a simulation's
// detections must give: the incidents of event-time order (their
// signatures) and their score.
type eventTimeOrder struct {
	s     *Simulated
	n     int
	sigs  []string
	score *Result
}

// newEventTimeOrder correlates s's detections in event-time order.
func newEventTimeOrder(t *testing.T, s *Simulated) eventTimeOrder {
	t.Helper()
	incs, causeAt, err := Correlate(s.Detections, s.Inventory, incidents.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := eventTimeOrder{s: s, n: len(incs), sigs: signatures(incs), score: s.Score(incs, causeAt)}
	t.Logf("event-time order: %d incidents from %d detections, %d of %d root causes correct, %d spurious",
		e.n, len(s.Detections), e.score.Correct, len(e.score.Outcomes), len(e.score.Spurious))
	return e
}

// check correlates order as it arrives and reports an error named what
// unless it gives the incidents and score of event-time order. It returns
// the number of incidents and whether they were the same.
func (e eventTimeOrder) check(t *testing.T, order []schemas.Detection, what string) (int, bool) {
	t.Helper()
	got, causeAt, err := CorrelateInOrder(order, e.s.Inventory, incidents.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sig := signatures(got)
	r := e.s.Score(got, causeAt)
	if slices.Equal(sig, e.sigs) && r.Correct == e.score.Correct && len(r.Spurious) == len(e.score.Spurious) {
		return len(got), true
	}
	t.Errorf("%s: %d incidents (%d correct, %d spurious), want the %d of event-time order (%d correct, %d spurious)",
		what, len(got), r.Correct, len(r.Spurious), e.n, e.score.Correct, len(e.score.Spurious))
	logDiff(t, sig, e.sigs)
	return len(got), false
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
