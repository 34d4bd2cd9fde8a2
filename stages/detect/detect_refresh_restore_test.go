package detect

import (
	"slices"
	"testing"
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
