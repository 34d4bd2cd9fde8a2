package density

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

const stateVersion = 1

// MarshalBinary encodes the state: a kind tag, a version byte, the
// configuration (so a record never restores into a detector of another
// shape), the points seen, the onsets seen (up to warm), the ring's next
// slot and its Onsets entries, the record, whether the latest point was
// off and whether an episode is on. A restored detector scores bit for bit like the original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagDensity, stateVersion)
	dst = enc.AppendU(dst, uint64(d.k))
	dst = enc.AppendF64(dst, d.tighter)
	dst = enc.AppendU(dst, uint64(d.warm))
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendU(dst, uint64(d.seen))
	dst = enc.AppendU(dst, uint64(d.next))
	for _, n := range d.last[:d.k] {
		dst = enc.AppendU(dst, uint64(n))
	}
	dst = enc.AppendU(dst, uint64(d.record))
	dst = enc.AppendBool(dst, d.off)
	return enc.AppendBool(dst, d.episode), nil
}

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagDensity, stateVersion)
	k, tighter, warm := r.U(), r.F64(), r.U()
	if r.Err == nil && (k != uint64(d.k) || tighter != d.tighter || warm != uint64(d.warm)) {
		return fmt.Errorf("density: state of another configuration (onsets, tighter, warm differ)")
	}
	e := *d
	bad := false
	u32 := func() uint32 {
		v := r.U()
		bad = bad || v > math.MaxUint32
		return uint32(v)
	}
	e.n, e.seen = r.U(), u32()
	next := u32()
	for i := range int(d.k) {
		e.last[i] = u32()
	}
	e.record, e.off, e.episode = u32(), r.Bool(), r.Bool()
	if err := r.Done(); err != nil {
		return fmt.Errorf("density: %w", err)
	}
	if bad || e.seen > e.warm || next >= uint32(e.k) || uint64(e.seen) > e.n || uint64(e.record) > e.n {
		return fmt.Errorf("density: state record is malformed")
	}
	e.next = uint8(next)
	*d = e
	return nil
}
