package knn

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

const stateVersion = 1

// MarshalBinary encodes the state: a kind tag, a version byte (1), the
// configuration (so a record never restores into a detector of another
// shape), the points seen, the values held (float32 bits, oldest first),
// the nonconformities held (oldest first). A restored detector scores
// bit-for-bit like the original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst. Only the values and
// nonconformities held are written, so a young series' record is short.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	c := &d.cfg
	dst = enc.AppendHeader(dst, enc.TagKNN, stateVersion)
	for _, v := range []int{c.Dim, c.History, c.Calib, c.K} {
		dst = enc.AppendU(dst, uint64(v))
	}
	dst = enc.AppendU(dst, d.n)
	held := int(min(d.n, uint64(len(d.vals))))
	dst = appendF32s(dst, d.vals[len(d.vals)-held:])
	dst = enc.AppendU(dst, uint64(d.nncm))
	start := (d.pos - d.nncm + c.Calib) % c.Calib
	for i := range d.nncm {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(d.ncm[(start+i)%c.Calib]))
	}
	return dst, nil
}

func appendF32s(dst []byte, fs []float32) []byte {
	for _, f := range fs {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
	}
	return dst
}

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	c := d.cfg
	r := enc.Reader{B: b}
	r.Header(enc.TagKNN, stateVersion)
	for _, want := range []int{c.Dim, c.History, c.Calib, c.K} {
		if v := r.U(); r.Err == nil && v != uint64(want) {
			return fmt.Errorf("knn: state of another configuration (dim, history, calib, k differ)")
		}
	}
	n := r.U()
	if r.Err != nil {
		return fmt.Errorf("knn: %w", r.Err)
	}
	e := Detector{cfg: c, n: n, vals: make([]float32, c.History+c.Dim), ncm: make([]float32, c.Calib)}
	held := int(min(n, uint64(len(e.vals))))
	if !readF32s(&r, e.vals[len(e.vals)-held:]) {
		return fmt.Errorf("knn: %w", enc.ErrShort)
	}
	nncm := r.U()
	if r.Err == nil && nncm > uint64(c.Calib) {
		return fmt.Errorf("knn: state record is malformed (%d nonconformities, at most %d)", nncm, c.Calib)
	}
	e.nncm = int(nncm)
	if !readF32s(&r, e.ncm[:e.nncm]) {
		return fmt.Errorf("knn: %w", enc.ErrShort)
	}
	e.pos = e.nncm % c.Calib
	if err := r.Done(); err != nil {
		return fmt.Errorf("knn: %w", err)
	}
	*d = e
	return nil
}

// readF32s fills dst from r's next 4·len(dst) bytes; false if too few.
func readF32s(r *enc.Reader, dst []float32) bool {
	if r.Err != nil || len(r.B) < 4*len(dst) {
		return false
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.B[4*i:]))
	}
	r.B = r.B[4*len(dst):]
	return true
}
