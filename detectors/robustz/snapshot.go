package robustz

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// AppendWindow appends the window's values, oldest first, to dst and
// returns it. With SetWindow it lets a caller persist and restore a
// detector (the runtime's changelog does).
func (d *Detector) AppendWindow(dst []float64) []float64 {
	if d.n < len(d.ring) {
		return append(dst, d.ring[:d.n]...)
	}
	dst = append(dst, d.ring[d.pos:]...)
	return append(dst, d.ring[:d.pos]...)
}

// SetWindow replaces the window with values, oldest first, as returned by
// AppendWindow. It fails when there are more values than the window holds.
func (d *Detector) SetWindow(values []float64) error {
	if len(values) > len(d.ring) {
		return fmt.Errorf("robustz: %d values do not fit a window of %d", len(values), len(d.ring))
	}
	clear(d.ring)
	copy(d.ring, values)
	d.n = len(values)
	d.pos = d.n % len(d.ring)
	d.sorted = append(d.sorted[:0], values...)
	slices.Sort(d.sorted)
	d.fresh, d.at = false, false
	d.negZero = slices.ContainsFunc(values, func(v float64) bool { return v == 0 && math.Signbit(v) })
	d.odd = slices.ContainsFunc(values, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	d.fracs = 0
	for _, v := range values {
		if fraction(v) {
			d.fracs++
		}
	}
	return nil
}

const stateVersion = 1

// stateTag marks a robustz record (see detectors/internal/enc).
const stateTag = 2

// MarshalBinary encodes the state: a kind tag, a version byte (1), and the
// window oldest first.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, stateTag, stateVersion)
	dst = binary.AppendUvarint(dst, uint64(d.n))
	if d.n < len(d.ring) {
		return appendFloats(dst, d.ring[:d.n]), nil
	}
	dst = appendFloats(dst, d.ring[d.pos:])
	return appendFloats(dst, d.ring[:d.pos]), nil
}

func appendFloats(dst []byte, fs []float64) []byte {
	for _, f := range fs {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	}
	return dst
}

// UnmarshalBinary restores a state written by MarshalBinary; the window
// must fit this detector's.
func (d *Detector) UnmarshalBinary(b []byte) error {
	if len(b) < 2 || b[0] != stateTag {
		return fmt.Errorf("robustz: not a robustz state record")
	}
	if b[1] != stateVersion {
		return fmt.Errorf("robustz: unknown state version %d (this build reads %d)", b[1], stateVersion)
	}
	n, k := binary.Uvarint(b[2:])
	if k <= 0 || n > uint64(len(d.ring)) || uint64(len(b)-2-k) != 8*n {
		return fmt.Errorf("robustz: state record of %d bytes does not hold a window of at most %d", len(b), len(d.ring))
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[2+k+8*i:]))
	}
	return d.SetWindow(vals)
}
