// Package expiry is the event-time clock of the stages that drop the
// state of a key gone silent (detect.series_expiry, power.device_expiry):
// when a partition sweeps, and which keys are old enough to go. The
// sweeps fall on fixed multiples of an eighth of the expiry in event time,
// so an instance that restored a partition from its changelog sweeps where
// the one that wrote it would have, and the outputs and the state are the
// same for any cut. The stage keeps the keys, drops them and writes their
// tombstones.
package expiry

import (
	"fmt"
	"time"
)

// SweepsPerExpiry is how often, in event time, a partition looks for
// keys to expire: every expiry/SweepsPerExpiry, so a key goes at most an
// eighth of the expiry late.
const SweepsPerExpiry = 8

// Min is the shortest expiry a stage accepts: a sample interval or two
// would drop the state of keys that merely report slowly.
const Min = time.Minute

// Check returns the one-line error of an expiry setting key (its path in
// the stage's config section) that is positive and shorter than Min; a
// negative value is valid (never), as is 0 (the caller's default).
func Check(key string, d time.Duration) error {
	if d > 0 && d < Min {
		return fmt.Errorf("%s: %v is too short (at least 1m; a negative value: never)", key, d)
	}
	return nil
}

// Every returns the event time between two sweeps of an expiry (0: keys
// never expire).
func Every(expiry time.Duration) int64 {
	if expiry <= 0 {
		return 0
	}
	return max(int64(expiry)/SweepsPerExpiry, 1)
}

// Clock is a partition's sweep clock: the newest sample time of its keys
// and the sweep boundary reached. Neither is in the changelog: a restored
// partition reads both back from its keys (Restored; the key that holds
// Newest cannot have expired), as the instance that wrote the state had
// them after its last record. The zero Clock is a new partition's. It is
// not safe for concurrent use.
type Clock struct {
	Newest  int64 // the latest sample time (Unix ns) of the partition's keys
	SweptTo int64 // the sweep boundary reached (a multiple of Every; 0 on a new partition, whose first record sets it without a sweep)
}

// Saw advances the clock to ts, a key's latest sample time.
func (c *Clock) Saw(ts int64) { c.Newest = max(c.Newest, ts) }

// Restored advances the clock to ts, the latest sample time of a key
// restored from the changelog, and sets the sweep boundary reached to the
// one Newest is past, as it was after the last record.
func (c *Clock) Restored(ts int64, expiry time.Duration) {
	c.Saw(ts)
	if every := Every(expiry); every > 0 {
		c.SweptTo = c.Newest / every * every
	}
}

// Due moves the clock to the sweep boundary Newest has reached, once per
// boundary, and returns the cutoff of that sweep: the keys whose latest
// sample is before it (and not 0, unknown) expire. ok is false when no
// sweep is due: expiry is not positive, no new boundary was reached, or
// this is a new partition's first boundary (nothing is old yet).
func (c *Clock) Due(expiry time.Duration) (cutoff int64, ok bool) {
	every := Every(expiry)
	if every == 0 {
		return 0, false
	}
	to := c.Newest / every * every
	if to <= c.SweptTo {
		return 0, false
	}
	first := c.SweptTo == 0
	c.SweptTo = to
	if first {
		return 0, false
	}
	return to - int64(expiry), true
}
