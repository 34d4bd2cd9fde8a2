package binenc

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// TestRoundTrip: every value written reads back exactly, in order, and the
// bytes are the documented layout.
func TestRoundTrip(t *testing.T) {
	b := AppendHeader(nil, 7, 2)
	b = AppendU(b, 300)
	b = AppendI(b, -3)
	b = AppendF64(b, math.Pi)
	b = AppendBool(b, true)
	b = AppendF64s(b, []float64{1, math.Inf(-1)})
	b = append(b, 0xfe)
	want := []byte{7, 2, 0xac, 0x02, 0x05}
	if !bytes.HasPrefix(b, want) {
		t.Fatalf("layout % x, want prefix % x", b, want)
	}
	r := Reader{B: b}
	r.Header(7, 2)
	u, i, f, ok := r.U(), r.I(), r.F64(), r.Bool()
	fs := r.F64s(nil, 2)
	by := r.Byte()
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
	if u != 300 || i != -3 || f != math.Pi || !ok || len(fs) != 2 || fs[0] != 1 || !math.IsInf(fs[1], -1) || by != 0xfe {
		t.Fatalf("read %v %v %v %v %v %#x", u, i, f, ok, fs, by)
	}
}

// TestReaderErrors: a short record, another version or kind, a length over
// the bound and trailing bytes are errors; the first one sticks.
func TestReaderErrors(t *testing.T) {
	f := func(b []byte, read func(r *Reader), want string, wantErr error) {
		t.Helper()
		r := Reader{B: b}
		read(&r)
		r.U() // a later read keeps the first error
		err := r.Done()
		if err == nil || err.Error() != want || (wantErr != nil && !errors.Is(err, wantErr)) {
			t.Errorf("% x: error %v, want %q", b, err, want)
		}
	}
	f([]byte{7}, func(r *Reader) { r.Header(7, 1) }, "state record too short", ErrShort)
	f([]byte{7, 2}, func(r *Reader) { r.Header(7, 1) }, "unknown state version 2 (this build reads 1)", ErrVersion)
	f([]byte{6, 1}, func(r *Reader) { r.Header(7, 1) }, "state record of kind 6, want 7", nil)
	f([]byte{1, 2, 3}, func(r *Reader) { r.F64() }, "state record too short", ErrShort)
	f([]byte{}, func(r *Reader) { r.Byte() }, "state record too short", ErrShort)
	f(AppendF64s(nil, []float64{1, 2, 3}), func(r *Reader) { r.F64s(nil, 2) }, "state record holds 3 values, at most 2 fit", nil)
	f([]byte{1, 9, 9}, func(r *Reader) { r.Byte() }, "1 unexpected bytes after the state record", nil)
}
