package rangebreak

import (
	"fmt"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

const stateVersion = 1

// MarshalBinary encodes the state: a kind tag, a version byte (1), the
// configuration (so a record never restores into a detector of another
// shape), the points seen, the warm-up range, the grid step, the visited
// levels and the previous break. A restored detector scores bit-for-bit
// like the original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagRangeBreak, stateVersion)
	dst = enc.AppendU(dst, uint64(d.cfg.Bins))
	dst = enc.AppendU(dst, uint64(d.cfg.Warm))
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendF64(dst, d.lo)
	dst = enc.AppendF64(dst, d.hi)
	dst = enc.AppendF64(dst, d.step)
	dst = enc.AppendI(dst, d.low)
	dst = enc.AppendI(dst, d.high)
	return enc.AppendU(dst, d.lastBreak), nil
}

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagRangeBreak, stateVersion)
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
	if err := r.Done(); err != nil {
		return fmt.Errorf("rangebreak: %w", err)
	}
	if e.lastBreak > e.n || e.low > e.high {
		return fmt.Errorf("rangebreak: state record is malformed")
	}
	*d = e
	return nil
}
