package rangebreak

import (
	"fmt"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// stateVersion 2 adds the levels visited when the current run of breaks
// began (Score.Far) after the previous break. A detector whose run began
// at the levels visited now (none has broken them since) writes version
// 1, which a build before version 2 reads; a version 1 record restores a
// run that begins at its visited levels.
const stateVersion = 2

// MarshalBinary encodes the state: a kind tag, a version byte (2, or 1;
// see stateVersion), the configuration (so a record never restores into
// a detector of another shape), the points seen, the warm-up range, the
// grid step, the visited levels, the previous break and (version 2) the
// levels visited when the run of breaks began. A restored detector scores
// bit-for-bit like the original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	version := byte(stateVersion)
	if d.runLow == d.low && d.runHigh == d.high {
		version = 1
	}
	dst = enc.AppendHeader(dst, enc.TagRangeBreak, version)
	dst = enc.AppendU(dst, uint64(d.cfg.Bins))
	dst = enc.AppendU(dst, uint64(d.cfg.Warm))
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendF64(dst, d.lo)
	dst = enc.AppendF64(dst, d.hi)
	dst = enc.AppendF64(dst, d.step)
	dst = enc.AppendI(dst, d.low)
	dst = enc.AppendI(dst, d.high)
	dst = enc.AppendU(dst, d.lastBreak)
	if version >= 2 {
		dst = enc.AppendI(dst, d.runLow)
		dst = enc.AppendI(dst, d.runHigh)
	}
	return dst, nil
}

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	version := byte(stateVersion)
	if len(b) >= 2 && b[1] == 1 {
		version = 1
	}
	r.Header(enc.TagRangeBreak, version)
	for _, want := range []int{d.cfg.Bins, d.cfg.Warm} {
		if v := r.U(); r.Err == nil && v != uint64(want) {
			return fmt.Errorf("rangebreak: state of another configuration (bins, warm differ)")
		}
	}
	e := Detector{cfg: d.cfg}
	e.n = r.U()
	e.lo, e.hi, e.step = r.F64(), r.F64(), r.F64()
	e.low, e.high = r.I(), r.I()
	e.lastBreak = r.U()
	e.runLow, e.runHigh = e.low, e.high
	if version >= 2 {
		e.runLow, e.runHigh = r.I(), r.I()
	}
	if err := r.Done(); err != nil {
		return fmt.Errorf("rangebreak: %w", err)
	}
	if e.lastBreak > e.n || e.low > e.high || e.runLow > e.runHigh || e.runLow < e.low || e.runHigh > e.high {
		return fmt.Errorf("rangebreak: state record is malformed")
	}
	*d = e
	return nil
}
