package expiry

import (
	"encoding/binary"
	"testing"
	"time"
)

// TestBehind: samples behind count toward a step back from the first of
// them; one earlier moves the count's start; a minute of them with the
// device's keys no newer confirms the step (each sample its own input
// record here: TestBehindLaterRecord has several a record), and where a
// key had a newer sample meanwhile (a second source late while the device
// reports on) the count starts again from the sample at hand. newest is
// read when a count starts and when it may end only. The count is in the
// device's record (version 2), which a restore reads back; a device that
// counts none writes version 1, as before the count. Before, a device had
// no such count: every sample older than its key's latest was dropped,
// for as long as its clock was behind.
func TestBehind(t *testing.T) {
	const s, h = int64(time.Second), int64(time.Hour)
	ds := Devices{Tol: Tolerance(24 * time.Hour)}
	d := ds.Get("r1")
	latest, reads := 100*h, 0
	newest := func() int64 { reads++; return latest }
	done := func(string) int64 { return latest } // each sample ends its record
	for i, c := range []struct {
		ts, first int64
		stepped   bool
		reads     int
	}{
		{97 * h, 97 * h, false, 1},           // the first behind: a count starts
		{97*h + 30*s, 97 * h, false, 1},      // within the minute
		{97*h - 10*s, 97*h - 10*s, false, 1}, // an earlier one moves the start
		{97*h + 50*s, 97*h - 10*s, true, 2},  // a minute of them, the keys no newer: stepped
	} {
		first, stepped := ds.Behind(d, "r1", c.ts, newest)
		ds.RecordDone(done)
		if first != c.first || stepped != c.stepped || reads != c.reads {
			t.Fatalf("sample %d at %d: first %d, stepped %v, newest read %d times; want %d, %v, %d", i, c.ts, first, stepped, reads, c.first, c.stepped, c.reads)
		}
	}
	records := map[string][]byte{}
	take := func() {
		clear(records)
		ds.TakeChanged(func(name string, value []byte) { records[name] = value })
	}
	take()
	if r := records["r1"]; len(r) == 0 || r[0] != stepVersion {
		t.Fatalf("record while counting: %v, want version %d", r, stepVersion)
	}
	var r Devices
	if err := r.RestoreOffset("r1", records["r1"]); err != nil {
		t.Fatal(err)
	}
	if rd := r.Lookup("r1"); rd.stepFrom != d.stepFrom || rd.stepFirst != d.stepFirst {
		t.Fatalf("restored count %d, %d; want %d, %d", rd.stepFrom, rd.stepFirst, d.stepFrom, d.stepFirst)
	}

	// A key newer than when the count started: it starts again, here.
	latest += 10 * s
	if first, stepped := ds.Behind(d, "r1", 97*h+60*s, newest); stepped || first != 97*h+60*s || d.stepFrom != latest {
		t.Fatalf("after a newer sample: first %d, stepped %v, from %d; want a new count from %d at %d", first, stepped, d.stepFrom, 97*h+60*s, latest)
	}

	// Stepped ends the count; a device at offset 0 again has no record.
	var c Clock
	c.Saw(latest)
	ds.Stepped(&c, d, "r1", 97*h+2*60*s, false)
	take()
	if v, ok := records["r1"]; !ok || v != nil || d.stepFrom != 0 || d.Offset != 0 {
		t.Fatalf("after the step: record %v (present %v), count from %d, offset %d; want a tombstone, none, 0", v, ok, d.stepFrom, d.Offset)
	}

	// A record of version 1, written before the count, still restores.
	v1 := binary.AppendVarint(binary.AppendVarint(binary.AppendVarint([]byte{offsetVersion}, -5*h), -5*h), 0)
	if err := r.RestoreOffset("old", v1); err != nil {
		t.Fatal(err)
	}
	if od := r.Lookup("old"); od.Offset != -5*h || od.stepFrom != 0 {
		t.Fatalf("version 1 record: offset %d, count from %d; want %d, none", od.Offset, od.stepFrom, -5*h)
	}
	if got := r.Lookup("old").appendRecord(nil); string(got) != string(v1) {
		t.Fatalf("a device that counts nothing writes %v, want version 1 as before: %v", got, v1)
	}
	for _, bad := range [][]byte{{stepVersion, 2, 2, 0}, {stepVersion, 2, 2, 0, 0, 0}} {
		if err := r.RestoreOffset("x", bad); err == nil {
			t.Errorf("record %v restored", bad)
		}
	}
}

// TestStepped: after a step back to `to`, the device is placed by the
// offset its samples of that time had (its offset before a jump ahead
// when to is before the jump); at the partition's Newest when that is
// more than the tolerance behind it (its keys would expire for the step)
// or when its keys taken back held Newest alone; the offset before a
// jump is forgotten either way. Before, a step back was not corrected:
// the device's keys were placed behind by the step, and one past the
// tolerance expired at the next sweep.
func TestStepped(t *testing.T) {
	const h = int64(time.Hour)
	tol := Tolerance(24 * time.Hour)
	for _, c := range []struct {
		name                string
		offset, prev, since int64
		to                  int64
		held                bool
		want                int64
	}{
		{"on time", 0, 0, 0, 97 * h, false, 0},
		{"held the clock", 0, 0, 0, 97 * h, true, 3 * h},
		{"far behind", 0, 0, 0, 100*h - tol - 1, false, tol + 1},
		{"before a jump ahead", -8760 * h, 0, 8860 * h, 100 * h, false, 0},
		{"after a jump ahead", -8760 * h, 0, 8860 * h, 8870 * h, false, -8760 * h},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds := Devices{Tol: tol}
			d := ds.Get("r1")
			d.fresh = false
			d.Offset, d.prev, d.since = c.offset, c.prev, c.since
			var clock Clock
			clock.Saw(100 * h)
			ds.Stepped(&clock, d, "r1", c.to, c.held)
			if d.Offset != c.want || d.prev != c.want || d.since != 0 {
				t.Errorf("offset %d, before a jump %d since %d; want %d, %d since 0", d.Offset, d.prev, d.since, c.want, c.want)
			}
		})
	}
}
