// Package binenc is the one binary codec of the versioned state records
// that telekernel keeps across restarts: the detectors' state
// (detectors/internal/enc adds their kind tags) and the detect stage's
// changelog records (pipeline/state.go). Integers are varints, floats are
// IEEE 754 bits little endian, so a restored detector scores exactly as the
// one that wrote it.
//
// It lives under internal/ as a leaf utility: it imports nothing of the
// project, does no I/O and reads no clock, so the pure detectors/ packages
// and the stage runtime can both import it without either importing the
// other (detectors/internal cannot be imported from pipeline/, and schemas/
// holds the contracts between components, not a storage format).
package binenc

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
func (r *Reader) F64() float64 { return read(r, f64At) }

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
func (r *Reader) U() uint64 { return read(r, binary.Uvarint) }

// I reads a signed varint.
func (r *Reader) I() int64 { return read(r, binary.Varint) }

// Byte reads one byte.
func (r *Reader) Byte() byte { return read(r, byteAt) }

// read decodes one value at the start of r.B with dec, which returns the
// value and the number of bytes it took (0 or less: the record is too
// short, or a varint overflows), and moves past it. After an error it
// returns the zero value and reads nothing.
func read[T any](r *Reader, dec func([]byte) (T, int)) T {
	var zero T
	if r.Err != nil {
		return zero
	}
	v, n := dec(r.B)
	if n <= 0 {
		r.Err = ErrShort
		return zero
	}
	r.B = r.B[n:]
	return v
}

// f64At decodes the 8-byte float at the start of b.
func f64At(b []byte) (float64, int) {
	if len(b) < 8 {
		return 0, 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8
}

// byteAt decodes the byte at the start of b.
func byteAt(b []byte) (byte, int) {
	if len(b) < 1 {
		return 0, 0
	}
	return b[0], 1
}

// Bool reads a byte 0 or 1 (any byte but 0 is true).
func (r *Reader) Bool() bool {
	return r.Byte() != 0
}

// Done returns the sticky error, or an error when bytes are left over.
func (r *Reader) Done() error {
	if r.Err == nil && len(r.B) != 0 {
		r.Err = fmt.Errorf("%d unexpected bytes after the state record", len(r.B))
	}
	return r.Err
}
