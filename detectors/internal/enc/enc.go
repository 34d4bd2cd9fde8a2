// Package enc gives the detectors the shared state codec
// (internal/binenc, which the detect stage's changelog uses too) under the
// names they were written against, and holds their record kind tags. Floats
// are written as IEEE 754 bits, so a restored detector scores exactly as
// the one that wrote it.
package enc

import "github.com/telekernel/telekernel/internal/binenc"

// ErrShort is returned when a state record ends early.
var ErrShort = binenc.ErrShort

// ErrVersion is wrapped by Reader.Header when a record has another version.
var ErrVersion = binenc.ErrVersion

// Reader decodes a record; the first error sticks and later reads return
// zero values.
type Reader = binenc.Reader

// AppendHeader appends a record header: a kind tag and a version byte.
func AppendHeader(dst []byte, tag, version byte) []byte {
	return binenc.AppendHeader(dst, tag, version)
}

// AppendF64 appends f as 8 bytes.
func AppendF64(dst []byte, f float64) []byte { return binenc.AppendF64(dst, f) }

// AppendF64s appends a length and the values.
func AppendF64s(dst []byte, fs []float64) []byte { return binenc.AppendF64s(dst, fs) }

// AppendU appends an unsigned varint.
func AppendU(dst []byte, u uint64) []byte { return binenc.AppendU(dst, u) }

// AppendI appends a signed varint.
func AppendI(dst []byte, i int64) []byte { return binenc.AppendI(dst, i) }

// AppendBool appends a byte 0 or 1.
func AppendBool(dst []byte, b bool) []byte { return binenc.AppendBool(dst, b) }

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
	TagDensity
)
