package density

import (
	"fmt"
	"slices"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

const stateVersion = 1

// MarshalBinary encodes the state: a kind tag, a version byte, the
// configuration (so a record never restores into a detector of another
// shape), the points and onsets seen, the latest onsets, the record and
// whether the latest point was off. A restored detector scores bit for
// bit like the original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagDensity, stateVersion)
	dst = enc.AppendU(dst, uint64(d.cfg.Onsets))
	dst = enc.AppendF64(dst, d.cfg.Tighter)
	dst = enc.AppendU(dst, uint64(d.cfg.Warm))
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendU(dst, d.onsets)
	for _, n := range d.last[:d.cfg.Onsets] {
		dst = enc.AppendU(dst, n)
	}
	dst = enc.AppendU(dst, d.record)
	return enc.AppendBool(dst, d.off), nil
}

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagDensity, stateVersion)
	onsets, tighter, warm := r.U(), r.F64(), r.U()
	if r.Err == nil && (onsets != uint64(d.cfg.Onsets) || tighter != d.cfg.Tighter || warm != uint64(d.cfg.Warm)) {
		return fmt.Errorf("density: state of another configuration (onsets, tighter, warm differ)")
	}
	n, seen := r.U(), r.U()
	var last [MaxOnsets]uint64
	for i := range d.cfg.Onsets {
		last[i] = r.U()
	}
	record, off := r.U(), r.Bool()
	if err := r.Done(); err != nil {
		return fmt.Errorf("density: %w", err)
	}
	if seen > n || record > n || slices.Max(last[:]) > n {
		return fmt.Errorf("density: state record is malformed")
	}
	d.n, d.onsets, d.last, d.record, d.off = n, seen, last, record, off
	return nil
}
