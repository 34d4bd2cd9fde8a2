package maintenance

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/schemas"
)

// State record kind tag and version of a series. The tag is outside the
// range of detectors/internal/enc's tags.
const (
	tagSeries     byte = 0x71
	seriesVersion byte = 1
)

// ErrIncompatibleState is wrapped by RestoreState when a state was written
// by another state version or for a signal that is no longer configured:
// the series should start cold.
var ErrIncompatibleState = errors.New("incompatible maintenance state")

// maxState bounds the floats of one restored slice.
const maxState = 1 << 16

// TakeDirty calls fn with every series changed or forgotten since the last
// call; AppendState of a forgotten one reports false (write a tombstone).
func (t *Tracker) TakeDirty(fn func(k schemas.SeriesKey)) {
	for _, k := range t.dirty {
		if s := t.series[k]; s != nil {
			s.dirty = false
		}
		fn(k)
	}
	t.dirty = t.dirty[:0]
}

// AppendState appends the state of series k to dst; ok is false when the
// tracker does not hold it (it was forgotten: write a tombstone).
func (t *Tracker) AppendState(dst []byte, k schemas.SeriesKey) (_ []byte, ok bool) {
	s := t.series[k]
	if s == nil {
		return dst, false
	}
	dst = enc.AppendHeader(dst, tagSeries, seriesVersion)
	name := t.cfg.Signals[s.sig].Name
	dst = enc.AppendU(dst, uint64(len(name)))
	dst = append(dst, name...)
	dst = enc.AppendI(dst, s.bStart)
	dst = enc.AppendF64s(dst, s.vals)
	dst = enc.AppendF64s(dst, s.bt)
	dst = enc.AppendF64s(dst, s.by)
	dst = enc.AppendF64s(dst, s.baseVals)
	dst = enc.AppendF64s(dst, s.basePh)
	dst = enc.AppendF64s(dst, s.profile)
	dst = enc.AppendF64s(dst, s.cvals)
	dst = enc.AppendF64s(dst, s.bc)
	dst = enc.AppendF64s(dst, s.baseCov)
	dst = enc.AppendF64(dst, s.beta)
	dst = enc.AppendF64(dst, s.covBase)
	dst = enc.AppendBool(dst, s.hasCov)
	dst = enc.AppendF64(dst, s.baseline)
	dst = enc.AppendBool(dst, s.hasBase)
	dst = enc.AppendF64(dst, s.devThr)
	dst = enc.AppendBool(dst, s.hasThr)
	dst = enc.AppendBool(dst, s.open)
	dst = enc.AppendBool(dst, s.failedHold)
	dst = enc.AppendU(dst, uint64(s.calm))
	dst = enc.AppendI(dst, s.lastTS)
	dst = enc.AppendI(dst, s.ctr.LastTS)
	dst = enc.AppendU(dst, s.ctr.Last)
	var last []byte
	if s.open {
		last, _ = json.Marshal(&s.last)
	}
	dst = enc.AppendU(dst, uint64(len(last)))
	return append(dst, last...), true
}

// RestoreState loads the state of series k written by AppendState. Errors
// wrap ErrIncompatibleState for another state version or a signal that is
// no longer configured.
func (t *Tracker) RestoreState(k schemas.SeriesKey, b []byte) error {
	r := enc.Reader{B: b}
	r.Header(tagSeries, seriesVersion)
	str := func() string {
		n := r.U()
		if r.Err != nil {
			return ""
		}
		if n > uint64(len(r.B)) {
			r.Err = enc.ErrShort
			return ""
		}
		s := string(r.B[:n])
		r.B = r.B[n:]
		return s
	}
	name := str()
	s := &series{key: k, sig: -1}
	for i, sig := range t.cfg.Signals {
		if sig.Name == name {
			s.sig = i
		}
	}
	s.bStart = r.I()
	s.vals = r.F64s(nil, maxState)
	s.bt = r.F64s(nil, maxState)
	s.by = r.F64s(nil, maxState)
	s.baseVals = r.F64s(nil, maxState)
	s.basePh = r.F64s(nil, maxState)
	s.profile = r.F64s(nil, maxState)
	if len(s.profile) == 0 {
		s.profile = nil
	}
	s.cvals = r.F64s(nil, maxState)
	s.bc = r.F64s(nil, maxState)
	s.baseCov = r.F64s(nil, maxState)
	s.beta = r.F64()
	s.covBase = r.F64()
	s.hasCov = r.Bool()
	s.baseline = r.F64()
	s.hasBase = r.Bool()
	s.devThr = r.F64()
	s.hasThr = r.Bool()
	s.open = r.Bool()
	s.failedHold = r.Bool()
	s.calm = int(r.U())
	s.lastTS = r.I()
	s.ctr.LastTS = r.I()
	s.ctr.Last = r.U()
	last := str()
	if err := r.Done(); err != nil {
		if errors.Is(err, enc.ErrVersion) {
			return fmt.Errorf("%w: %s: %w", ErrIncompatibleState, k, err)
		}
		return fmt.Errorf("maintenance: state of %s: %w", k, err)
	}
	if s.sig < 0 {
		return fmt.Errorf("%w: state of %s is of signal %q, which is not configured", ErrIncompatibleState, k, name)
	}
	if len(s.bt) != len(s.by) || len(s.bc) != len(s.bt) {
		return fmt.Errorf("maintenance: state of %s has %d bucket times, %d values and %d covariates", k, len(s.bt), len(s.by), len(s.bc))
	}
	if s.open {
		if err := json.Unmarshal([]byte(last), &s.last); err != nil {
			return fmt.Errorf("maintenance: state of %s: last event: %w", k, err)
		}
	}
	t.series[k] = s
	return nil
}

// Forget drops series k (a tombstone was restored).
func (t *Tracker) Forget(k schemas.SeriesKey) { delete(t.series, k) }
