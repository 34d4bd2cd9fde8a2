// Package expiry is the event-time clock of the stages that drop the
// state of a key gone silent (detect.series_expiry, power.device_expiry):
// when a partition sweeps, and which keys are old enough to go. The
// sweeps fall on fixed multiples of an eighth of the expiry in event time,
// so an instance that restored a partition from its changelog sweeps where
// the one that wrote it would have, and the outputs and the state are the
// same for any cut. Each device's sample times are moved onto the
// partition's clock by its offset (Devices), so a device whose clock is
// set ahead or behind the others' moves no other device's expiry; the
// offsets are state, in the changelog. The stage keeps the keys, drops
// them and writes their tombstones.
package expiry

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
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

// Tolerance returns how far (ns) a device's sample time may be from its
// partition's clock, on first sight, or ahead of it, later, before the
// device's offset moves it onto the clock: half the expiry. A partition's
// samples may then come up to half the expiry apart (a sample interval
// above that would be a jump ahead at every tick, and the clock would not
// move); a device off by less moves the clock by less than the expiry,
// so it expires no live key of another device. When keys never expire
// (expiry not positive) it is math.MaxInt64: no offset is ever set.
func Tolerance(expiry time.Duration) int64 {
	if expiry <= 0 {
		return math.MaxInt64
	}
	return max(int64(expiry)/2, 1)
}

// Device is a device's place on its partition's clock: Offset moves its
// sample times onto the clock (placed = sample time + Offset), so a
// device whose clock is set ahead or behind the others' (a wrong time
// zone, no NTP, an RTC reset) neither expires their keys nor has its own
// expired. Its keys' latest sample times are compared with a sweep's
// cutoff as placed times; the times in the outputs stay the device's own.
type Device struct {
	Offset int64 // ns added to the device's sample times
	// fresh: not placed yet (Devices.Get made it); its first sample sets
	// Offset (rule 1 of Place).
	fresh bool
	// dirty: Offset changed, or the device was forgotten, since the last
	// TakeChanged.
	dirty bool
}

// Devices is the devices of a partition that hold keys, with their
// offsets onto the partition's clock. An offset is state: a device whose
// offset is not 0 has a changelog record (AppendOffset, ParseOffset),
// written when it changes and tombstoned when it returns to 0 or the
// device is forgotten; a device without one is at offset 0, as every
// device of a changelog written before offsets. The zero Devices is empty
// and ready to use; Tol must be set (Tolerance) before Place. It is not
// safe for concurrent use.
type Devices struct {
	Tol   int64 // the tolerance (Tolerance of the stage's expiry)
	m     map[string]*Device
	dirty []string
}

// Lookup returns the device called name, or nil.
func (ds *Devices) Lookup(name string) *Device { return ds.m[name] }

// Get returns the device called name, adding it (not placed yet: its
// first Place sets its offset) when it is not known. name is cloned when
// it is kept.
func (ds *Devices) Get(name string) *Device {
	if d := ds.m[name]; d != nil {
		return d
	}
	if ds.m == nil {
		ds.m = map[string]*Device{}
	}
	d := &Device{fresh: true}
	ds.m[strings.Clone(name)] = d
	return d
}

// Len returns the number of devices known.
func (ds *Devices) Len() int { return len(ds.m) }

// Names returns the devices known, in name order.
func (ds *Devices) Names() []string {
	names := make([]string, 0, len(ds.m))
	for name := range ds.m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Offset returns the offset of the device called name (0 for one not
// known).
func (ds *Devices) Offset(name string) int64 {
	if d := ds.m[name]; d != nil {
		return d.Offset
	}
	return 0
}

// Place moves ts, a sample time of d (a device of ds), onto the clock c,
// advances c to it and returns it (the placed time):
//
//  1. on d's first sample (a device new to the partition, or back after
//     it was forgotten), when c is set and ts is more than Tol from it,
//     ahead or behind, d's offset makes ts c's Newest: its first sample
//     is "now"; otherwise its offset is 0;
//  2. later, when ts placed is more than Tol ahead of Newest (its clock
//     set ahead mid-life), d's offset is lowered so ts is placed at
//     Newest, so it moves no other device's expiry. A device alone in
//     its partition that comes back from a gap longer than Tol is placed
//     at Newest too: its keys are kept across the gap, as when a clock
//     jumps ahead.
//
// A jump behind is not corrected: the device's keys expire, it is
// forgotten, and its next sample is a first one again.
func (ds *Devices) Place(c *Clock, d *Device, name string, ts int64) int64 {
	switch {
	case d.fresh:
		d.fresh = false
		if c.Newest != 0 && (ts-c.Newest > ds.Tol || c.Newest-ts > ds.Tol) {
			ds.setOffset(d, name, c.Newest-ts)
		}
	case c.Newest != 0 && ts+d.Offset-c.Newest > ds.Tol:
		ds.setOffset(d, name, c.Newest-ts)
	}
	placed := ts + d.Offset
	c.Saw(placed)
	return placed
}

// Pass advances the clock c with ts, a sample time of a device that is
// not known and holds no key (its sample makes none): as Place would
// place it as a first sample, without keeping the device, so a device
// whose clock is off moves the clock no more than one that holds keys.
func (ds *Devices) Pass(c *Clock, ts int64) {
	if c.Newest == 0 || ts-c.Newest <= ds.Tol && c.Newest-ts <= ds.Tol {
		c.Saw(ts)
	}
}

func (ds *Devices) setOffset(d *Device, name string, off int64) {
	if off == d.Offset {
		return
	}
	d.Offset = off
	if !d.dirty {
		d.dirty = true
		ds.dirty = append(ds.dirty, strings.Clone(name))
	}
}

// Forget drops the device called name, its last key gone: its record
// gets a tombstone (when it had one) and its next sample is a first one.
func (ds *Devices) Forget(name string) {
	d := ds.m[name]
	if d == nil {
		return
	}
	delete(ds.m, name)
	if d.Offset != 0 && !d.dirty {
		ds.dirty = append(ds.dirty, strings.Clone(name))
	}
}

// TakeChanged calls fn with every device whose record changed since the
// last call, in the order they changed: value is its record, or nil for
// a tombstone (its offset is 0, or it was forgotten).
func (ds *Devices) TakeChanged(fn func(name string, value []byte)) {
	for _, name := range ds.dirty {
		var value []byte
		if d := ds.m[name]; d != nil {
			d.dirty = false
			if d.Offset != 0 {
				value = AppendOffset(nil, d.Offset)
			}
		}
		fn(name, value)
	}
	clear(ds.dirty)
	ds.dirty = ds.dirty[:0]
}

// Restored marks the device called name known, one of its keys restored
// from the changelog (at offset 0 unless its record says otherwise), and
// returns it.
func (ds *Devices) Restored(name string) *Device {
	d := ds.Get(name)
	d.fresh = false
	return d
}

// RestoreOffset restores the record of the device called name (value
// nil: a tombstone, offset 0).
func (ds *Devices) RestoreOffset(name string, value []byte) error {
	if value == nil {
		if d := ds.m[name]; d != nil {
			d.Offset = 0
		}
		return nil
	}
	off, err := ParseOffset(value)
	if err != nil {
		return fmt.Errorf("clock offset of device %s: %w", name, err)
	}
	ds.Restored(name).Offset = off
	return nil
}

// offsetVersion is the version of a device's offset record.
const offsetVersion = 1

// AppendOffset appends the changelog record of a device's offset to dst:
// a version byte and the offset, a varint.
func AppendOffset(dst []byte, off int64) []byte {
	return binary.AppendVarint(append(dst, offsetVersion), off)
}

// ParseOffset decodes a record written by AppendOffset.
func ParseOffset(b []byte) (int64, error) {
	if len(b) == 0 || b[0] != offsetVersion {
		return 0, fmt.Errorf("record of %d bytes is not of version %d", len(b), offsetVersion)
	}
	off, n := binary.Varint(b[1:])
	if n <= 0 || 1+n != len(b) {
		return 0, fmt.Errorf("record of %d bytes does not decode", len(b))
	}
	return off, nil
}

// PlaceFast places ts, a sample time of d, on the clock c as Place would
// when it can do so cheaply, inlined on a stage's hot path: d was placed
// before and ts placed is not more than Tol ahead of c's Newest (nearly
// every sample); it reports whether it did, and the caller calls Place
// when it did not.
func (ds *Devices) PlaceFast(c *Clock, d *Device, ts int64) bool {
	placed := ts + d.Offset
	if d.fresh || placed-c.Newest > ds.Tol {
		return false
	}
	c.Saw(placed)
	return true
}
