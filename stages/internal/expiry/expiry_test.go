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
