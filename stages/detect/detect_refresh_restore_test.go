package detect

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectRefreshRestoredWithout: a slowly refreshed counter (every
// 30 s, read every 10 s) checkpointed after its first sample writes no
// refresh state (version 3: nothing learned yet); restored from it, it
// continues exactly as the stage that wrote the record: the same
// detections (the link's drop and return) and the same state. Before, the
// restored refresh measured its period from time 0 once it held: every
// rate was thousands of times too small: the drop fired and resolved,
// but expecting 0.36 MB/s of a 10 Gb/s link, and the state differed.
func TestDetectRefreshRestoredWithout(t *testing.T) {
	const n, from, to = 1080, 1020, 1050 // 3 h, then 5 minutes down
	recs := slowCounterRecords(t, n, 30, 0, from, to, 1e-4)
	whole := newTestDetect(t, Config{})
	want := summary(process(t, whole, recs))
	if len(want) != 2 {
		t.Fatalf("uninterrupted: %v, want the drop firing and resolved", want)
	}
	a := newTestDetect(t, Config{})
	process(t, a, recs[:1])
	b := newTestDetect(t, Config{})
	for k, v := range checkpoint(a) {
		if v[0] != stateVersion {
			t.Fatalf("record version %d after the first sample, want %d", v[0], stateVersion)
		}
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	dets := process(t, b, recs[1:])
	if got := summary(dets); !slices.Equal(got, want) {
		t.Errorf("restored after the first sample: %v, want %v", got, want)
	}
	for _, det := range dets {
		if e := det.Expected; e < 1e9 || e > 1.5e9 {
			t.Errorf("restored after the first sample: %s %s expects %.3g bytes/s, want the link's 1.25e9", det.State, det.Detector, e)
		}
	}
	got := b.SeriesStates()
	for k, v := range whole.SeriesStates() {
		if !slices.Equal(got[k], v) {
			t.Errorf("restored after the first sample: state of %v differs from the uninterrupted stage's", k)
		}
	}
}

// TestDetectRefreshHandoff: a slowly refreshed counter (20, 30 or 60 s,
// read every 10 s with jitter) restored from the changelog at any sample,
// a held one included, and scored on 2 workers, continues exactly as the
// serial stage that was never restored: the same detections after the
// cut (the link's drop and return) and the same state.
func TestDetectRefreshHandoff(t *testing.T) {
	const n, from, to = 720, 660, 690
	for _, p := range []float64{20, 30, 60} {
		recs := slowCounterRecords(t, n, p, 5, from, to, 0)
		whole := newTestDetect(t, Config{})
		dets := process(t, whole, recs)
		if len(dets) != 2 {
			t.Fatalf("refresh %v s, uninterrupted: %v, want the drop and its return", p, summary(dets))
		}
		for _, cut := range []int{200, 601, 602, 603, 604, 605, 606, 661, 662} {
			a := newTestDetect(t, Config{})
			process(t, a, recs[:cut])
			b := newTestDetect(t, Config{Workers: 2})
			b.minRows = 1 // every record spread over the workers
			for k, v := range checkpoint(a) {
				if err := b.Restore(0, []byte(k), v); err != nil {
					t.Fatal(err)
				}
			}
			var want []string
			for _, det := range dets {
				if det.EventTime.Sub(t0) >= time.Duration(cut)*10*time.Second {
					want = append(want, summary([]*schemas.Detection{det})...)
				}
			}
			if got := summary(process(t, b, recs[cut:])); !slices.Equal(got, want) {
				t.Errorf("refresh %v s, restored at %d: %v, want %v", p, cut, got, want)
			}
			if !maps.EqualFunc(whole.SeriesStates(), b.SeriesStates(), slices.Equal) {
				t.Errorf("refresh %v s, restored at %d: final state differs from the uninterrupted stage's", p, cut)
			}
		}
	}
}

// TestDetectRefreshIdleAfterUp: an interface that goes down and comes
// back up but carries no traffic any more fires level_shift on its byte
// counter once it is up, whether its device refreshes the counter on every
// read or every third (a 30 s refresh read every 10 s, which holds). A
// rate of 0 past the hold is no change over its poll interval, and only
// the interface being down within that interval explains it. Before, such
// a rate was checked against the interface's state since the counter's
// last change, which held the stretch down: every rate of 0 after it was
// skipped, and the idle link never fired.
func TestDetectRefreshIdleAfterUp(t *testing.T) {
	const n, down, up = 1100, 1000, 1003
	for _, every := range []int{1, 3} {
		rng := rand.New(rand.NewPCG(1, 2))
		var total, shown uint64 = 1 << 30, 0
		recs := sampleRecords(t, n, 1, func(i int) []schemas.Sample {
			if i < down {
				total += uint64(12.5e9 * (1 + 0.05*rng.NormFloat64()))
			}
			if i%every == 0 {
				shown = total // the device refreshes the counter
			}
			oper := "UP"
			if i >= down && i < up {
				oper = "DOWN"
			}
			return []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", shown),
				stateSample(stateevents.MetricOperStatus, "name=Ethernet1", oper)}
		})
		got := summary(process(t, newTestDetect(t, Config{}), recs))
		fired := false
		for _, s := range got {
			var at int
			if _, err := fmt.Sscanf(s, "firing level_shift in-octets@%d", &at); err == nil && at >= up && at <= up+2*every+1 {
				fired = true
			}
		}
		if !fired {
			t.Errorf("refreshed every %d samples: %v, want level_shift on in-octets firing within %d samples of %d", every, got, 2*every+1, up)
		}
	}
}
