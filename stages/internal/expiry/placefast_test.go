package expiry

import (
	"testing"
	"time"
)

// TestPlaceFast: PlaceFast, with Place where it declines (a device's
// first sample, a jump ahead, a clock not set), places every sample as
// Place alone does: the same placed times, offsets, clock and records.
func TestPlaceFast(t *testing.T) {
	const h = int64(time.Hour)
	tol := Tolerance(time.Hour)
	var fast, slow Devices
	fast.Tol, slow.Tol = tol, tol
	var cf, cs Clock
	const year = 365 * 24 * h
	for i, s := range []struct {
		device string
		ts     int64
		fast   bool // PlaceFast places it
	}{
		{"a", 100 * h, false},                 // the partition's first
		{"a", 100*h + tol, true},              // on, within the tolerance
		{"b", 100*h - 20*year, false},         // first sight, behind
		{"b", 100*h - 20*year + tol, true},    // on from its offset
		{"a", 100*h + 4*tol, false},           // a jump ahead
		{"a", 100*h + 5*tol, true},            // on from there
		{"a", 100*h - 10*h, true},             // behind: not corrected
		{"c", 100*h + 2*tol, false},           // first sight, within the tolerance
		{"c", 100*h + 2*tol + tol/2, true},    // on time
		{"b", 100*h - 20*year + 9*tol, false}, // a jump ahead by more than the tolerance
	} {
		df, ds := fast.Get(s.device), slow.Get(s.device)
		placed, ok := s.ts+df.Offset, fast.PlaceFast(&cf, df, s.ts)
		if !ok {
			placed = fast.Place(&cf, df, s.device, s.ts)
		}
		want := slow.Place(&cs, ds, s.device, s.ts)
		if ok != s.fast || placed != want || df.Offset != ds.Offset || cf != cs {
			t.Fatalf("step %d (%s at %d): fast %v placed %d offset %d clock %+v; want fast %v, %d, %d, %+v", i, s.device, s.ts, ok, placed, df.Offset, cf, s.fast, want, ds.Offset, cs)
		}
	}
	records := func(ds *Devices) map[string]string {
		m := map[string]string{}
		ds.TakeChanged(func(name string, value []byte) { m[name] = string(value) })
		return m
	}
	if rf, rs := records(&fast), records(&slow); len(rf) != len(rs) || len(rf) != 2 || rf["a"] != rs["a"] || rf["b"] != rs["b"] {
		t.Errorf("records %q, want %q", rf, rs)
	}
}
