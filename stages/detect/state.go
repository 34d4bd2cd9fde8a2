package detect

import (
	"errors"
	"fmt"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/schemas"
)

// stateVersion is the version of the detect stage's per-series state in the
// changelog that this build writes; an error or discard counter's record,
// which carries its quiet rule, is stateVersionQuiet, and an optic
// power's, which carries its envelope rule, stateVersionDrift, and another
// counter's that has learned how its device refreshes it
// stateVersionRefresh, and an error counter's while a decrease on it is
// pending (a glitch or a reset: rate.Glitch) stateVersionGlitch, and a
// counter's whose refresh told a glitch at its last sample
// (rate.Refresh.Glitched) stateVersionRefreshGlitched. It reads them all,
// version 2 (the ensemble's record without the class byte) and the robust
// z-score state of version 1 (migrated into the ensemble); a record of
// another version is not restored: the series starts cold and a warning is
// logged.
const (
	stateVersion        = 3
	stateVersionQuiet   = 4
	stateVersionDrift   = 5
	stateVersionRefresh = 6
	stateVersionGlitch  = 7
	// stateVersionRefreshGlitched is version 6's record whose refresh
	// state holds a flag the builds before it refuse as a decode error,
	// which stopped their restore: with a version of its own, they start
	// that series cold, with a warning, as for any record they do not
	// read. It is written for one sample after a glitch.
	stateVersionRefreshGlitched = 8
)

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
// A series with a quiet rule (an error or discard counter) writes version
// 4: the version byte, then the rule (length uvarint, since varint,
// rate.(*Quiet).AppendBinary), then the version 3 record after its version
// byte, so the rest reads as before. A series with an envelope rule (an
// optic's power) writes version 5 alike, with the rule
// (drift.(*Drift).AppendBinary) in place of the quiet one. Another
// counter whose rate.Refresh has learned anything writes version 6 alike,
// with the refresh state (length uvarint, rate.(*Refresh).AppendBinary).
// A series with a quiet rule whose counter has a decrease pending (the
// next sample tells a glitch from a reset, rate.Glitch: one sample
// interval) writes version 7: version 4's record with the decrease
// (length uvarint, rate.(*Glitch).AppendBinary) after the rule. A
// counter's version 6 record whose refresh told a glitch at the last
// sample (rate.Refresh.Glitched) is version 8.
//
// Integers are varints and floats IEEE 754 little endian (internal/binenc,
// the detectors' codec), so a restored detector scores exactly as the one
// that wrote the record.
func appendState(dst []byte, st *seriesState) []byte {
	switch {
	case st.quiet != nil && st.quiet.glitch.Pending() != 0:
		dst = appendGlitch(appendQuiet(append(dst, stateVersionGlitch), st.quiet), st.quiet)
	case st.quiet != nil:
		dst = appendQuiet(append(dst, stateVersionQuiet), st.quiet)
	case st.drift != nil:
		dst = appendRule(append(dst, stateVersionDrift), st.drift.since, &st.drift.r)
	case st.kind == schemas.KindCounter && st.refresh.Holding():
		body, _ := st.refresh.AppendBinary(nil) // cannot fail: plain values
		v := byte(stateVersionRefresh)
		if st.refresh.Glitched() {
			v = stateVersionRefreshGlitched
		}
		dst = append(binenc.AppendU(append(dst, v), uint64(len(body))), body...)
	default:
		dst = append(dst, stateVersion)
	}
	dst = append(dst, byte(st.kind))
	if st.se != nil {
		dst = append(dst, byte(st.se.Class()))
		dst, _ = st.se.AppendBinary(dst) // cannot fail: plain values
		return dst
	}
	dst = append(dst, 0)
	dst = binenc.AppendU(dst, st.points)
	dst = binenc.AppendI(dst, st.counter.LastTS)
	dst = binenc.AppendU(dst, st.counter.Last)
	dst = binenc.AppendU(dst, st.counter.Resets)
	dst = binenc.AppendU(dst, uint64(st.onset))
	dst = append(dst, byte(st.top))
	dst, _ = st.e.AppendBinary(dst) // cannot fail: the members encode plain values
	return dst
}

// decodeState decodes a record written by appendState (or by the version 1
// and 2 stages) into a series state of metric. A record of a class other
// than the metric's (an ensemble's on a metric now followed as a state,
// or the reverse) is errStateConfig.
func (d *Stage) decodeState(b []byte, metric string) (*seriesState, error) {
	if len(b) < 2 {
		return nil, binenc.ErrShort
	}
	version := b[0]
	if version < 1 || version > stateVersionRefreshGlitched {
		return nil, fmt.Errorf("%w %d (this build reads 1 to %d)", errStateVersion, version, stateVersionRefreshGlitched)
	}
	var quiet, drift, refresh, glitch []byte
	if version >= stateVersionQuiet {
		what, rule := "quiet counter", &quiet
		switch version {
		case stateVersionDrift:
			what, rule = "drift", &drift
		case stateVersionRefresh, stateVersionRefreshGlitched:
			what, rule = "counter refresh", &refresh
		}
		var err error
		if *rule, b, err = cutRule(b[1:], what); err != nil {
			return nil, err
		}
		if version == stateVersionGlitch {
			if glitch, b, err = cutRule(b, "counter glitch"); err != nil {
				return nil, err
			}
		}
		version = stateVersion
		if len(b) < 1 {
			return nil, binenc.ErrShort
		}
		b = append([]byte{version}, b...)
	}
	st := &seriesState{kind: schemas.Kind(b[1])}
	b = b[2:]
	if version == 3 {
		if len(b) < 1 {
			return nil, binenc.ErrShort
		}
		if class := stateevents.Class(b[0]); class != stateevents.ClassNone {
			return decodeTracker(st, class, b[1:], metric)
		}
		b = b[1:]
	}
	if st.kind != schemas.KindCounter && st.kind != schemas.KindGauge {
		return nil, fmt.Errorf("state record has kind %d", st.kind)
	}
	if c := stateevents.Classify(metric); c == stateevents.ClassCarrier || c.IsLevel() || c.IsStatus() {
		// Written before this build followed the metric as a state
		// (seriesOf makes it a Tracker now): starts cold, as decodeTracker
		// does for the reverse.
		return nil, fmt.Errorf("%w: an ensemble record on a metric of class %s", errStateConfig, c)
	}
	sh, err := d.ensembleOf(st.kind, metric)
	if err != nil {
		return nil, err
	}
	st.e = sh.New()
	st.quiet = d.newQuietState(st.kind, metric)
	st.drift = d.newDriftState(st.kind, metric)
	if err := decodeQuiet(quiet, glitch, st); err != nil {
		return nil, err
	}
	if err := decodeDrift(drift, st); err != nil {
		return nil, err
	}
	if refresh != nil && st.kind == schemas.KindCounter && st.quiet == nil {
		if rest, err := st.refresh.Decode(refresh); err != nil {
			return nil, err
		} else if len(rest) != 0 {
			return nil, fmt.Errorf("cannot decode counter refresh state: %d bytes left over", len(rest))
		}
	}
	r := binenc.Reader{B: b}
	st.points = r.U()
	st.counter.LastTS = r.I()
	st.counter.Last = r.U()
	st.counter.Resets = r.U()
	if version == 1 {
		return st, decodeV1(&r, st)
	}
	st.onset = ensemble.Mask(r.U())
	st.top = ensemble.Member(r.Byte())
	if r.Err != nil {
		return nil, r.Err
	}
	if q := st.quiet; q != nil && q.glitch.Pending() != 0 && (q.glitch.Pending() >= st.counter.LastTS || st.counter.Resets == 0) {
		// The decrease came after the value before it, and was counted.
		return nil, fmt.Errorf("cannot decode counter glitch state: decrease pending at %d, the counter's last sample at %d after %d resets",
			q.glitch.Pending(), st.counter.LastTS, st.counter.Resets)
	}
	if err := st.e.UnmarshalBinary(r.B); err != nil {
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
		// As an ensemble's record that does not decode: the series starts
		// cold (Restore warns), the stage goes on.
		return nil, fmt.Errorf("%w: %v", errStateConfig, err)
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
func decodeV1(r *binenc.Reader, st *seriesState) error {
	var m ensemble.Migration
	m.Firing = r.Byte() == 1
	m.StartedAt = r.I()
	r.U()   // above
	r.U()   // below
	r.F64() // peak z
	m.Held = int(r.U())
	m.Window = r.F64s(nil, 1<<16)
	if err := r.Done(); err != nil {
		return err
	}
	if m.Firing {
		st.onset, st.top = 1<<ensemble.RobustZ, ensemble.RobustZ
	}
	return st.e.Migrate(m)
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
	dst = binenc.AppendBool(dst, g.alert.Firing)
	dst = binenc.AppendI(dst, g.alert.StartsAt)
	dst = binenc.AppendU(dst, uint64(g.alert.Above))
	dst = binenc.AppendU(dst, uint64(g.alert.Below))
	dst = binenc.AppendF64(dst, g.alert.Peak)
	dst = binenc.AppendU(dst, uint64(g.held))
	dst = binenc.AppendU(dst, uint64(len(g.ts)))
	for i := range g.ts {
		dst = binenc.AppendI(dst, g.ts[i])
		dst = binenc.AppendF64(dst, g.vals[i])
		dst = binenc.AppendF64(dst, g.onset[i])
	}
	dst, _ = g.det.AppendBinary(dst) // cannot fail: plain values
	return dst
}

// decodeGroupState restores a record of appendGroupState into g, a fresh
// group of the configured size.
func decodeGroupState(b []byte, g *groupState) error {
	if len(b) < 1 {
		return binenc.ErrShort
	}
	if b[0] != groupStateVersion {
		return fmt.Errorf("%w %d of a multivariate group (this build reads %d)", errStateVersion, b[0], groupStateVersion)
	}
	r := binenc.Reader{B: b[1:]}
	g.alert.Firing = r.Byte() == 1
	g.alert.StartsAt = r.I()
	g.alert.Above = int32(r.U())
	g.alert.Below = int32(r.U())
	g.alert.Peak = r.F64()
	g.held = int32(r.U())
	n := r.U()
	if r.Err == nil && n != uint64(len(g.ts)) {
		return fmt.Errorf("%w: a group of %d series, configured %d", errStateConfig, n, len(g.ts))
	}
	for i := range g.ts {
		g.ts[i] = r.I()
		g.vals[i] = r.F64()
		g.onset[i] = r.F64()
	}
	if r.Err != nil {
		return r.Err
	}
	if err := g.det.UnmarshalBinary(r.B); err != nil {
		return fmt.Errorf("%w: %v", errStateConfig, err)
	}
	return nil
}
