package detect

import (
	"slices"
	"testing"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectReplayScoredAgain: the README's warning for a restarted
// simulator on a Kafka that kept the detect stage's state. The simulator
// replays the hours it already sent (from sim.backfill ago), so the stage
// sees a device's whole history again, hours behind its series' latest
// samples: after a minute of them, going on into a later record, it takes
// them for the device's clock stepping back and scores the replay again,
// its link going down and its counter's spike alerted a second time. The
// README tells the reader to give a new run its own topics for this
// reason; the test fails if the replay is no longer scored (the warning
// would be stale) or is scored other than the first time.
func TestDetectReplayScoredAgain(t *testing.T) {
	const n = 1400
	recs := stepBackRecords(t, n, 0, true, [2]int{800, 830})
	d := newTestDetect(t, Config{})
	for pass := range 2 {
		dets := process(t, d, recs)
		if got := stepFired(dets, stepped, stateevents.MetricOperStatus, "link_down"); !slices.Equal(got, []int{800}) {
			t.Errorf("pass %d: link_down fired at ticks %v, want 800", pass+1, got)
		}
		spike := slices.DeleteFunc(stepFired(dets, stepped, schemas.MetricInOctets, ""), func(i int) bool { return i < 900 })
		if len(spike) != 1 || spike[0] < 1000 || spike[0] > 1006 {
			t.Errorf("pass %d: in-octets fired at ticks %v after 900, want once within 1000..1006", pass+1, spike)
		}
	}
}
