package maintenance

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/schemas"
)

// State record kind tag and version of a series. The tag is outside the
// range of detectors/internal/enc's tags.
// A series whose device threshold has a change pending (Tracker.Observe:
// thrNext) writes version 2, version 1's record and the pending threshold
// and its time; the others write version 1, which builds before the
// pending threshold read. A counter signal with a bad read pending
// (series.glitch) writes version 3: version 1's record, whether a
// threshold is pending (then it and its time), and the glitch state
// (rate.(*Glitch).AppendBinary).
const (
	tagSeries            byte = 0x71
	seriesVersion        byte = 1
	seriesVersionPending byte = 2
	seriesVersionGlitch  byte = 3
)

// ErrIncompatibleState is wrapped by RestoreState when a state was written
// by another state version, for a signal that is no longer configured or
// with a daily profile of another bucket or season: the series should
// start cold.
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
	version := seriesVersion
	switch {
	case s.glitch.Pending() != 0:
		version = seriesVersionGlitch
	case s.hasNext:
		version = seriesVersionPending
	}
	dst = enc.AppendHeader(dst, tagSeries, version)
	name := t.cfg.Signals[s.sig].Name
	dst = enc.AppendString(dst, name)
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
	dst = append(dst, last...)
	if version == seriesVersionGlitch {
		dst = enc.AppendBool(dst, s.hasNext)
	}
	if s.hasNext {
		dst = enc.AppendF64(dst, s.thrNext)
		dst = enc.AppendI(dst, s.thrNextTS)
	}
	if version == seriesVersionGlitch {
		dst, _ = s.glitch.AppendBinary(dst) // cannot fail: plain values
	}
	return dst, true
}

// RestoreState loads the state of series k written by AppendState. Errors
// wrap ErrIncompatibleState for another state version, a signal that is
// no longer configured or a daily profile learned under another bucket or
// season. Buckets beyond Config.Window (a state written under a longer
// window) are dropped, oldest first, and a device threshold that is not
// finite is dropped.
func (t *Tracker) RestoreState(k schemas.SeriesKey, b []byte) error {
	r := enc.Reader{B: b}
	version := seriesVersion
	if len(b) >= 2 && (b[1] == seriesVersionPending || b[1] == seriesVersionGlitch) {
		version = b[1]
	}
	r.Header(tagSeries, version)
	str := func() string { return enc.ReadString(&r) }
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
	if version == seriesVersionPending || version == seriesVersionGlitch && r.Bool() {
		s.thrNext, s.thrNextTS, s.hasNext = r.F64(), r.I(), true
	}
	if version == seriesVersionGlitch && r.Err == nil {
		var err error
		if r.B, err = s.glitch.Decode(r.B); err != nil {
			return fmt.Errorf("maintenance: state of %s: %w", k, err)
		}
		if p := s.glitch.Pending(); p == 0 || p >= s.ctr.LastTS {
			// The bad read came after the value before it.
			return fmt.Errorf("maintenance: state of %s: counter read pending after %d, its last sample at %d", k, p, s.ctr.LastTS)
		}
		s.ctr.Resets = 1 // the bad read's, which a glitch takes back
	}
	if err := r.Done(); err != nil {
		if errors.Is(err, enc.ErrVersion) {
			return fmt.Errorf("%w: %s: %w", ErrIncompatibleState, k, err)
		}
		return fmt.Errorf("maintenance: state of %s: %w", k, err)
	}
	if s.sig < 0 {
		return fmt.Errorf("%w: state of %s is of signal %q, which is not configured", ErrIncompatibleState, k, name)
	}
	// An earlier build took a threshold Observe refuses now (NaN, ±Inf,
	// out of thresholdBounds): no threshold.
	thr := t.cfg.Signals[s.sig].DeviceThresholdMetric
	if s.hasThr && !plausibleThreshold(thr, s.devThr) {
		s.devThr, s.hasThr = 0, false
	}
	if s.hasNext && !plausibleThreshold(thr, s.thrNext) {
		s.hasNext = false
	}
	if s.profile != nil && len(s.profile) != t.period() {
		// Learned under another bucket or season: its phases are not this
		// configuration's (closeBucket would index beyond them).
		return fmt.Errorf("%w: state of %s has a profile of %d phases, the configuration %d", ErrIncompatibleState, k, len(s.profile), t.period())
	}
	if len(s.bt) != len(s.by) || len(s.bc) != len(s.bt) {
		return fmt.Errorf("maintenance: state of %s has %d bucket times, %d values and %d covariates", k, len(s.bt), len(s.by), len(s.bc))
	}
	if n := len(s.bt) - t.cfg.Window; n > 0 {
		// Written under a longer window: the trend is fitted over the
		// last Window buckets (closeBucket drops one a bucket only).
		s.bt, s.by, s.bc = s.bt[n:], s.by[n:], s.bc[n:]
	}
	if s.open {
		if err := json.Unmarshal([]byte(last), &s.last); err != nil {
			return fmt.Errorf("maintenance: state of %s: last event: %w", k, err)
		}
		// The next event of the case is made from it: a restored one
		// that could not be written would stop the stage at that event.
		if err := s.last.Validate(); err != nil {
			return fmt.Errorf("maintenance: state of %s: last event: %w", k, err)
		}
		if s.last.Device != k.Device || s.last.Metric != k.Metric || s.last.Signal != name {
			return fmt.Errorf("maintenance: state of %s: last event is of %s %s, signal %s", k, s.last.Device, s.last.Metric, s.last.Signal)
		}
	}
	if t.series[k] == nil {
		t.addKey(k, seriesList)
	}
	t.series[k] = s
	return nil
}

// Forget drops series k (a tombstone was restored).
func (t *Tracker) Forget(k schemas.SeriesKey) {
	if t.series[k] != nil {
		delete(t.series, k)
		t.dropKey(k, seriesList)
	}
}

// ForgetDevice drops a device's readings (a tombstone was restored).
func (t *Tracker) ForgetDevice(device string) {
	d := t.keysOf(device)
	if d == nil {
		return
	}
	for _, k := range slices.Clone(d.covs) {
		delete(t.covs, k)
		t.dropKey(k, covList)
	}
	for _, k := range slices.Clone(d.psus) {
		delete(t.psus, k)
		t.dropKey(k, psuList)
	}
}

// State record kind tag and version of a device's readings.
const (
	tagDevice     byte = 0x73
	deviceVersion byte = 1
)

// TakeDirtyDevices calls fn with every device whose readings (the latest
// covariate values and PSU readings, which series states do not hold)
// changed since the last call, in name order; AppendDeviceState of one
// left without readings reports false (write a tombstone).
func (t *Tracker) TakeDirtyDevices(fn func(device string)) {
	devs := make([]string, 0, len(t.devDirty))
	for d := range t.devDirty {
		devs = append(devs, d)
	}
	slices.Sort(devs)
	clear(t.devDirty)
	for _, d := range devs {
		fn(d)
	}
}

// AppendDeviceState appends the readings of device to dst, sorted so the
// same readings give the same bytes; ok is false when there are none.
func (t *Tracker) AppendDeviceState(dst []byte, device string) (_ []byte, ok bool) {
	d := t.keysOf(device)
	if d == nil || len(d.covs)+len(d.psus) == 0 {
		return dst, false
	}
	covs, psus := slices.Clone(d.covs), slices.Clone(d.psus)
	byKey := func(a, b schemas.SeriesKey) int {
		return cmp.Or(cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Keys, b.Keys))
	}
	slices.SortFunc(covs, byKey)
	slices.SortFunc(psus, byKey)
	str := func(s string) {
		dst = enc.AppendString(dst, s)
	}
	dst = enc.AppendHeader(dst, tagDevice, deviceVersion)
	dst = enc.AppendU(dst, uint64(len(covs)))
	for _, k := range covs {
		c := t.covs[k]
		str(k.Metric)
		str(k.Keys)
		dst = enc.AppendF64(dst, c.v)
		dst = enc.AppendI(dst, c.ts)
	}
	dst = enc.AppendU(dst, uint64(len(psus)))
	for _, k := range psus {
		p := t.psus[k]
		str(k.Keys)
		for _, v := range []float64{p.out, p.v, p.i, p.p} {
			dst = enc.AppendF64(dst, v)
		}
		for _, v := range []int64{p.outTS, p.vTS, p.iTS, p.pTS} {
			dst = enc.AppendI(dst, v)
		}
	}
	return dst, true
}

// RestoreDeviceState loads a device's readings written by
// AppendDeviceState, in place of those it held; a covariate reading that
// is not finite is dropped. Errors wrap ErrIncompatibleState for another
// version.
func (t *Tracker) RestoreDeviceState(device string, b []byte) error {
	r := enc.Reader{B: b}
	r.Header(tagDevice, deviceVersion)
	str := func() string { return enc.ReadString(&r) }
	covs := map[schemas.SeriesKey]covReading{}
	for n, i := r.U(), uint64(0); i < n && r.Err == nil; i++ {
		k := schemas.SeriesKey{Device: device, Metric: str(), Keys: str()}
		c := covReading{v: r.F64(), ts: r.I()}
		if finite(c.v) { // an earlier build kept ±Inf (Observe drops it now)
			covs[k] = c
		}
	}
	psus := map[schemas.SeriesKey]*psuReading{}
	for n, i := r.U(), uint64(0); i < n && r.Err == nil; i++ {
		k := schemas.SeriesKey{Device: device, Keys: str()}
		p := &psuReading{}
		p.out, p.v, p.i, p.p = r.F64(), r.F64(), r.F64(), r.F64()
		p.outTS, p.vTS, p.iTS, p.pTS = r.I(), r.I(), r.I(), r.I()
		psus[k] = p
	}
	if err := r.Done(); err != nil {
		if errors.Is(err, enc.ErrVersion) {
			return fmt.Errorf("%w: device %s: %w", ErrIncompatibleState, device, err)
		}
		return fmt.Errorf("maintenance: readings of device %s: %w", device, err)
	}
	// The record is all of the device's readings: an earlier record of
	// its key restored before it may hold some since expired.
	t.ForgetDevice(device)
	for k, c := range covs {
		t.covs[k] = c
		t.addKey(k, covList)
	}
	for k, p := range psus {
		t.psus[k] = p
		t.addKey(k, psuList)
	}
	return nil
}
