package levelshift

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// stateVersion 2 added the spread's accumulated weight after the flags;
// version 1 records are still read (the weight is then 1: the spread is
// taken as it is). Version 3 adds the previous point's time after it; a
// detector that has none (without an EventSize, fed by UpdateInto, or
// restored from version 2 and not fed since) writes version 2, which a
// build before version 3 reads. Version 4 adds the idle count after the
// time (written with the time, 0 or not); a detector that counted no
// idle point writes version 2 or 3 as before.
const stateVersion = 4

// MarshalBinary encodes the state: a kind tag, a version byte (4, or 3
// without an idle count, or 2 without the previous point's time either),
// the configuration's ratio, confirm and accept (so a record never
// restores into a detector of another shape), then the level, the
// carrying level, the spread, the counts, the flags, the spread's weight,
// (version 3) the previous point's time and (version 4) the idle count. A restored
// detector scores bit-for-bit like the original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	version := byte(stateVersion)
	switch {
	case d.idle != 0:
	case d.lastTS == 0:
		version = 2
	default:
		version = 3
	}
	dst = enc.AppendHeader(dst, enc.TagLevelShift, version)
	dst = enc.AppendF64(dst, d.cfg.Ratio)
	dst = enc.AppendU(dst, uint64(d.cfg.Confirm))
	dst = enc.AppendU(dst, uint64(d.cfg.Accept))
	dst = enc.AppendF64(dst, d.level)
	dst = enc.AppendF64(dst, d.carry)
	dst = enc.AppendF64(dst, d.dev)
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendU(dst, uint64(d.run))
	dst = enc.AppendI(dst, int64(d.dir))
	dst = enc.AppendU(dst, uint64(d.calm))
	dst = enc.AppendBool(dst, d.shifted)
	dst = enc.AppendBool(dst, d.off)
	dst = enc.AppendF64(dst, d.wdev)
	if version >= 3 {
		dst = enc.AppendI(dst, d.lastTS)
	}
	if version >= 4 {
		dst = enc.AppendU(dst, d.idle)
	}
	return dst, nil
}

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	version := byte(stateVersion)
	if len(b) >= 2 && (b[1] >= 1 && b[1] <= 3) {
		version = b[1]
	}
	r.Header(enc.TagLevelShift, version)
	ratio, confirm, accept := r.F64(), r.U(), r.U()
	if r.Err == nil && (ratio != d.cfg.Ratio || confirm != uint64(d.cfg.Confirm) || accept != uint64(d.cfg.Accept)) {
		return fmt.Errorf("levelshift: state of another configuration (ratio, confirm or accept differ)")
	}
	e := Detector{cfg: d.cfg, lnR: d.lnR}
	e.level, e.carry, e.dev = r.F64(), r.F64(), r.F64()
	e.n = r.U()
	run, dir, calm := r.U(), r.I(), r.U()
	e.shifted, e.off = r.Bool(), r.Bool()
	e.wdev = 1
	if version >= 2 {
		e.wdev = r.F64()
	}
	if version >= 3 {
		e.lastTS = r.I()
	}
	if version >= 4 {
		e.idle = r.U()
	}
	if err := r.Done(); err != nil {
		return fmt.Errorf("levelshift: %w", err)
	}
	if run > math.MaxInt32 || calm > math.MaxInt32 || dir < -1 || dir > 1 || math.IsNaN(e.level) || math.IsNaN(e.dev) || !(e.wdev >= 0 && e.wdev <= 1) {
		return fmt.Errorf("levelshift: state record is malformed")
	}
	e.run, e.dir, e.calm = int32(run), int8(dir), int32(calm)
	*d = e
	return nil
}
