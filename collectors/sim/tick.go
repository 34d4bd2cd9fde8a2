package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// step is what the samples of one tick share: its time and the sample
// passed to emit, reused from one to the next.
type step struct {
	now  time.Time
	ts   int64
	dt   float64 // seconds since the previous tick
	hour float64 // hour of the day, UTC
	s    schemas.Sample
	emit func(*schemas.Sample)
}

// Next generates the samples of every device at the next tick and passes
// them to emit, one device after the other, each in the order of Series.
// The sample is reused after emit returns.
func (f *Fleet) Next(emit func(s *schemas.Sample)) {
	now := f.Now()
	st := &step{now: now, ts: now.UnixNano(), dt: f.cfg.Interval.Seconds(), emit: emit,
		hour: float64(now.UTC().Hour()) + float64(now.UTC().Minute())/60}
	st.s.TS, st.s.Source = st.ts, schemas.SourceSim
	if f.cfg.Power {
		f.applyChanges(now)
	}
	if f.links != nil {
		f.stepLinks(now, st.hour)
	}
	for di := range f.devices {
		f.nextReachable(st, di)
	}
	f.tick++
}

// nextDevice emits device di's samples of the tick.
func (f *Fleet) nextDevice(st *step, di int) {
	d := &f.devices[di]
	st.s.Device = d.name
	load := 0.0
	dc := f.model.Chassis // power mode: DC watts of this tick
	for ii := range d.ifaces {
		load += f.nextInterface(st, d, &d.ifaces[ii], &dc)
	}
	load /= float64(len(d.ifaces))
	st.s.Kind = schemas.KindGauge
	temps, rpm := f.nextEnvironment(st, d, load)
	if f.cfg.Power {
		d.fanW = f.model.FanWatts(rpm[0]) + f.model.FanWatts(rpm[1])
		dc += d.fanW
		d.truthDC, d.truthW = dc, f.model.InputW(dc)
	}
	f.nextPSUs(st, d, load, dc)
	if f.cfg.Transceivers {
		f.nextOptics(st, di, temps)
	}
	if f.cfg.Power {
		f.nextPortConfig(st, d)
	}
	if f.links != nil {
		f.emitTopology(d, &st.s, st.emit)
		f.emitLLDP(d, &st.s, st.emit)
	}
}

// nextInterface emits an interface's counters and state; it adds the
// port's DC power to dc (power mode) and returns its utilisation.
func (f *Fleet) nextInterface(st *step, d *device, it *iface, dc *float64) float64 {
	now, s, power := st.now, &st.s, f.cfg.Power
	// Diurnal: peak in the evening, trough before dawn.
	diurnal := 1 + 0.6*math.Sin(2*math.Pi*(st.hour-14+it.phase)/24)
	util := it.base * diurnal * (1 + 0.04*d.rng.NormFloat64())
	util = math.Min(math.Max(util, 0.001), 1)
	inRate := util * it.speed
	outRate := 0.7 * util * it.speed * (1 + 0.04*d.rng.NormFloat64())
	status := "UP"
	if it.link != nil {
		inRate, outRate, status = it.linkRates()
		util = math.Min(inRate/it.speed, 1)
	}
	for _, af := range it.spike {
		if af.active(now) {
			inRate *= af.factor
		}
	}
	for _, af := range it.flap {
		if af.flapDown(now, f.cfg.Interval) {
			status, inRate, outRate, util = "DOWN", 0, 0, 0
		}
	}
	if power && (it.adminDown || it.noLink || !it.optic) {
		status, inRate, outRate, util = "DOWN", 0, 0, 0
	}
	if power {
		if !it.adminDown {
			pu := math.Min((inRate+math.Max(outRate, 0))/(2*it.speed), 1)
			*dc += f.model.PortW[it.speedName] * (1 + f.model.Dynamic*pu)
		}
		if it.optic {
			*dc += f.model.OpticW[it.speedName]
		}
	}
	f.count(st, d, it, inRate, outRate)
	s.Keys = it.keys
	s.Kind = schemas.KindCounter
	for _, m := range [...]struct {
		metric string
		v      uint64
	}{{schemas.MetricInOctets, it.inOct}, {schemas.MetricOutOctets, it.outOct}, {schemas.MetricInUnicastPkts, it.inPkts}, {schemas.MetricOutUnicastPkts, it.outPkts}, {schemas.MetricInErrors, it.inErr}} {
		s.Metric, s.U64 = m.metric, m.v
		st.emit(s)
	}
	s.Kind, s.Metric, s.Str = schemas.KindState, schemas.MetricOperStatus, status
	st.emit(s)
	if it.lastStatus != "" && it.lastStatus != status {
		it.carrier++
	}
	it.lastStatus = status
	if f.links != nil {
		s.Kind, s.Metric, s.U64, s.Str = schemas.KindCounter, schemas.MetricCarrierTransitions, it.carrier, ""
		st.emit(s)
		if !power {
			// Faults of a topology never shut a port: admin-status
			// stays UP, so oper-status DOWN is a failure. (Power
			// mode reports it with the port's configuration.)
			s.Kind, s.Metric, s.Str = schemas.KindState, schemas.MetricAdminStatus, "UP"
			st.emit(s)
		}
	}
	return util
}

// count advances an interface's counters by the tick's traffic (octets/s)
// and errors.
func (f *Fleet) count(st *step, d *device, it *iface, inRate, outRate float64) {
	now, dt := st.now, st.dt
	for _, af := range it.reset {
		if !af.done && !now.Before(af.start) {
			af.done = true
			it.inOct, it.outOct, it.inPkts, it.outPkts, it.inErr = 0, 0, 0, 0, 0
		}
	}
	inOct := inRate*dt + it.inOctRem
	outOct := math.Max(outRate, 0)*dt + it.outOctRem
	it.inOctRem, it.outOctRem = inOct-math.Floor(inOct), outOct-math.Floor(outOct)
	it.inOct += uint64(inOct)
	it.outOct += uint64(outOct)
	it.inPkts += uint64(inOct / 800)
	it.outPkts += uint64(outOct / 900)
	if d.rng.Float64() < 0.05 {
		it.inErr += uint64(d.rng.IntN(3) + 1)
	}
	for _, af := range it.rxErrors {
		if af.active(now) {
			frac := float64(now.Sub(af.start)) / float64(af.end.Sub(af.start))
			e := af.factor*frac*dt + it.inErrRem
			it.inErr += uint64(e)
			it.inErrRem = e - math.Floor(e)
		}
	}
}

// nextEnvironment emits the temperatures and fan speeds; it returns the
// temperatures (CPU, inlet) and the fans' speeds.
func (f *Fleet) nextEnvironment(st *step, d *device, load float64) (temps, rpm [2]float64) {
	now, s := st.now, &st.s
	failedFans := 0
	for i := range d.fans {
		for _, af := range d.fans[i] {
			if af.active(now) {
				failedFans++
				break
			}
		}
	}
	temp := 0.0
	for i, name := range [...]string{"CPU", "Inlet"} {
		base := 38.0 + d.tempHW - 14*float64(i)
		if failedFans > 0 && i == 0 {
			base += 12 * float64(failedFans)
		} else if failedFans > 0 {
			base += 3 * float64(failedFans)
		}
		s.Keys, s.Metric = "name="+name, schemas.MetricTemperature
		s.F64 = round(base+18*load+0.3*d.rng.NormFloat64(), 1)
		temp = math.Max(temp, s.F64)
		temps[i] = s.F64
		st.emit(s)
	}
	for i := 1; i <= 2; i++ {
		s.Keys, s.Metric = fmt.Sprintf("name=Fan%d", i), schemas.MetricFanSpeed
		s.F64 = math.Round(4000 + 80*(temp-30) + 40*d.rng.NormFloat64())
		for _, af := range d.fans[i-1] {
			if af.active(now) {
				s.F64 = 0
			} else if w := af.wearing(now); w > 0 {
				s.F64 = math.Round(s.F64 * (1 - 0.5*w))
			}
		}
		rpm[i-1] = s.F64
		st.emit(s)
	}
	return temps, rpm
}

// nextOptics emits device di's transceivers.
func (f *Fleet) nextOptics(st *step, di int, temps [2]float64) {
	d, now, s := &f.devices[di], st.now, &st.s
	for ii := range d.ifaces {
		it := &d.ifaces[ii]
		rx, bias := it.rxBase, it.biasBase
		for _, af := range it.degrade {
			if !now.Before(af.start) && now.Before(af.end) {
				// Falls linearly to factor dB below normal over the
				// window (an ageing laser or dirty connector), then
				// back once the optic is replaced.
				frac := float64(now.Sub(af.start)) / float64(af.end.Sub(af.start))
				rx -= af.factor * frac
				bias *= 1 + 0.5*frac
			}
		}
		// Noise from the tick and the interface, so the fleet's
		// main random streams are untouched.
		h := uint64(st.ts) ^ uint64(ii+1)*0x9e3779b97f4a7c15 ^ uint64(di)<<48
		n1, n2 := hashNoise(h), hashNoise(h+1)
		if f.cfg.Power {
			// The optic sits between inlet and ASIC; its laser
			// needs more current when hot.
			it.optTemp = round((temps[0]+temps[1])/2+0.2*hashNoise(h+2), 1)
			bias *= 1 + opticBiasPerDegree*(it.optTemp-40)
		}
		s.Keys = it.opticKeys
		s.Metric, s.F64 = schemas.MetricOpticInputPower, round(rx+0.05*n1, 2)
		st.emit(s)
		s.Metric, s.F64 = schemas.MetricOpticOutputPower, round(it.txBase+0.03*n2, 2)
		st.emit(s)
		s.Metric, s.F64 = schemas.MetricOpticLaserBias, round(bias+0.02*n1, 2)
		st.emit(s)
	}
}
