package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/schemas"
)

// stateVersion is the version of the detect stage's per-series state in the
// changelog. A record of another version is not restored: the series starts
// cold and a warning is logged.
const stateVersion = 1

// errStateVersion marks a changelog record this build cannot read.
var errStateVersion = errors.New("unknown state version")

// stateKey encodes a series as a changelog key: device, metric and keys
// separated by NUL, which none of them may contain.
func stateKey(dst []byte, k schemas.SeriesKey) []byte {
	dst = append(dst, k.Device...)
	dst = append(dst, 0)
	dst = append(dst, k.Metric...)
	dst = append(dst, 0)
	return append(dst, k.Keys...)
}

func parseStateKey(b []byte) (schemas.SeriesKey, error) {
	parts := strings.SplitN(string(b), "\x00", 3)
	if len(parts) != 3 {
		return schemas.SeriesKey{}, fmt.Errorf("changelog key %q is not device\\0metric\\0keys", b)
	}
	return schemas.SeriesKey{Device: parts[0], Metric: parts[1], Keys: parts[2]}, nil
}

// appendState encodes st, version stateVersion:
//
//	version u8 | kind u8 | points uvarint
//	counter: lastTS varint | last uvarint | resets uvarint
//	alert: firing u8 | startsAt varint | above uvarint | below uvarint | peakZ f64
//	held uvarint | window: n uvarint, n × f64 (oldest first)
//
// Floats are IEEE 754 little endian, so a restored detector scores exactly
// as the one that wrote the record.
func appendState(dst []byte, st *seriesState, scratch []float64) ([]byte, []float64) {
	dst = append(dst, stateVersion, byte(st.kind))
	dst = binary.AppendUvarint(dst, st.points)
	dst = binary.AppendVarint(dst, st.counter.LastTS)
	dst = binary.AppendUvarint(dst, st.counter.Last)
	dst = binary.AppendUvarint(dst, st.counter.Resets)
	firing := byte(0)
	if st.alert.Firing {
		firing = 1
	}
	dst = append(dst, firing)
	dst = binary.AppendVarint(dst, st.alert.StartsAt)
	dst = binary.AppendUvarint(dst, uint64(st.alert.Above))
	dst = binary.AppendUvarint(dst, uint64(st.alert.Below))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(st.alert.PeakZ))
	dst = binary.AppendUvarint(dst, uint64(st.held))
	scratch = st.z.AppendWindow(scratch[:0])
	dst = binary.AppendUvarint(dst, uint64(len(scratch)))
	for _, v := range scratch {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst, scratch
}

// decodeState decodes a record written by appendState into a series state
// whose detector is configured by cfg for its kind.
func decodeState(b []byte, cfg *DetectConfig) (*seriesState, error) {
	if len(b) < 2 {
		return nil, errors.New("state record too short")
	}
	if b[0] != stateVersion {
		return nil, fmt.Errorf("%w %d (this build reads %d)", errStateVersion, b[0], stateVersion)
	}
	st := &seriesState{kind: schemas.Kind(b[1])}
	r := stateReader{b: b[2:]}
	st.points = r.uvarint()
	st.counter.LastTS = r.varint()
	st.counter.Last = r.uvarint()
	st.counter.Resets = r.uvarint()
	st.alert.Firing = r.byte() == 1
	st.alert.StartsAt = r.varint()
	st.alert.Above = int32(r.uvarint())
	st.alert.Below = int32(r.uvarint())
	st.alert.PeakZ = r.float()
	st.held = int32(r.uvarint())
	n := r.uvarint()
	if n > 1<<16 {
		return nil, fmt.Errorf("state window of %d values is implausible", n)
	}
	window := make([]float64, n)
	for i := range window {
		window[i] = r.float()
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("state record has %d trailing bytes", len(r.b))
	}
	zc := cfg.Gauges
	switch st.kind {
	case schemas.KindCounter:
		zc = cfg.Counters
	case schemas.KindGauge:
	default:
		return nil, fmt.Errorf("state record has kind %d", st.kind)
	}
	st.z = robustz.New(zc)
	if err := st.z.SetWindow(window); err != nil {
		// The window shrank in the config: keep the newest values.
		st.z.SetWindow(window[len(window)-zc.Window:])
	}
	return st, nil
}

// stateReader reads the fields of a state record, remembering the first
// error.
type stateReader struct {
	b   []byte
	err error
}

var errShortState = errors.New("state record truncated")

func (r *stateReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *stateReader) float() float64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *stateReader) fail() {
	if r.err == nil {
		r.err = errShortState
	}
	r.b = nil
}
