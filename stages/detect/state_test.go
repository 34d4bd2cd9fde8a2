package detect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/detectors/density"
	"github.com/telekernel/telekernel/detectors/drift"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

var updateState = flag.Bool("update-state", false, "rewrite testdata/state_v3.golden from this build's encoder")

// stateGolden is a changelog written by the detect stage of 2026-12-02
// (commit 2fb0f83, the stage's own codec before it shared internal/binenc):
// every series of three simulated devices with a multivariate group,
// checkpointed during the default spike, so ensembles, counters, state
// events, onset masks and a firing group are all in it.
const stateGolden = "testdata/state_v3.golden"

// TestStateReadsOldRecords: every changelog record in stateGolden restores,
// and the restored state encodes to the very same bytes, so the stage reads
// what is on disk and in the changelog today and writes it unchanged.
func TestStateReadsOldRecords(t *testing.T) {
	if *updateState {
		writeStateGolden(t)
	}
	f, err := os.Open(stateGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := newTestDetect(t, multivarConfig())
	want := map[schemas.SeriesKey][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	kinds := map[byte]int{}
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("line %q is not KEY VALUE", sc.Text())
		}
		kb, err1 := hex.DecodeString(key)
		vb, err2 := hex.DecodeString(val)
		if err1 != nil || err2 != nil {
			t.Fatalf("line %q: %v %v", sc.Text(), err1, err2)
		}
		if err := d.Restore(0, kb, vb); err != nil {
			t.Fatalf("restore %q: %v", kb, err)
		}
		k, err := pipeline.ParseStateKey(kb)
		if err != nil {
			t.Fatal(err)
		}
		want[k] = vb
		if !strings.HasPrefix(k.Metric, multivarPrefix) && len(vb) > 2 {
			kinds[vb[2]]++ // the class byte: 0 ensembles, others state events
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(want) < 50 || kinds[0] == 0 || len(kinds) < 2 {
		t.Fatalf("golden file holds %d records, classes %v: want ensembles and state events", len(want), kinds)
	}
	got := d.SeriesStates()
	if len(got) != len(want) {
		t.Fatalf("restored %d series, the golden file holds %d", len(got), len(want))
	}
	for k, w := range want {
		if g := got[k]; len(g) > 0 && (g[0] == stateVersionQuiet || g[0] == stateVersionDrift) {
			// An error counter's record gains its quiet rule, an optic
			// power's its envelope rule (fresh: version 3 had none),
			// before the version 3 bytes.
			_, rest, err := cutRule(g[1:], "rule")
			if err != nil || (g[0] == stateVersionQuiet) != isQuietCounter(k.Metric) || (g[0] == stateVersionDrift) != drift.Watches(k.Metric) {
				t.Errorf("%s: a version %d record (%v) on a metric with no such rule", k, g[0], err)
			}
			got[k] = append([]byte{stateVersion}, rest...)
		}
		if g := got[k]; len(g) > len(w)+5 && bytes.HasPrefix(g, w) {
			// An ensemble's record gains the density member's, last (the
			// defaults had no density then): its length, then a record
			// that restores as one.
			d := g[len(w):]
			dn, _ := density.New(density.Config{})
			if int(binary.LittleEndian.Uint32(d)) == len(d)-4 && dn.UnmarshalBinary(d[4:]) == nil {
				got[k] = w
			}
		}
		if !bytes.Equal(got[k], w) {
			t.Errorf("%s: re-encoded state differs from the record read", k)
		}
	}
}

// writeStateGolden writes stateGolden from this build's encoder.
func writeStateGolden(t *testing.T) {
	recs, _, _ := simMessages(t, 3, 720, nil)
	d := newTestDetect(t, multivarConfig())
	process(t, d, recs[:len(recs)*42/100]) // inside the spike (00:45–00:55 of 2 h)
	var lines []string
	for k, v := range d.SeriesStates() {
		lines = append(lines, hex.EncodeToString(pipeline.StateKey(nil, k))+" "+hex.EncodeToString(v))
	}
	slices.Sort(lines)
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateGolden, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSlab: slices cut from a slab keep their bytes whatever is cut after
// them (a new slab, or an encoding larger than the room left), and cannot
// be appended to in place.
func TestSlab(t *testing.T) {
	var s slab
	var got [][]byte
	for i := range 300 {
		n := 1000 + 37*i%5000
		if i == 150 {
			n = slabBytes // larger than a slab
		}
		got = append(got, s.cut(func(b []byte) []byte { return append(b, bytes.Repeat([]byte{byte(i)}, n)...) }))
	}
	for i, b := range got {
		if cap(b) != len(b) || len(b) == 0 || !bytes.Equal(b, bytes.Repeat([]byte{byte(i)}, len(b))) {
			t.Fatalf("slice %d: len %d cap %d, bytes changed", i, len(b), cap(b))
		}
	}
}
