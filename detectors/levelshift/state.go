package levelshift

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

const stateVersion = 1

// MarshalBinary encodes the state: a kind tag, a version byte (1), the
// configuration's ratio, confirm and accept (so a record never restores
// into a detector of another shape), then the level, the carrying level,
// the spread, the counts and the flags. A restored detector scores
// bit-for-bit like the original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagLevelShift, stateVersion)
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
	return enc.AppendBool(dst, d.off), nil
}

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagLevelShift, stateVersion)
	ratio, confirm, accept := r.F64(), r.U(), r.U()
	if r.Err == nil && (ratio != d.cfg.Ratio || confirm != uint64(d.cfg.Confirm) || accept != uint64(d.cfg.Accept)) {
		return fmt.Errorf("levelshift: state of another configuration (ratio, confirm or accept differ)")
	}
	e := Detector{cfg: d.cfg, lnR: d.lnR}
	e.level, e.carry, e.dev = r.F64(), r.F64(), r.F64()
	e.n = r.U()
	run, dir, calm := r.U(), r.I(), r.U()
	e.shifted, e.off = r.Bool(), r.Bool()
	if err := r.Done(); err != nil {
		return fmt.Errorf("levelshift: %w", err)
	}
	if run > math.MaxInt32 || calm > math.MaxInt32 || dir < -1 || dir > 1 || math.IsNaN(e.level) || math.IsNaN(e.dev) {
		return fmt.Errorf("levelshift: state record is malformed")
	}
	e.run, e.dir, e.calm = int32(run), int8(dir), int32(calm)
	*d = e
	return nil
}
