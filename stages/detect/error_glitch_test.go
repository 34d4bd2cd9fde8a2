package detect

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// errorGlitchRecords returns n ticks of an in-errors counter at 10^6
// (months of a few errors a day) that moves on one interval in ten, reads
// bad at tick glitch (-1: none) and counts 50 errors a second over ticks
// [from, to).
func errorGlitchRecords(t *testing.T, n, glitch int, bad uint64, from, to int) []*kgo.Record {
	rng := rand.New(rand.NewPCG(3, 4))
	total := uint64(1e6)
	return sampleRecords(t, n, 1, func(i int) []schemas.Sample {
		if rng.Float64() < 0.1 {
			total++
		}
		if i >= from && i < to {
			total += 500
		}
		v := total
		if i == glitch {
			v = bad
		}
		return []schemas.Sample{counterSample(schemas.MetricInErrors, "name=Ethernet1", v)}
	})
}

// TestDetectErrorCounterGlitch: an error counter (its quiet rule reads
// every interval, so it takes no rate.Refresh) that reads 0 or 2^64-1
// once, and its count again on the next sample, fires nothing, and a
// burst of errors 100 ticks later fires the ensemble's alert and the
// quiet rule's as without the bad read; the checkpoint right after the
// bad read (a decrease pending: version 7) restores into a stage that
// goes on exactly as the one that wrote it. Before, the read was a reset
// and the next rate the whole counter over one interval (10^5 errors a
// second): the ensemble fired nothing on the burst.
func TestDetectErrorCounterGlitch(t *testing.T) {
	const n, glitch, from, to = 900, 700, 800, 830
	want := summary(process(t, newTestDetect(t, Config{}), errorGlitchRecords(t, n, -1, 0, from, to)))
	if len(want) != 4 {
		t.Fatalf("without a bad read: %v, want the burst's alert and error_run firing and resolved", want)
	}
	for _, bad := range []uint64{0, math.MaxUint64} {
		recs := errorGlitchRecords(t, n, glitch, bad, from, to)
		a := newTestDetect(t, Config{})
		da := summary(process(t, a, recs[:glitch+1]))
		ckpt := checkpoint(a)
		b := newTestDetect(t, Config{})
		for k, v := range ckpt {
			if v[0] != stateVersionGlitch {
				t.Errorf("read of %d: record version %d right after it, want %d", bad, v[0], stateVersionGlitch)
			}
			if err := b.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		da = append(da, summary(process(t, a, recs[glitch+1:]))...)
		db := summary(process(t, b, recs[glitch+1:]))
		if !slices.Equal(da, want) {
			t.Errorf("a read of %d at %d: %v, want %v", bad, glitch, da, want)
		}
		if !slices.Equal(db, want) { // want's are all after the bad read
			t.Errorf("a read of %d, restored right after it: %v, want %v", bad, db, want)
		}
		if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
			t.Errorf("a read of %d, restored right after it: final state differs from the stage's that wrote it", bad)
		}
	}
}
