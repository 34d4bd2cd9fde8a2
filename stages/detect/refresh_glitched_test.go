package detect

import (
	"maps"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectRefreshGlitchedRecord: the checkpoint right after an
// in-octets counter's read of 2^32-1 is told a glitch (the next sample
// back at the count) is version 8, which the stage restores into one that
// goes on exactly as the one that wrote it, and the checkpoint after the
// next sample is version 6 again. Before, the record was version 6 with a
// flag bit of the refresh state that the builds before it refuse as a
// decode error, which stopped their restore (a rollback) where other
// records they do not read start their series cold.
func TestDetectRefreshGlitchedRecord(t *testing.T) {
	const n, bad = 400, 300
	recs := sampleRecords(t, n, 1, func(i int) []schemas.Sample {
		v := uint64(1e9 + i*1_000_000 + i%7*1000) // below 2^32: maybe a Counter32
		if i == bad {
			v = 1<<32 - 1
		}
		return []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", v)}
	})
	a := newTestDetect(t, Config{})
	da := summary(process(t, a, recs[:bad+2]))
	ckpt := checkpoint(a)
	if len(ckpt) != 1 {
		t.Fatalf("%d records after the glitch was told, want the counter's", len(ckpt))
	}
	b := newTestDetect(t, Config{})
	for k, v := range ckpt {
		if v[0] != stateVersionRefreshGlitched {
			t.Errorf("record version %d right after the glitch was told, want %d", v[0], stateVersionRefreshGlitched)
		}
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	da = append(da, summary(process(t, a, recs[bad+2:bad+3]))...)
	db := summary(process(t, b, recs[bad+2:bad+3]))
	for _, v := range checkpoint(a) {
		if v[0] != stateVersionRefresh {
			t.Errorf("record version %d a sample later, want %d", v[0], stateVersionRefresh)
		}
	}
	checkpoint(b)
	da = append(da, summary(process(t, a, recs[bad+3:]))...)
	db = append(db, summary(process(t, b, recs[bad+3:]))...)
	if len(db) > len(da) || !slices.Equal(db, da[len(da)-len(db):]) {
		t.Errorf("restored after the glitch: %v, want the end of %v", db, da)
	}
	if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Error("restored after the glitch: final state differs from the stage's that wrote it")
	}
}
