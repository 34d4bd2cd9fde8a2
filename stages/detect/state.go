package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// stateVersion is the version of the detect stage's per-series state in the
// changelog that this build writes. It reads stateVersion, version 2 (the
// ensemble's record without the class byte) and the robust z-score state
// of version 1 (migrated into the ensemble); a record of another version is
// not restored: the series starts cold and a warning is logged.
const stateVersion = 3

// errStateVersion marks a changelog record this build cannot read.
var errStateVersion = errors.New("unknown state version")

// errStateConfig marks a changelog record written under another detector
// configuration (members or window sizes changed): it starts cold.
var errStateConfig = errors.New("state of another detector configuration")

// appendState encodes st, version 3:
//
//	version u8 | kind u8 | class u8 (stateevents.Class; 0: an ensemble series)
//	class != 0: the rest, stateevents.(*Tracker).AppendBinary
//	class == 0, as version 2 after its kind:
//	points uvarint
//	counter: lastTS varint | last uvarint | resets uvarint
//	onset members uvarint | top member u8
//	ensemble: the rest, ensemble.(*Ensemble).AppendBinary
//
// Floats are IEEE 754 little endian, so a restored detector scores exactly
// as the one that wrote the record.
func appendState(dst []byte, st *seriesState) []byte {
	dst = append(dst, stateVersion, byte(st.kind))
	if st.se != nil {
		dst = append(dst, byte(st.se.Class()))
		dst, _ = st.se.AppendBinary(dst) // cannot fail: plain values
		return dst
	}
	dst = append(dst, 0)
	dst = binary.AppendUvarint(dst, st.points)
	dst = binary.AppendVarint(dst, st.counter.LastTS)
	dst = binary.AppendUvarint(dst, st.counter.Last)
	dst = binary.AppendUvarint(dst, st.counter.Resets)
	dst = binary.AppendUvarint(dst, uint64(st.onset))
	dst = append(dst, byte(st.top))
	dst, _ = st.e.AppendBinary(dst) // cannot fail: the members encode plain values
	return dst
}

// decodeState decodes a record written by appendState (or by the version 1
// and 2 stages) into a series state of metric.
func (d *Detect) decodeState(b []byte, metric string) (*seriesState, error) {
	if len(b) < 2 {
		return nil, errors.New("state record too short")
	}
	version := b[0]
	if version < 1 || version > stateVersion {
		return nil, fmt.Errorf("%w %d (this build reads 1 to %d)", errStateVersion, version, stateVersion)
	}
	st := &seriesState{kind: schemas.Kind(b[1])}
	b = b[2:]
	if version == 3 {
		if len(b) < 1 {
			return nil, errors.New("state record too short")
		}
		if class := stateevents.Class(b[0]); class != stateevents.ClassNone {
			return decodeTracker(st, class, b[1:], metric)
		}
		b = b[1:]
	}
	if st.kind != schemas.KindCounter && st.kind != schemas.KindGauge {
		return nil, fmt.Errorf("state record has kind %d", st.kind)
	}
	sh, err := d.ensembleOf(st.kind, metric)
	if err != nil {
		return nil, err
	}
	st.e = sh.New()
	r := stateReader{b: b}
	st.points = r.uvarint()
	st.counter.LastTS = r.varint()
	st.counter.Last = r.uvarint()
	st.counter.Resets = r.uvarint()
	if version == 1 {
		return st, decodeV1(&r, st)
	}
	st.onset = ensemble.Mask(r.uvarint())
	st.top = ensemble.Member(r.byte())
	if r.err != nil {
		return nil, r.err
	}
	if err := st.e.UnmarshalBinary(r.b); err != nil {
		return nil, fmt.Errorf("%w: %v", errStateConfig, err)
	}
	return st, nil
}

// decodeTracker restores the state events of a series whose record has
// class c; the metric must still be of that class.
func decodeTracker(st *seriesState, c stateevents.Class, b []byte, metric string) (*seriesState, error) {
	if got := stateevents.Classify(metric); got != c {
		return nil, fmt.Errorf("%w: a %s record on a metric of class %s", errStateConfig, c, got)
	}
	st.se = stateevents.New(c)
	if err := st.se.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return st, nil
}

// decodeV1 reads the rest of a version 1 record (robust z-score only):
//
//	alert: firing u8 | startsAt varint | above uvarint | below uvarint | peakZ f64
//	held uvarint | window: n uvarint, n × f64 (oldest first)
//
// and migrates it: the window seeds the ensemble's robust baseline and a
// firing alert stays on until it resolves, so it is not left unresolved.
func decodeV1(r *stateReader, st *seriesState) error {
	var m ensemble.Migration
	m.Firing = r.byte() == 1
	m.StartedAt = r.varint()
	r.uvarint() // above
	r.uvarint() // below
	r.float()   // peak z
	m.Held = int(r.uvarint())
	n := r.uvarint()
	if n > 1<<16 {
		return fmt.Errorf("state window of %d values is implausible", n)
	}
	m.Window = make([]float64, n)
	for i := range m.Window {
		m.Window[i] = r.float()
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("state record has %d trailing bytes", len(r.b))
	}
	if m.Firing {
		st.onset, st.top = 1<<ensemble.RobustZ, ensemble.RobustZ
	}
	return st.e.Migrate(m)
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

// groupStateVersion is the version of a multivariate group's changelog
// record (key: device, multivarPrefix+name, keys).
const groupStateVersion = 1

// appendGroupState encodes g, version 1:
//
//	version u8 | alert: firing u8 | startsAt varint | above uvarint | below uvarint | peakZ f64
//	held uvarint | slots: n uvarint, n × (ts varint, value f64) | model: the rest, multivar's record
func appendGroupState(dst []byte, g *groupState) []byte {
	dst = append(dst, groupStateVersion)
	firing := byte(0)
	if g.alert.Firing {
		firing = 1
	}
	dst = append(dst, firing)
	dst = binary.AppendVarint(dst, g.alert.StartsAt)
	dst = binary.AppendUvarint(dst, uint64(g.alert.Above))
	dst = binary.AppendUvarint(dst, uint64(g.alert.Below))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(g.alert.PeakZ))
	dst = binary.AppendUvarint(dst, uint64(g.held))
	dst = binary.AppendUvarint(dst, uint64(len(g.ts)))
	for i := range g.ts {
		dst = binary.AppendVarint(dst, g.ts[i])
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(g.vals[i]))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(g.onset[i]))
	}
	dst, _ = g.det.AppendBinary(dst) // cannot fail: plain values
	return dst
}

// decodeGroupState restores a record of appendGroupState into g, a fresh
// group of the configured size.
func decodeGroupState(b []byte, g *groupState) error {
	if len(b) < 1 {
		return errors.New("state record too short")
	}
	if b[0] != groupStateVersion {
		return fmt.Errorf("%w %d of a multivariate group (this build reads %d)", errStateVersion, b[0], groupStateVersion)
	}
	r := stateReader{b: b[1:]}
	g.alert.Firing = r.byte() == 1
	g.alert.StartsAt = r.varint()
	g.alert.Above = int32(r.uvarint())
	g.alert.Below = int32(r.uvarint())
	g.alert.PeakZ = r.float()
	g.held = int32(r.uvarint())
	n := r.uvarint()
	if r.err == nil && n != uint64(len(g.ts)) {
		return fmt.Errorf("%w: a group of %d series, configured %d", errStateConfig, n, len(g.ts))
	}
	for i := range g.ts {
		g.ts[i] = r.varint()
		g.vals[i] = r.float()
		g.onset[i] = r.float()
	}
	if r.err != nil {
		return r.err
	}
	if err := g.det.UnmarshalBinary(r.b); err != nil {
		return fmt.Errorf("%w: %v", errStateConfig, err)
	}
	return nil
}
