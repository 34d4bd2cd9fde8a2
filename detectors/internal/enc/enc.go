// Package enc holds the little-endian binary encoding helpers that the
// detectors use for their versioned state. Floats are written as IEEE 754
// bits, so a restored detector scores exactly as the one that wrote it.
package enc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShort is returned when a state record ends early.
var ErrShort = errors.New("state record too short")

// ErrVersion is wrapped by Reader.Header when a record has another version.
var ErrVersion = errors.New("unknown state version")

// AppendHeader appends a record header: a kind tag and a version byte.
func AppendHeader(dst []byte, tag, version byte) []byte { return append(dst, tag, version) }

// AppendF64 appends f as 8 bytes.
func AppendF64(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// AppendF64s appends a length and the values.
func AppendF64s(dst []byte, fs []float64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(fs)))
	for _, f := range fs {
		dst = AppendF64(dst, f)
	}
	return dst
}

// AppendU appends an unsigned varint.
func AppendU(dst []byte, u uint64) []byte { return binary.AppendUvarint(dst, u) }

// AppendI appends a signed varint.
func AppendI(dst []byte, i int64) []byte { return binary.AppendVarint(dst, i) }

// AppendBool appends a byte 0 or 1.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// Reader decodes a record; the first error sticks and later reads return
// zero values.
type Reader struct {
	B   []byte
	Err error
}

// Header checks the kind tag and version.
func (r *Reader) Header(tag, version byte) {
	if r.Err != nil {
		return
	}
	if len(r.B) < 2 {
		r.Err = ErrShort
		return
	}
	if r.B[0] != tag {
		r.Err = fmt.Errorf("state record of kind %d, want %d", r.B[0], tag)
		return
	}
	if r.B[1] != version {
		r.Err = fmt.Errorf("%w %d (this build reads %d)", ErrVersion, r.B[1], version)
		return
	}
	r.B = r.B[2:]
}

// F64 reads a float.
func (r *Reader) F64() float64 {
	if r.Err != nil {
		return 0
	}
	if len(r.B) < 8 {
		r.Err = ErrShort
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.B))
	r.B = r.B[8:]
	return f
}

// F64s reads a length and that many floats into dst (reused when large
// enough); max bounds the length.
func (r *Reader) F64s(dst []float64, max int) []float64 {
	n := r.U()
	if r.Err != nil {
		return dst[:0]
	}
	if n > uint64(max) || n > uint64(len(r.B)/8) {
		r.Err = fmt.Errorf("state record holds %d values, at most %d fit", n, max)
		return dst[:0]
	}
	if cap(dst) < int(n) {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = r.F64()
	}
	return dst
}

// U reads an unsigned varint.
func (r *Reader) U() uint64 {
	if r.Err != nil {
		return 0
	}
	u, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Err = ErrShort
		return 0
	}
	r.B = r.B[n:]
	return u
}

// I reads a signed varint.
func (r *Reader) I() int64 {
	if r.Err != nil {
		return 0
	}
	i, n := binary.Varint(r.B)
	if n <= 0 {
		r.Err = ErrShort
		return 0
	}
	r.B = r.B[n:]
	return i
}

// Bool reads a byte 0 or 1.
func (r *Reader) Bool() bool {
	if r.Err != nil {
		return false
	}
	if len(r.B) < 1 {
		r.Err = ErrShort
		return false
	}
	b := r.B[0]
	r.B = r.B[1:]
	return b != 0
}

// Done returns the sticky error, or an error when bytes are left over.
func (r *Reader) Done() error {
	if r.Err == nil && len(r.B) != 0 {
		r.Err = fmt.Errorf("%d unexpected bytes after the state record", len(r.B))
	}
	return r.Err
}

// TagStateEvents is the kind tag of stateevents.Tracker records. It is set
// apart from the list below (which grows with new members) at a value that
// list will not reach.
const TagStateEvents byte = 0x40

// Record kind tags, one per detector, so that a record is never restored
// into the wrong detector.
const (
	TagEWMA byte = iota + 1
	TagRobustZ
	TagSeasonal
	TagCUSUM
	TagPageHinkley
	TagLikelihood
	TagHST
	TagMahalanobis
	TagEnsemble
	TagCounter
	TagAlert
	TagRecord
	// TagKNNCAD was the removed knncad package's; kept so the tags after
	// it keep their values.
	TagKNNCAD
	TagRangeBreak
	TagLevelShift
)
