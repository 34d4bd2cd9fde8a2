package power

import (
	"errors"
	"fmt"
	"slices"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/detectors/rate"
)

// State record kind tag and version of a Model. The tag is outside the
// range of detectors/internal/enc's tags.
const (
	tagModel     byte = 0x70
	modelVersion byte = 1
)

// ErrIncompatibleState is wrapped by RestoreState when a state was written
// by another state version or under other priors (another set of speeds):
// the model should start from its priors.
var ErrIncompatibleState = errors.New("incompatible power model state")

// AppendState appends the model's state (sufficient statistics, solution,
// residual scale, point count) to dst. The model's priors are part of the
// configuration and are not written; the speeds are, so a restore under
// other priors is refused rather than misread.
func (m *Model) AppendState(dst []byte) []byte {
	dst = enc.AppendHeader(dst, tagModel, modelVersion)
	dst = enc.AppendU(dst, uint64(len(m.speeds)))
	for _, s := range m.speeds {
		dst = enc.AppendString(dst, s)
	}
	dst = enc.AppendF64s(dst, m.a)
	dst = enc.AppendF64s(dst, m.b)
	dst = enc.AppendF64s(dst, m.theta)
	dst = enc.AppendF64(dst, m.sigma)
	dst = enc.AppendU(dst, m.points)
	return enc.AppendU(dst, m.sinceSolve)
}

// RestoreState loads a state written by AppendState. Errors wrap
// ErrIncompatibleState (and enc.ErrVersion for another state version).
func (m *Model) RestoreState(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(tagModel, modelVersion)
	n := int(r.U())
	if r.Err == nil && n != len(m.speeds) {
		return fmt.Errorf("%w: model %s state has %d speeds, the configuration %d", ErrIncompatibleState, m.name, n, len(m.speeds))
	}
	for i := 0; i < n && r.Err == nil; i++ {
		l := int(r.U())
		if r.Err != nil || l > len(r.B) {
			return fmt.Errorf("power: model %s state: %w", m.name, enc.ErrShort)
		}
		if s := string(r.B[:l]); s != m.speeds[i] {
			return fmt.Errorf("%w: model %s state has speed %s where the configuration has %s", ErrIncompatibleState, m.name, s, m.speeds[i])
		}
		r.B = r.B[l:]
	}
	a := r.F64s(nil, m.n*m.n)
	bb := r.F64s(nil, m.n)
	th := r.F64s(nil, m.n)
	sigma := r.F64()
	points := r.U()
	since := r.U()
	if err := r.Done(); err != nil {
		if errors.Is(err, enc.ErrVersion) {
			return fmt.Errorf("%w: model %s: %w", ErrIncompatibleState, m.name, err)
		}
		return fmt.Errorf("power: model %s state: %w", m.name, err)
	}
	if len(a) != m.n*m.n || len(bb) != m.n || len(th) != m.n {
		return fmt.Errorf("power: model %s state has the wrong dimensions", m.name)
	}
	if !(sigma >= 0) || !finite(sigma) {
		return fmt.Errorf("power: model %s state has a residual scale of %v", m.name, sigma)
	}
	for _, vs := range [][]float64{a, bb, th} {
		for _, v := range vs {
			// Update keeps them finite (a fit that is not starts again).
			if !finite(v) {
				return fmt.Errorf("power: model %s state holds %v", m.name, v)
			}
		}
	}
	copy(m.a, a)
	copy(m.b, bb)
	copy(m.theta, th)
	m.sigma, m.points, m.sinceSolve = sigma, points, since
	return nil
}

// State record kind tag and version of a device.
// Version 2 adds the live state (counter baselines, rates, PSU readings,
// the open tick and window); version 1 records still load, without it.
// Version 3 adds when each PSU reading was last received and the time of
// each port's oper-status; version 2 records still load, a reading
// received when it was stamped and an oper-status of no time (the next
// one replaces it).
// Version 4 adds the time of each port's admin-status, port-speed,
// aggregate-id and transceiver presence, and of the chassis part-no;
// version 3 and older records still load, each of no time (the next
// sample replaces it).
// Version 5 adds each PSU reading that jumped and waits for the next to
// confirm it (setReading); version 4 and older records still load, with
// none waiting.
// Version 6 adds the device's measurement the next is judged by (the
// last taken, or a step followed by another) and one that stepped
// away from it, waiting for the next to confirm it (steady); version 5
// and older records still load, with neither (the next measurement is
// taken).
const (
	tagDevice     byte = 0x72
	deviceVersion byte = 6
)

// TakeDirty calls fn with every device whose state changed since the last
// call: any device that was fed a sample. The state is all of it (device
// model, port configuration and status, counter baselines and rates, PSU
// readings, the open tick and window, residual history and incident), so
// an estimator restored from the last record of each device continues
// exactly as the one that wrote them.
func (e *Estimator) TakeDirty(fn func(device string)) {
	for _, name := range e.dirty {
		// A device forgotten is skipped; one forgotten and fed again
		// since is listed twice, and reported once.
		if d := e.devices[name]; d != nil && d.dirty {
			d.dirty = false
			fn(name)
		}
	}
	e.dirty = e.dirty[:0]
}

// AppendDeviceState appends the state of a device to dst; ok is false for
// an unknown device.
func (e *Estimator) AppendDeviceState(dst []byte, device string) (_ []byte, ok bool) {
	d := e.devices[device]
	if d == nil {
		return dst, false
	}
	str := func(s string) {
		dst = enc.AppendString(dst, s)
	}
	dst = enc.AppendHeader(dst, tagDevice, deviceVersion)
	str(d.model.name)
	dst = enc.AppendU(dst, uint64(len(d.ports)))
	for _, p := range d.ports {
		str(p.keys)
		str(p.speed)
		str(p.lag)
		var flags uint64
		for i, b := range []bool{p.adminUp, p.hasAdmin, p.operUp, p.optic, p.hasOptic} {
			if b {
				flags |= 1 << i
			}
		}
		dst = enc.AppendU(dst, flags)
	}
	dst = enc.AppendF64s(dst, d.history)
	dst = enc.AppendBool(dst, d.residual.Firing)
	dst = enc.AppendI(dst, d.residual.StartsAt)
	return d.appendLive(dst), true
}

// appendLive appends what a device accumulates between checkpoints: the
// open tick and window, per port (in d.ports order) and PSU the counter
// baselines, rates, window sums, readings (and those waiting to be
// confirmed) and the times of the status and configuration held, the
// time of the part-no held, and the last measurement taken and the step
// waiting.
func (d *device) appendLive(dst []byte) []byte {
	for _, v := range []int64{d.cur, d.last, d.win, d.winEnd} {
		dst = enc.AppendI(dst, v)
	}
	for _, v := range []float64{d.measSum, d.modSum, d.modOnMeas, d.energyMeas, d.energyMod, d.baseSum} {
		dst = enc.AppendF64(dst, v)
	}
	dst = enc.AppendU(dst, uint64(d.measN))
	dst = enc.AppendU(dst, uint64(d.modN))
	for _, p := range d.ports {
		for _, c := range []*rate.Counter{&p.in, &p.out} {
			dst = enc.AppendI(dst, c.LastTS)
			dst = enc.AppendU(dst, c.Last)
			dst = enc.AppendU(dst, c.Resets)
		}
		for _, v := range []float64{p.inR, p.outR, p.wW, p.wUtil} {
			dst = enc.AppendF64(dst, v)
		}
		dst = enc.AppendU(dst, uint64(p.wN))
		for _, v := range []int64{p.operTS, p.adminTS, p.speedTS, p.lagTS, p.opticTS} {
			dst = enc.AppendI(dst, v)
		}
	}
	dst = enc.AppendU(dst, uint64(len(d.psus)))
	for i, p := range d.psus {
		dst = enc.AppendString(dst, d.psuK[i])
		for _, v := range []float64{p.v, p.i, p.p} {
			dst = enc.AppendF64(dst, v)
		}
		for _, v := range []int64{p.vTS, p.iTS, p.pTS, p.vSeen, p.iSeen, p.pSeen} {
			dst = enc.AppendI(dst, v)
		}
		for _, n := range []pending{p.vNext, p.iNext, p.pNext} {
			dst = enc.AppendBool(dst, n.ok)
			dst = enc.AppendF64(dst, n.v)
		}
	}
	dst = enc.AppendI(dst, d.partTS)
	for _, n := range []pending{d.meas, d.step} {
		dst = enc.AppendBool(dst, n.ok)
		dst = enc.AppendF64(dst, n.v)
	}
	return dst
}

// readLive reads what appendLive wrote, in a record of version, into d,
// whose ports are restored.
func (d *device) readLive(r *enc.Reader, version byte, str func() string) {
	for _, v := range []*int64{&d.cur, &d.last, &d.win, &d.winEnd} {
		*v = r.I()
	}
	for _, v := range []*float64{&d.measSum, &d.modSum, &d.modOnMeas, &d.energyMeas, &d.energyMod, &d.baseSum} {
		*v = r.F64()
	}
	d.measN, d.modN = int(r.U()), int(r.U())
	for _, p := range d.ports {
		for _, c := range []*rate.Counter{&p.in, &p.out} {
			c.LastTS, c.Last, c.Resets = r.I(), r.U(), r.U()
		}
		for _, v := range []*float64{&p.inR, &p.outR, &p.wW, &p.wUtil} {
			*v = r.F64()
		}
		p.wN = int(r.U())
		if version >= 3 {
			p.operTS = r.I()
		}
		if version >= 4 {
			p.adminTS, p.speedTS, p.lagTS, p.opticTS = r.I(), r.I(), r.I(), r.I()
		}
	}
	n := r.U()
	if r.Err == nil && n > uint64(len(r.B)) {
		r.Err = enc.ErrShort
	}
	for i := uint64(0); i < n && r.Err == nil; i++ {
		d.psuK = append(d.psuK, str())
		p := &psu{}
		p.v, p.i, p.p = r.F64(), r.F64(), r.F64()
		p.vTS, p.iTS, p.pTS = r.I(), r.I(), r.I()
		p.vSeen, p.iSeen, p.pSeen = p.vTS, p.iTS, p.pTS
		if version >= 3 {
			p.vSeen, p.iSeen, p.pSeen = r.I(), r.I(), r.I()
		}
		if version >= 5 {
			for _, n := range []*pending{&p.vNext, &p.iNext, &p.pNext} {
				n.ok, n.v = r.Bool(), r.F64()
			}
		}
		d.psus = append(d.psus, p)
	}
	if version >= 4 {
		d.partTS = r.I()
	}
	if version >= 6 {
		for _, n := range []*pending{&d.meas, &d.step} {
			n.ok, n.v = r.Bool(), r.F64()
		}
	}
}

// liveErr reports live state that Observe could not have built, and that
// would write a power row the schema refuses or throw the model's fit out:
// a window that ends before it starts, a sum or rate that is not finite
// (finishTick drops a window whose sums are not), a negative count, a PSU reading setReading would not have kept.
func (d *device) liveErr() error {
	if d.winEnd != 0 && (d.winEnd <= d.win || d.winEnd-d.win <= 0) {
		return fmt.Errorf("its window ends (%d) before it starts (%d)", d.winEnd, d.win)
	}
	if !d.sumsFinite() {
		return errors.New("its window holds a sum that is not finite")
	}
	counts := []int{d.measN, d.modN}
	for _, p := range d.ports {
		if !finite(p.inR) || !finite(p.outR) {
			return fmt.Errorf("a port's rate of %v, %v octets/s", p.inR, p.outR)
		}
		counts = append(counts, p.wN)
	}
	for _, n := range counts {
		if n < 0 {
			return fmt.Errorf("its window counts %d points", n)
		}
	}
	for _, p := range d.psus {
		for _, v := range []float64{p.v, p.i, p.p} {
			if !reading(v) {
				return fmt.Errorf("a PSU reading of %v", v)
			}
		}
		for _, n := range []pending{p.vNext, p.iNext, p.pNext} {
			if n.ok && !reading(n.v) {
				return fmt.Errorf("a PSU reading of %v waiting", n.v)
			}
		}
	}
	for _, n := range []pending{d.meas, d.step} {
		if !finite(n.v) || n.v < 0 {
			return fmt.Errorf("a measurement of %v W", n.v)
		}
	}
	return nil
}

// RestoreDeviceState loads a device's state written by AppendDeviceState.
// Errors wrap ErrIncompatibleState for another state version.
func (e *Estimator) RestoreDeviceState(name string, b []byte) error {
	r := enc.Reader{B: b}
	version := deviceVersion
	if len(b) >= 2 && b[0] == tagDevice && b[1] >= 1 && b[1] < deviceVersion {
		version = b[1] // 1: without the live state, the device restarts its window
	}
	r.Header(tagDevice, version)
	str := func() string { return enc.ReadString(&r) }
	model := str()
	n := r.U()
	if r.Err == nil && n > uint64(len(r.B)) {
		r.Err = enc.ErrShort
	}
	var ports []*port
	for i := uint64(0); i < n && r.Err == nil; i++ {
		p := &port{keys: str(), speed: str(), lag: str()}
		flags := r.U()
		p.adminUp, p.hasAdmin, p.operUp, p.optic, p.hasOptic = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0, flags&16 != 0
		ports = append(ports, p)
	}
	history := r.F64s(nil, 1<<16)
	firing := r.Bool()
	firedAt := r.I()
	d := &device{name: name, ports: ports, history: history, residual: alert.State{Firing: firing, StartsAt: firedAt}}
	if version >= 2 {
		d.readLive(&r, version, str)
	}
	if err := r.Done(); err != nil {
		if errors.Is(err, enc.ErrVersion) {
			return fmt.Errorf("%w: device %s: %w", ErrIncompatibleState, name, err)
		}
		return fmt.Errorf("power: device %s state: %w", name, err)
	}
	if err := d.liveErr(); err != nil {
		return fmt.Errorf("power: device %s state: %w", name, err)
	}
	if n := len(d.history) - e.cfg.ResidualHistory; n > 0 {
		// Written under a longer residual_history: score against the
		// last ResidualHistory windows (scoreResidual drops one a window
		// only).
		d.history = d.history[n:]
	}
	if model == "" {
		model = DefaultModelName
	}
	d.model = e.Model(model)
	e.devices[name] = d
	return nil
}

// Forget drops a device's state; a device that reports again starts
// fresh.
func (e *Estimator) Forget(device string) { delete(e.devices, device) }

// LastSample returns the time of a device's latest sample (Unix ns; 0
// for an unknown device, or one restored from a version 1 state, which
// did not keep it) and its residual alert (Firing, StartsAt).
func (e *Estimator) LastSample(device string) (int64, alert.State) {
	d := e.devices[device]
	if d == nil {
		return 0, alert.State{}
	}
	return d.cur, d.residual
}

// Silent appends to dst, in name order, the devices whose latest sample
// is before the time before (Unix ns), and returns it. A device whose
// latest sample is not known (LastSample 0) is not silent.
func (e *Estimator) Silent(dst []string, before int64) []string {
	n := len(dst)
	for name, d := range e.devices {
		if d.cur != 0 && d.cur < before {
			dst = append(dst, name)
		}
	}
	slices.Sort(dst[n:])
	return dst
}

// ForgetComponents drops, from every device, the ports and PSUs whose
// latest sample is before the time before (Unix ns), as Silent does
// devices: a port by its octet counters (a port without a counter sample,
// known only from its status, stays), a PSU by when its readings were last
// received, whatever their stamps (one without a valid reading stays). A
// port removed or renamed is no longer modelled, and a PSU removed no
// longer keeps its device from being measured. A device that loses one is
// marked dirty, in name order, so the changelog records come in the same
// order on every owner. It returns how many ports and PSUs went.
func (e *Estimator) ForgetComponents(before int64) (ports, psus int) {
	return e.ForgetComponentsIf(func(_ string, last int64) bool { return last < before })
}

// ForgetComponentsIf is ForgetComponents with a test of its own:
// old(device, last) reports whether a port or PSU of device whose latest
// sample was at last (not 0) goes (a stage whose devices' clocks differ
// judges each on its own).
func (e *Estimator) ForgetComponentsIf(old func(device string, last int64) bool) (ports, psus int) {
	var dev string // the device gone looks at
	gone := func(ts int64) bool { return ts != 0 && old(dev, ts) }
	var names []string
	for name, d := range e.devices {
		dev = name
		for _, p := range d.ports {
			if gone(max(p.in.LastTS, p.out.LastTS)) {
				names = append(names, name)
				break
			}
		}
		for _, p := range d.psus {
			if gone(max(p.vSeen, p.iSeen, p.pSeen)) {
				names = append(names, name)
				break
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		d := e.devices[name]
		dev = name
		n := len(d.ports)
		d.ports = slices.DeleteFunc(d.ports, func(p *port) bool { return gone(max(p.in.LastTS, p.out.LastTS)) })
		ports += n - len(d.ports)
		k := 0
		for i, p := range d.psus {
			if gone(max(p.vSeen, p.iSeen, p.pSeen)) {
				continue
			}
			d.psus[k], d.psuK[k] = p, d.psuK[i]
			k++
		}
		psus += len(d.psus) - k
		clear(d.psus[k:])
		d.psus, d.psuK = d.psus[:k], d.psuK[:k]
		e.markDirty(d)
	}
	return ports, psus
}
