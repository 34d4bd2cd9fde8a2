package ensemble

import (
	"encoding/binary"
	"fmt"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// The density member's record, when it is a member, comes last, after
// range_break's, in a record of any version from 5 on; a record without
// it (written before the member existed, or while it was not a member)
// restores it cold, and one with it but without range_break's restores
// range_break cold, without a version of their own: the records are
// told apart by their tags.
//
// stateVersion 10 added, after version 9's fields (the waiting point then
// written as it is), whether a point waits, and the latest incident's
// stretch away from the level (Ensemble.awayTS: its start, its side and
// the seasonal level before it). It is written only while a stretch is
// kept: from an incident's alert until the series comes back or the alert
// ends within its hold (a stretch a period old, over, is written until
// the next incident's alert); otherwise the record is version 9's or
// older, byte for byte, and an older record restores with no stretch.
// Version 9 added, after version 8's adoption flag (then written as
// it is), the run's point whose seasonal bin forgets it if the alert fires
// (Ensemble.pending: its time and the bin's offset before it). It is
// written only while there is one (between a run's first point and its
// next, never while an alert is on); otherwise the record is version 8's,
// 7's, 6's or 5's, byte for byte, and a version 1 to 8 record restores
// with none waiting.
// Version 8 added, after version 7's echo flag, whether level_shift
// adopted the firing alert from another member (Ensemble.adopted). It is
// written only while such an alert is on, with the echo flag then written
// as it is; otherwise the record is version 7's, 6's or 5's, byte for
// byte, and a version 1 to 7 record restores with no adoption.
// Version 7 added, after version 6's fields (the repeat memory, then
// written whatever Config.Repeat), whether the firing alert is the echo of
// a hold (see Config.Hold). It is written only while such an alert is on:
// otherwise the record is version 6's or 5's, byte for byte. A version 1
// to 6 record restores with no echo.
// Version 6 added the gate's repeat memory (Config.Repeat: the run's
// distance, then the number of alerts kept, each alert's distance and
// point, and the ring's next slot) after the pending run scores. It is
// written only when the rule is on: without it the record is version 5's,
// byte for byte, so the changelog of a series without the rule does not
// change. A version 1 to 5 record, or one written with another
// repeat.count, restores the memory empty. Version 5 added the range_break member (its record last, when it is
// a member; a version 1 to 4 record, or a version 5 record written while
// it was not a member, restores it cold); version 4 added each calibrated member's pending run score (after
// the level flag); version 3 added the level_shift member (its record after the
// others', and whether the alert is its own); version 2 added the gate's
// state (held, armed, the run's peak, members and top member) after
// lastOnset. Version 1 to 3 records are still read: the level_shift
// member then starts cold, and no run score is pending.
const stateVersion = 10

type appender interface {
	AppendBinary([]byte) ([]byte, error)
	UnmarshalBinary([]byte) error
}

// maxParts bounds the members' records: the six detectors, the forest and
// a calibration record per calibrated member.
const maxParts = 2 * numMembers

// parts appends the members' records of version to ps, in their order in
// the encoding. A caller passes a slice of a maxParts array on its stack,
// so encoding a series' state allocates nothing for it.
func (e *Ensemble) parts(version byte, ps []appender) []appender {
	ps = append(ps, e.rz, e.ew, e.sea, e.cus)
	if e.hst != nil {
		ps = append(ps, e.hst)
	}
	if e.ls != nil && version >= 3 {
		ps = append(ps, e.ls)
	}
	for _, c := range e.cal {
		if c != nil {
			ps = append(ps, c)
		}
	}
	if e.rb != nil && version >= 5 {
		ps = append(ps, e.rb)
	}
	if e.dn != nil && version >= 5 {
		ps = append(ps, e.dn)
	}
	return ps
}

// MarshalBinary encodes the series state: a kind tag, a version byte (10
// while a stretch away from the level is kept, else 9
// while a run's point may be forgotten by its seasonal bin, 8 while an alert
// level_shift adopted is on, 7 while an echo alert is on, else 6 with
// Config.Repeat, 5 without),
// the alert state, then every member's own versioned record, each
// length-prefixed. It is for the changelog: a restored ensemble built from
// the same configuration scores exactly as the original.
func (e *Ensemble) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (e *Ensemble) AppendBinary(dst []byte) ([]byte, error) {
	version := byte(6)
	switch {
	case e.awayTS != 0:
		version = 10
	case e.pending:
		version = 9
	case e.adopted:
		version = 8
	case e.echo && e.al.Firing:
		version = 7
	case e.sh.cfg.Repeat.Count <= 0:
		version = 5
	}
	dst = enc.AppendHeader(dst, enc.TagEnsemble, version)
	dst = enc.AppendBool(dst, e.al.Firing)
	dst = enc.AppendI(dst, int64(e.al.Above))
	dst = enc.AppendI(dst, int64(e.al.Below))
	dst = enc.AppendF64(dst, e.al.Peak)
	dst = enc.AppendI(dst, e.al.StartsAt)
	dst = enc.AppendU(dst, e.n)
	dst = enc.AppendU(dst, e.lastOnset)
	dst = enc.AppendI(dst, int64(e.held))
	dst = enc.AppendBool(dst, e.armed)
	dst = enc.AppendF64(dst, e.runPeak)
	dst = enc.AppendU(dst, uint64(e.runFired))
	dst = enc.AppendU(dst, uint64(e.runTop))
	dst = enc.AppendBool(dst, e.byLevel)
	for m, c := range e.cal {
		if c != nil {
			dst = enc.AppendF64(dst, e.pend[m])
		}
	}
	if version >= 6 {
		dst = e.appendRepeats(dst)
	}
	if version >= 7 {
		dst = enc.AppendBool(dst, e.echo && e.al.Firing)
	}
	if version >= 8 {
		dst = enc.AppendBool(dst, e.adopted)
	}
	if version >= 9 {
		// A point no longer waiting leaves its time and offset behind;
		// nothing reads them, so the record says 0 (as a restore does).
		pendTS, pendOff := e.pendTS, e.pendOff
		if !e.pending {
			pendTS, pendOff = 0, 0
		}
		dst = enc.AppendI(dst, pendTS)
		dst = enc.AppendF64(dst, pendOff)
	}
	if version >= 10 {
		dst = enc.AppendBool(dst, e.pending)
		dst = enc.AppendI(dst, e.awayTS)
		dst = enc.AppendI(dst, int64(e.awaySide))
		dst = enc.AppendF64(dst, e.awayLevel)
	}
	var buf [maxParts]appender
	for _, p := range e.parts(stateVersion, buf[:0]) {
		// Reserve room for the length, append, then fill it in.
		at := len(dst)
		dst = append(dst, make([]byte, 4)...)
		var err error
		if dst, err = p.AppendBinary(dst); err != nil {
			return nil, err
		}
		binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return dst, nil
}

// UnmarshalBinary restores a state written by an ensemble of the same
// configuration into e.
func (e *Ensemble) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	version := byte(stateVersion)
	if len(b) >= 2 && b[1] >= 1 && b[1] < stateVersion {
		version = b[1]
	}
	r.Header(enc.TagEnsemble, version)
	firing := r.Bool()
	above, below := r.I(), r.I()
	peak := r.F64()
	started := r.I()
	n, last := r.U(), r.U()
	var held int64
	var armed bool
	var runPeak float64
	var runFired, runTop uint64
	if version >= 2 {
		held, armed, runPeak, runFired, runTop = r.I(), r.Bool(), r.F64(), r.U(), r.U()
	}
	var byLevel bool
	if version >= 3 {
		byLevel = r.Bool()
	}
	var pend [numMembers]float64
	if version >= 4 {
		for m, c := range e.cal {
			if c != nil {
				pend[m] = r.F64()
			}
		}
	}
	var runDev float64
	var rep repeats
	if version >= 6 {
		runDev, rep = e.readRepeats(&r)
	}
	if e.sh.cfg.Repeat.Count <= 0 {
		// An echo alert's record (version 7) written by a build that kept
		// the run's distance without the repeat rule: nothing reads it.
		runDev = 0
	}
	var echo, adopted bool
	if version >= 7 {
		echo = r.Bool()
	}
	if version >= 8 {
		adopted = r.Bool()
	}
	var pendTS int64
	var pendOff float64
	if version >= 9 {
		pendTS, pendOff = r.I(), r.F64()
	}
	pending := version == 9 && !firing
	var awayTS, awaySide int64
	var awayLevel float64
	if version >= 10 {
		pending = r.Bool() && !firing
		awayTS, awaySide, awayLevel = r.I(), r.I(), r.F64()
	}
	if r.Err != nil {
		return fmt.Errorf("ensemble: %w", r.Err)
	}
	rest := r.B
	var buf [maxParts]appender
	parts := e.parts(version, buf[:0])
	for i, p := range parts {
		if tag, ok := e.trailing(parts[i:]); ok && (len(rest) < 5 || rest[4] != tag) {
			// range_break or density, which come last, and the record
			// lacks it (written while it was not a member, or before
			// density was one): the member starts cold.
			continue
		}
		if len(rest) < 4 {
			return fmt.Errorf("ensemble: member %d: %w", i, enc.ErrShort)
		}
		l := int(binary.LittleEndian.Uint32(rest))
		if l > len(rest)-4 {
			return fmt.Errorf("ensemble: member %d: %w", i, enc.ErrShort)
		}
		if err := p.UnmarshalBinary(rest[4 : 4+l]); err != nil {
			return fmt.Errorf("ensemble: %w", err)
		}
		rest = rest[4+l:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("ensemble: %d unexpected bytes after the state (another configuration?)", len(rest))
	}
	e.al = alert.State{Firing: firing, Above: int32(above), Below: int32(below), Peak: peak, StartsAt: started}
	e.n, e.lastOnset = n, last
	e.held, e.armed, e.runPeak, e.runFired, e.runTop = int32(held), armed, runPeak, Mask(runFired), Member(runTop)
	e.byLevel, e.pend = byLevel, pend
	e.runDev, e.rep, e.echo, e.adopted = runDev, rep, echo, adopted && byLevel && firing
	e.pending, e.pendTS, e.pendOff = pending, pendTS, pendOff
	e.awayTS, e.awaySide, e.awayLevel = awayTS, int8(max(-1, min(awaySide, 1))), awayLevel
	return nil
}

// trailing reports whether ps are members that a record may lack, the
// last ones (range_break, density), and the tag of the first one's
// record.
func (e *Ensemble) trailing(ps []appender) (byte, bool) {
	for _, p := range ps {
		if p != appender(e.rb) && p != appender(e.dn) {
			return 0, false
		}
	}
	if ps[0] == appender(e.rb) {
		return enc.TagRangeBreak, true
	}
	return enc.TagDensity, true
}

// appendRepeats appends the repeat memory (version 6, Repeat.Count > 0;
// version 7 whatever the rule): the run's distance, the number of alerts
// kept (repeat.count; 0 with the rule off, count 0 or -1), each one's
// distance and point, and the ring's next slot.
func (e *Ensemble) appendRepeats(dst []byte) []byte {
	k := max(e.sh.cfg.Repeat.Count, 0)
	runDev := e.runDev
	if k == 0 {
		// Nothing reads it without the rule, and a restore sets it to 0.
		runDev = 0
	}
	dst = enc.AppendF64(dst, runDev)
	dst = enc.AppendU(dst, uint64(k))
	for _, x := range e.rep.last[:k] {
		dst = enc.AppendF64(dst, x.dev)
		dst = enc.AppendU(dst, x.n)
	}
	return enc.AppendU(dst, uint64(e.rep.next))
}

// readRepeats reads what appendRepeats wrote; a memory written with
// another repeat.count (a configuration change) is dropped.
func (e *Ensemble) readRepeats(r *enc.Reader) (float64, repeats) {
	runDev := r.F64()
	k := r.U()
	if k > MaxRepeatCount {
		r.Err = fmt.Errorf("repeat: %d alerts kept, at most %d", k, MaxRepeatCount)
		return 0, repeats{}
	}
	var p repeats
	for i := range int(k) {
		p.last[i] = excursion{dev: r.F64(), n: r.U()}
	}
	p.next = uint8(r.U())
	if int(k) != max(e.sh.cfg.Repeat.Count, 0) || int(p.next) >= max(int(k), 1) {
		return runDev, repeats{}
	}
	return runDev, p
}
