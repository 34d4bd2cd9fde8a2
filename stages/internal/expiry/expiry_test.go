package expiry

import (
	"testing"
	"time"
)

// TestClock: the first boundary of a new partition sweeps nothing; later
// ones sweep once each, with the cutoff an expiry before the boundary; a
// clock restored from its keys sweeps where the one that wrote them
// would have; a negative expiry never sweeps.
func TestClock(t *testing.T) {
	const h = int64(time.Hour)
	every := Every(time.Hour)
	if every != h/8 {
		t.Fatalf("Every(1h) = %d, want %d", every, h/8)
	}
	var a Clock
	type step struct {
		ts     int64
		cutoff int64
		ok     bool
	}
	for i, s := range []step{
		{10 * h, 0, false},                             // the first boundary: nothing is old yet
		{10*h + every - 1, 0, false},                   // no new boundary
		{10*h + every, 10*h + every - h, true},         // the next boundary
		{10*h + every + 5, 0, false},                   // swept already
		{10*h + 5*every + 1, 10*h + 5*every - h, true}, // boundaries skipped: one sweep at the last
	} {
		a.Saw(s.ts)
		if cutoff, ok := a.Due(time.Hour); cutoff != s.cutoff || ok != s.ok {
			t.Fatalf("step %d (ts %d): Due = %d, %v; want %d, %v", i, s.ts, cutoff, ok, s.cutoff, s.ok)
		}
	}
	var b Clock
	b.Restored(10*h+5*every+1, time.Hour)
	b.Restored(3*h, time.Hour) // an older key restored after it
	if b != a {
		t.Fatalf("restored clock %+v, want the writer's %+v", b, a)
	}
	b.Saw(10*h + 6*every)
	if cutoff, ok := b.Due(time.Hour); !ok || cutoff != 10*h+6*every-h {
		t.Fatalf("restored clock: Due = %d, %v; want a sweep", cutoff, ok)
	}
	var c Clock
	for _, ts := range []int64{h, 100 * h} {
		c.Saw(ts)
		if _, ok := c.Due(-1); ok {
			t.Fatal("a negative expiry swept")
		}
	}
	c.Restored(200*h, -1)
	if c.SweptTo != 0 {
		t.Fatalf("a negative expiry's restored clock swept to %d", c.SweptTo)
	}
}

// TestCheck: positive and under a minute is an error naming the key; 0
// (the default) and negative (never) are not.
func TestCheck(t *testing.T) {
	if err := Check("device_expiry", 30*time.Second); err == nil || err.Error() != "device_expiry: 30s is too short (at least 1m; a negative value: never)" {
		t.Errorf("30s: %v", err)
	}
	for _, d := range []time.Duration{0, -1, time.Minute, 24 * time.Hour} {
		if err := Check("device_expiry", d); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
}

// TestPlace: rule 1 places a device first seen more than the tolerance
// from the partition's clock at its Newest, and one within it (or the
// first of the partition) at offset 0; rule 2 lowers the offset of a
// device whose sample jumps more than the tolerance ahead, placing it at
// Newest; a jump behind is not corrected; a forgotten device is placed
// anew. Each offset change (and a forgotten device) is one record.
func TestPlace(t *testing.T) {
	const h, tol = int64(time.Hour), int64(time.Hour) / 2
	ds := Devices{Tol: Tolerance(time.Hour)}
	if ds.Tol != tol {
		t.Fatalf("Tolerance(1h) = %d, want %d", ds.Tol, tol)
	}
	// Keys that never expire: no offset, whatever the clocks.
	never := Devices{Tol: Tolerance(-1)}
	var nc Clock
	for _, ts := range []int64{100 * h, 200 * h, 0, 300 * h} {
		if d := never.Get("x"); never.Place(&nc, d, "x", ts) != ts || d.Offset != 0 {
			t.Fatalf("expiry -1, sample at %d: offset %d, want none", ts, d.Offset)
		}
	}
	var c Clock
	const year = 365 * 24 * h
	type step struct {
		device string
		ts     int64
		placed int64
		offset int64
	}
	for i, s := range []step{
		{"a", 100 * h, 100 * h, 0},                              // the partition's first: offset 0
		{"b", 100*h + tol, 100*h + tol, 0},                      // within the tolerance
		{"ahead", 100*h + 48*h, 100*h + tol, -48*h + tol},       // rule 1, ahead: now
		{"behind", 100*h - 20*year, 100*h + tol, 20*year + tol}, // rule 1, behind: now
		{"a", 100*h + 2*tol, 100*h + 2*tol, 0},                  // on time
		{"b", 100*h + 3*tol, 100*h + 3*tol, 0},                  // ahead by the tolerance: kept
		{"a", 100*h + 6*tol, 100*h + 3*tol, -3 * tol},           // rule 2: a jump ahead, placed at Newest
		{"a", 100*h + 7*tol, 100*h + 4*tol, -3 * tol},           // and on from there
		{"b", 100*h - 10*h, 100*h - 10*h, 0},                    // behind: not corrected
		{"behind", 100*h - 20*year + tol, 100*h + 2*tol, 20*year + tol},
	} {
		d := ds.Get(s.device)
		if got := ds.Place(&c, d, s.device, s.ts); got != s.placed || d.Offset != s.offset {
			t.Fatalf("step %d (%s at %d): placed %d offset %d; want %d, %d", i, s.device, s.ts, got, d.Offset, s.placed, s.offset)
		}
	}
	if c.Newest != 100*h+4*tol {
		t.Fatalf("Newest %d, want %d", c.Newest, 100*h+4*tol)
	}
	records := map[string][]byte{}
	take := func() {
		ds.TakeChanged(func(name string, value []byte) {
			if value == nil {
				delete(records, name)
				return
			}
			records[name] = value
		})
	}
	take()
	if len(records) != 3 {
		t.Fatalf("records %v, want one per device off the clock (ahead, behind, a)", records)
	}
	// A restore from the records (and the keys) knows what the writer knew.
	var r Devices
	for name, v := range records {
		if err := r.RestoreOffset(name, v); err != nil {
			t.Fatal(err)
		}
	}
	r.Restored("b")
	for _, name := range []string{"a", "b", "ahead", "behind"} {
		if got, want := r.Offset(name), ds.Offset(name); got != want {
			t.Errorf("restored %s: offset %d, want %d", name, got, want)
		}
	}
	ds.Forget("ahead")
	ds.Forget("b") // offset 0: no record, no tombstone
	take()
	if _, ok := records["ahead"]; ok || len(records) != 2 {
		t.Fatalf("records after forgetting ahead and b: %v", records)
	}
	// Forgotten, ahead is placed anew: its first sample is now.
	d := ds.Get("ahead")
	if got := ds.Place(&c, d, "ahead", 100*h+60*h); got != c.Newest || d.Offset != c.Newest-(100*h+60*h) {
		t.Fatalf("ahead again: placed %d offset %d, Newest %d", got, d.Offset, c.Newest)
	}
	if err := r.RestoreOffset("x", []byte{9, 1}); err == nil || err.Error() != "clock offset of device x: record of 2 bytes is not of version 1, 2 or 3" {
		t.Errorf("a record of another version: %v", err)
	}
	if err := r.RestoreOffset("x", []byte{1, 2, 2}); err == nil || err.Error() != "clock offset of device x: record of 3 bytes does not decode" {
		t.Errorf("a short record: %v", err)
	}
	if err := r.RestoreOffset("x", []byte{1, 2, 2, 2, 2}); err == nil || err.Error() != "clock offset of device x: record of 5 bytes does not decode" {
		t.Errorf("a long record: %v", err)
	}
	if err := r.RestoreOffset("x", []byte{1, 0x80}); err == nil || err.Error() != "clock offset of device x: record of 2 bytes does not decode" {
		t.Errorf("a bad record: %v", err)
	}
}

// TestJumpKeepsEarlierKeys: after a device's clock jumps ahead (rule 2),
// a key last sampled before the jump keeps its place on the clock (At
// reads it by the offset that held then), one sampled since is placed by
// the new offset, and a restore from the device's record places both the
// same. Before, the jump moved every key of the device by its size: a
// slower subscription's series looked two days old and expired.
func TestJumpKeepsEarlierKeys(t *testing.T) {
	const h = int64(time.Hour)
	ds := Devices{Tol: Tolerance(time.Hour)}
	var c Clock
	other, dev := ds.Get("other"), ds.Get("dev")
	ds.Place(&c, other, "other", 100*h)
	ds.Place(&c, dev, "dev", 100*h)
	before := 100 * h           // a slow key's last sample, before the jump
	jump := 100*h + 48*h + h/60 // the device's clock set two days ahead
	ds.Place(&c, other, "other", 100*h+h/60)
	if got := ds.Place(&c, dev, "dev", jump); got != c.Newest || dev.Offset != -48*h {
		t.Fatalf("jump: placed %d, offset %d; want Newest %d, %d", got, dev.Offset, c.Newest, -48*h)
	}
	check := func(what string, d *Device) {
		t.Helper()
		if got := d.At(before); got != before {
			t.Errorf("%s: the key sampled before the jump at %d, want %d (its place then)", what, got, before)
		}
		if got := d.At(jump); got != jump-48*h {
			t.Errorf("%s: the key sampled at the jump at %d, want %d", what, got, jump-48*h)
		}
	}
	check("live", dev)
	var r Devices
	ds.TakeChanged(func(name string, value []byte) {
		if err := r.RestoreOffset(name, value); err != nil {
			t.Fatal(err)
		}
	})
	check("restored", r.Lookup("dev"))
}
