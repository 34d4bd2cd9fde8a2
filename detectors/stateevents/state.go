package stateevents

import (
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

const stateVersion = 1

// maxRaw bounds the raw state value kept in a record.
const maxRaw = 256

// rawBytes is the allowance StateBytes makes for the raw value, so that
// the figure does not move with the value.
const rawBytes = 16

// StateBytes returns the memory the tracker holds: its fields and an
// allowance of 16 bytes for the raw value (the enums are shorter).
func (t *Tracker) StateBytes() int { return int(unsafe.Sizeof(*t)) + rawBytes }

// heldBit marks a held alert (Tracker.Hold) in the alert byte of a record:
// a record of a tracker that holds none is as before holding was added.
const heldBit = 0x80

// preBit marks, in the alert byte of a record, a carrier-transitions
// count before a decrease (Tracker.pre) after the raw value: a record
// without one is as before it was kept.
const preBit = 0x40

// MarshalBinary encodes the state: a kind tag, a version byte (1), the
// class, the verdict, the alert (its top bit set while it is held), the
// times, the evidence counts, the recent transitions (oldest first), the
// raw value and, when the alert byte has preBit, the count before a
// decrease. A restored tracker continues bit-for-bit like the
// original.
func (t *Tracker) MarshalBinary() ([]byte, error) { return t.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (t *Tracker) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagStateEvents, stateVersion)
	alert := byte(t.alert)
	if t.held {
		alert |= heldBit
	}
	if t.pre != 0 {
		alert |= preBit
	}
	dst = append(dst, byte(t.class), byte(t.status), alert)
	dst = enc.AppendBool(dst, t.wasUp)
	for _, v := range [...]int64{t.startsAt, t.lastTS, t.changed, t.downAt, t.upAt} {
		dst = enc.AppendI(dst, v)
	}
	dst = enc.AppendU(dst, t.count)
	dst = enc.AppendF64(dst, t.level)
	dst = enc.AppendF64(dst, t.base)
	dst = enc.AppendU(dst, uint64(t.nflaps))
	for i := int(t.nflaps); i > 0; i-- {
		dst = enc.AppendI(dst, t.flaps[(int(t.head)-i+MaxFlapCount)%MaxFlapCount])
	}
	raw := clipRaw(t.raw) // already clipped by UpdateStatus
	dst = enc.AppendU(dst, uint64(len(raw)))
	dst = append(dst, raw...)
	if t.pre != 0 {
		dst = enc.AppendU(dst, t.pre)
	}
	return dst, nil
}

// clipRaw returns v cut to at most maxRaw bytes at a character boundary:
// the raw value a tracker keeps, so that one restored from its record
// describes its state as the original does.
func clipRaw(v string) string {
	if len(v) <= maxRaw {
		return v
	}
	i := maxRaw
	for i > 0 && !utf8.RuneStart(v[i]) {
		i--
	}
	return v[:i]
}

// UnmarshalBinary restores a state written by AppendBinary. The class
// must match the tracker's (the series' metric decides it).
func (t *Tracker) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagStateEvents, stateVersion)
	var h [3]byte
	for i := range h {
		if r.Err == nil && len(r.B) > 0 {
			h[i], r.B = r.B[0], r.B[1:]
		} else if r.Err == nil {
			r.Err = enc.ErrShort
		}
	}
	n := Tracker{class: Class(h[0]), status: Status(h[1]), alert: Rule(h[2] &^ (heldBit | preBit)), held: h[2]&heldBit != 0}
	n.wasUp = r.Bool()
	for _, p := range [...]*int64{&n.startsAt, &n.lastTS, &n.changed, &n.downAt, &n.upAt} {
		*p = r.I()
	}
	n.count = r.U()
	n.level, n.base = r.F64(), r.F64()
	nf := r.U()
	if r.Err == nil && nf > MaxFlapCount {
		return fmt.Errorf("stateevents: state record holds %d transitions, at most %d", nf, MaxFlapCount)
	}
	for i := uint64(0); i < nf && r.Err == nil; i++ {
		n.flaps[i] = r.I()
	}
	n.nflaps, n.head = uint8(nf), uint8(nf%MaxFlapCount)
	nr := r.U()
	if r.Err == nil && (nr > maxRaw || nr > uint64(len(r.B))) {
		return fmt.Errorf("stateevents: state record holds a raw value of %d bytes", nr)
	}
	if r.Err == nil {
		n.raw, r.B = string(r.B[:nr]), r.B[nr:]
	}
	if h[2]&preBit != 0 {
		if n.pre = r.U(); r.Err == nil && (n.pre == 0 || n.class != ClassCarrier) {
			return fmt.Errorf("stateevents: state record holds a count before a decrease of %d", n.pre)
		}
	}
	if err := r.Done(); err != nil {
		return fmt.Errorf("stateevents: %w", err)
	}
	switch {
	case n.class != t.class:
		return fmt.Errorf("stateevents: state record of class %s, want %s", n.class, t.class)
	case n.status > StatusAdminDown || n.alert >= numRules || n.held && n.alert == RuleNone:
		return fmt.Errorf("stateevents: state record is malformed")
	}
	*t = n
	return nil
}
