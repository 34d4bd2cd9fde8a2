package rate

import (
	"bytes"
	"testing"
)

// FuzzRefreshDecode: a Refresh record either is refused or restores a
// state that takes samples without panicking and writes a record that
// restores to the same state.
func FuzzRefreshDecode(f *testing.F) {
	var r Refresh
	var c Counter
	feed(&r, &c, slow(40, 3, 100))
	b, _ := r.AppendBinary(nil)
	f.Add(b, int64(400e9), uint64(c.Last))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0}, int64(1), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, ts int64, v uint64) {
		var r Refresh
		if _, err := r.Decode(b); err != nil {
			return
		}
		c := Counter{LastTS: r.seen, Last: v / 2}
		for k := range int64(20) {
			r.Update(&c, ts+k*10e9, v+uint64(k/3))
		}
		out, _ := r.AppendBinary(nil)
		var back Refresh
		if rest, err := back.Decode(out); err != nil || len(rest) != 0 {
			t.Fatalf("%+v re-encoded as %x: %v, %d bytes left", r, out, err, len(rest))
		}
		again, _ := back.AppendBinary(nil)
		if !bytes.Equal(again, out) {
			t.Fatalf("round trip: %x, then %x", out, again)
		}
	})
}
