// Package expiry is the event-time clock of the stages that drop the
// state of a key gone silent (detect.series_expiry, power.device_expiry):
// when a partition sweeps, and which keys are old enough to go. The
// sweeps fall on fixed multiples of an eighth of the expiry in event time,
// so an instance that restored a partition from its changelog sweeps where
// the one that wrote it would have, and the outputs and the state are the
// same for any cut. Each device's sample times are moved onto the
// partition's clock by its offset (Devices), so a device whose clock is
// set ahead or behind the others' moves no other device's expiry; the
// offsets are state, in the changelog. A device whose clock steps back
// (Devices.Behind, Devices.Stepped) is placed on from where it was. The
// stage keeps the keys, drops them and writes their tombstones.
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
// cutoff as placed times (At); the times in the outputs stay the device's
// own.
type Device struct {
	Offset int64 // ns added to the device's sample times
	// prev is the offset before the last jump ahead (rule 2 of Place),
	// since the sample time from which Offset holds: a key last sampled
	// before it (a slower subscription's, not sampled since the jump)
	// keeps its place on the clock by prev, so the jump does not expire
	// it. Without a jump, prev is Offset.
	prev, since int64
	// stepFrom and stepFirst count the device's samples behind
	// (Devices.Behind) toward its clock stepping back: the latest sample
	// time of its keys when the input record the first of them came in
	// was done (Devices.RecordDone), and that one's time (the earliest
	// since); 0 and 0 while none is counted.
	stepFrom, stepFirst int64
	// stepNew: the count began (or began again) in the input record at
	// hand, which cannot confirm it. Not in the record: a checkpoint
	// comes between records, after RecordDone cleared it, so a count
	// restored began in a record before any the stage takes next.
	stepNew bool
	// fresh: not placed yet (Devices.Get made it); its first sample sets
	// Offset (rule 1 of Place).
	fresh bool
	// unplaced: fresh, and its record says so (Devices.KeepUnplaced), so
	// that a partition restored from it places the device by its first
	// sample placed, as the one that wrote it does.
	unplaced bool
	// dirty: Offset changed, or the device was forgotten, since the last
	// TakeChanged.
	dirty bool
}

// Devices is the devices of a partition that hold keys, with their
// offsets onto the partition's clock. An offset is state: a device whose
// offset (or offset before a jump) is not 0, or whose samples behind are
// being counted toward a step back, or that its stage keeps not placed
// yet (KeepUnplaced), has a changelog record (TakeChanged,
// RestoreOffset), written when it changes and tombstoned when it returns
// to 0 or the device is forgotten; a device without one is at offset 0,
// as every device of a changelog written before offsets. The zero Devices is empty
// and ready to use; Tol must be set (Tolerance) before Place. It is not
// safe for concurrent use.
type Devices struct {
	Tol   int64 // the tolerance (Tolerance of the stage's expiry)
	m     map[string]*Device
	dirty []string
	begun []string // the devices whose count began in the record at hand (stepNew)
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

// At returns own, the latest sample time of a key of d, placed on the
// partition's clock: by the offset that held when it was sampled (see
// prev), so a key not sampled since its device's clock jumped ahead keeps
// its place.
func (d *Device) At(own int64) int64 {
	if own < d.since {
		return own + d.prev
	}
	return own + d.Offset
}

// At is Device.At of the device called name (own unmoved for one not
// known).
func (ds *Devices) At(name string, own int64) int64 {
	if d := ds.m[name]; d != nil {
		return d.At(own)
	}
	return own
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
// A jump behind is not corrected here: a key's sample older than its
// latest is its stage's to drop, or to count toward the device's clock
// stepping back (Behind), after which Stepped places the device on.
func (ds *Devices) Place(c *Clock, d *Device, name string, ts int64) int64 {
	switch {
	case d.fresh:
		d.fresh = false
		if d.unplaced { // its record goes: a tombstone, or the offset's
			d.unplaced = false
			ds.changed(d, name)
		}
		if c.Newest != 0 && (ts-c.Newest > ds.Tol || c.Newest-ts > ds.Tol) {
			ds.setOffset(d, name, c.Newest-ts, c.Newest-ts, 0)
		}
	case c.Newest != 0 && ts+d.Offset-c.Newest > ds.Tol:
		ds.setOffset(d, name, c.Newest-ts, d.Offset, ts)
	}
	placed := ts + d.Offset
	c.Saw(placed)
	return placed
}

// KeepUnplaced gives d (called name), which Get made and Place has not
// placed, a record saying it is not placed yet: a stage that takes a new
// device's first samples without placing them (stamped far ahead, they
// date no key) calls it, so that a partition restored from the changelog
// places the device by its first sample placed (rule 1 of Place), as the
// one that wrote it does; restored from its keys alone, it would be
// placed at offset 0. The record goes when Place places the device, or
// it is forgotten.
func (ds *Devices) KeepUnplaced(d *Device, name string) {
	if d.fresh && !d.unplaced {
		d.unplaced = true
		ds.changed(d, name)
	}
}

// Placed reports whether d was placed on its partition's clock (Place),
// or restored as placed: false for a device Get made, or restored from a
// record KeepUnplaced wrote, before Place places it.
func (d *Device) Placed() bool { return !d.fresh }

// Pass advances the clock c with ts, a sample time of a device that is
// not known and holds no key (its sample makes none): as Place would
// place it as a first sample, without keeping the device, so a device
// whose clock is off moves the clock no more than one that holds keys.
func (ds *Devices) Pass(c *Clock, ts int64) {
	if c.Newest == 0 || ts-c.Newest <= ds.Tol && c.Newest-ts <= ds.Tol {
		c.Saw(ts)
	}
}

// setOffset sets d's offset to off, prev and since to theirs (see
// Device), and marks its record changed.
func (ds *Devices) setOffset(d *Device, name string, off, prev, since int64) {
	if off == d.Offset && prev == d.prev && since == d.since {
		return
	}
	d.Offset, d.prev, d.since = off, prev, since
	ds.changed(d, name)
}

// changed marks d's record changed.
func (ds *Devices) changed(d *Device, name string) {
	if !d.dirty {
		d.dirty = true
		ds.dirty = append(ds.dirty, strings.Clone(name))
	}
}

// StepBack is how far a device's sample must be behind the latest sample
// of its key to count toward the device's clock stepping back (Behind):
// well past what a second collector sends during a target move (its
// group's session_timeout and 10 s behind, about 20 s with the default)
// and the reordering of a few seconds, which the stages drop, as a key's
// samples older than its latest.
const StepBack = 10 * time.Minute

// StepConfirm is how much of the device's own time its samples behind
// must span, and continue into an input record after the one the count
// began in, with none of its keys sampled newer meanwhile, for its clock
// to have stepped back (Behind): a few samples. After a step the device
// is blind until then: a minute when it sends a record per sample, the
// rest of the record the step falls in (and at least a minute) when a
// collector batches its samples.
const StepConfirm = time.Minute

// Behind counts toward the clock of d (called name) stepping back a
// sample of d at ts that came more than StepBack behind the latest sample
// of its key, and reports whether the clock has stepped back, and when
// the first of the samples behind was: they span StepConfirm of its own
// time and continue into an input record after the one that first came
// in, and no key of d has had a sample newer than the latest one when
// that record was done (RecordDone). One record is no evidence: a second
// source's batch of samples behind, following the device's own, holds
// minutes of them with nothing newer between (none can come inside it),
// and a stage need not take a record's samples in its order. newest
// returns the latest sample time of d's keys (in its own time); it is
// called when a count starts and when it may end, once a record. Where a
// key of d had a newer sample (samples behind from a second source, late,
// while the device reports on: not its clock) the count starts again from
// ts. The caller takes the step (Stepped) when it reports true. The count
// is state, in d's record.
func (ds *Devices) Behind(d *Device, name string, ts int64, newest func() int64) (first int64, stepped bool) {
	if d.stepFrom == 0 {
		d.stepFrom, d.stepFirst = newest(), ts
		ds.began(d, name)
		return ts, false
	}
	first = min(d.stepFirst, ts)
	if ts-first < int64(StepConfirm) || d.stepNew {
		if first != d.stepFirst {
			d.stepFirst = first
			ds.changed(d, name)
		}
		return first, false
	}
	from := newest()
	if from <= d.stepFrom {
		return first, true
	}
	d.stepFrom, d.stepFirst = from, ts
	ds.began(d, name)
	return ts, false
}

// began marks the count of d (called name) begun in the record at hand.
func (ds *Devices) began(d *Device, name string) {
	ds.changed(d, name)
	if !d.stepNew {
		d.stepNew = true
		ds.begun = append(ds.begun, strings.Clone(name))
	}
}

// RecordDone ends the input record at hand for the counts of samples
// behind begun (or begun again) in it (Behind): each takes the latest
// sample time of its device's keys now, newest(name), as the one no
// sample may pass for the step to be confirmed in a later record. A
// record's samples newer than its first behind are no evidence against
// a step: the record straddles it, or its stage took its samples out of
// order. The stage calls it after each record, before a checkpoint.
func (ds *Devices) RecordDone(newest func(name string) int64) {
	for _, name := range ds.begun {
		if d := ds.m[name]; d != nil && d.stepNew {
			d.stepNew = false
			if n := newest(name); n > d.stepFrom {
				d.stepFrom = n
				ds.changed(d, name)
			}
		}
	}
	clear(ds.begun)
	ds.begun = ds.begun[:0]
}

// Stepped places d (called name) on c after its clock stepped back
// (Behind) to `to`, the sample time that confirmed the step, from which
// the caller takes d's keys back (those whose latest sample is newer no
// longer hold their places on c): to is placed by the offset the
// device's samples of that time had (At), unless that is more than Tol
// behind c's Newest (the device's keys would expire for the step) or the
// keys taken back held Newest and no other key holds it (held): then to
// is placed at Newest, so that a partition restored from its keys reads
// its clock back where it was. The offset before a jump ahead is
// forgotten (every key of d is sampled before to, or taken back), and so
// is the count of samples behind.
func (ds *Devices) Stepped(c *Clock, d *Device, name string, to int64, held bool) {
	off := d.At(to) - to
	if held || c.Newest-(to+off) > ds.Tol {
		off = c.Newest - to
	}
	if d.stepFrom != 0 {
		d.stepFrom, d.stepFirst, d.stepNew = 0, 0, false
		ds.changed(d, name)
	}
	ds.setOffset(d, name, off, off, 0)
}

// Forget drops the device called name, its last key gone: its record
// gets a tombstone (when it had one) and its next sample is a first one.
func (ds *Devices) Forget(name string) {
	d := ds.m[name]
	if d == nil {
		return
	}
	delete(ds.m, name)
	if d.recorded() && !d.dirty {
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
			if d.recorded() {
				value = d.appendRecord(nil)
			}
		}
		fn(name, value)
	}
	clear(ds.dirty)
	ds.dirty = ds.dirty[:0]
}

// Restored marks the device called name known, one of its keys restored
// from the changelog (at offset 0 unless its record says otherwise), and
// returns it: placed, unless its record says it is not yet
// (KeepUnplaced), whichever of them is restored first.
func (ds *Devices) Restored(name string) *Device {
	d := ds.Get(name)
	d.fresh = d.unplaced
	return d
}

// RestoreOffset restores the record of the device called name (value
// nil: a tombstone, placed at offset 0 and no samples behind counted).
func (ds *Devices) RestoreOffset(name string, value []byte) error {
	if value == nil {
		if d := ds.m[name]; d != nil {
			d.Offset, d.prev, d.since, d.stepFrom, d.stepFirst, d.stepNew = 0, 0, 0, 0, 0, false
			d.fresh, d.unplaced = false, false
		}
		return nil
	}
	var r Device
	if err := r.parseRecord(value); err != nil {
		return fmt.Errorf("clock offset of device %s: %w", name, err)
	}
	d := ds.Get(name)
	d.Offset, d.prev, d.since, d.stepFrom, d.stepFirst, d.stepNew = r.Offset, r.prev, r.since, r.stepFrom, r.stepFirst, false
	d.fresh, d.unplaced = r.unplaced, r.unplaced
	return nil
}

// recorded reports whether d has a changelog record: an offset, or one
// before a jump, not 0, samples behind counted, or kept not placed yet.
func (d *Device) recorded() bool {
	return d.Offset != 0 || d.prev != 0 || d.stepFrom != 0 || d.unplaced
}

// The versions of a device's record: offsetVersion holds its offsets;
// stepVersion, written only while samples behind are counted (Behind),
// the count too; unplacedVersion, a device kept not placed yet
// (KeepUnplaced: no offset, no count), the version byte alone. A device
// that counts none writes the record of builds before the count, which
// read it.
const (
	offsetVersion   = 1
	stepVersion     = 2
	unplacedVersion = 3
)

// appendRecord appends d's changelog record to dst: a version byte, then
// Offset, prev and since, varints, and with stepVersion stepFrom and
// stepFirst; with unplacedVersion nothing.
func (d *Device) appendRecord(dst []byte) []byte {
	if d.unplaced {
		return append(dst, unplacedVersion)
	}
	v := byte(offsetVersion)
	if d.stepFrom != 0 {
		v = stepVersion
	}
	dst = binary.AppendVarint(append(dst, v), d.Offset)
	dst = binary.AppendVarint(binary.AppendVarint(dst, d.prev), d.since)
	if v == stepVersion {
		dst = binary.AppendVarint(binary.AppendVarint(dst, d.stepFrom), d.stepFirst)
	}
	return dst
}

// parseRecord sets d's offsets (and its count of samples behind, or
// that it is not placed yet) from a record written by appendRecord, of
// any version.
func (d *Device) parseRecord(b []byte) error {
	if len(b) == 0 || b[0] != offsetVersion && b[0] != stepVersion && b[0] != unplacedVersion {
		return fmt.Errorf("record of %d bytes is not of version %d, %d or %d", len(b), offsetVersion, stepVersion, unplacedVersion)
	}
	if b[0] == unplacedVersion {
		if len(b) != 1 {
			return fmt.Errorf("record of %d bytes does not decode", len(b))
		}
		d.unplaced = true
		return nil
	}
	rest := b[1:]
	fields := []*int64{&d.Offset, &d.prev, &d.since, &d.stepFrom, &d.stepFirst}
	if b[0] == offsetVersion {
		fields = fields[:3]
	}
	for _, f := range fields {
		v, n := binary.Varint(rest)
		if n <= 0 {
			return fmt.Errorf("record of %d bytes does not decode", len(b))
		}
		*f, rest = v, rest[n:]
	}
	if len(rest) != 0 || b[0] == stepVersion && d.stepFrom == 0 {
		return fmt.Errorf("record of %d bytes does not decode", len(b))
	}
	return nil
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
