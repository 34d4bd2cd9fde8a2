package power

import (
	"strings"

	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/schemas"
)

// StepBack takes device back to to, the time of a sample that showed its
// clock stepped back (NTP's first sync after it ran ahead, or a sample
// stamped far ahead followed by the right time: a stage confirms it, as
// stages/power does), so that it takes its samples from to on: else no
// tick of its new time would finish (Observe starts one only after the
// latest), and its counters would ignore their samples, until its time
// passed what it holds (hours, or a year). What it holds from after to
// goes: its open tick, and its open window when a tick of it finished
// after to (unwritten, as a device's that expires: its ticks and the new
// ones would overlap), with the time between its ticks; the last sample
// of a byte counter, whose next one starts its rate again (none is
// computed across the step; the rate held stays until then); and the
// times of its ports' status and configuration, its PSU readings' stamps
// and receipts, and its part-no, set back to to, so that the samples
// from to on replace them (a PSU reading received before the step ages
// from it). What it learned stays: its model, port state, readings and
// residual history. A device not known is left alone.
func (e *Estimator) StepBack(device string, to int64) {
	d := e.devices[device]
	if d == nil {
		return
	}
	e.markDirty(d)
	if d.last > to {
		e.resetWindow(d)
		d.last = 0
	}
	if d.cur > to {
		d.cur = d.last
	}
	back := func(ts ...*int64) {
		for _, at := range ts {
			*at = min(*at, to)
		}
	}
	for _, p := range d.ports {
		for _, c := range []*rate.Counter{&p.in, &p.out} {
			if c.LastTS > to {
				c.LastTS, c.Last = 0, 0
			}
		}
		back(&p.operTS, &p.adminTS, &p.speedTS, &p.lagTS, &p.opticTS)
	}
	for _, p := range d.psus {
		back(&p.vTS, &p.iTS, &p.pTS, &p.vSeen, &p.iSeen, &p.pSeen)
	}
	back(&d.partTS)
}

// LastOf returns the stamp the estimator holds of the series a sample of
// device, metric and keys goes to (Unix ns; 0: none, a series not known,
// or a metric it keeps no stamp of, such as a temperature or a PSU's
// output power): a stage's reference for a sample far behind the
// device's latest (LastSample), which may be its clock stepping back, or
// a value re-sent with its last-change stamp (the stamp held, however
// old: no step).
func (e *Estimator) LastOf(device, metric, keys string) int64 {
	d := e.devices[device]
	if d == nil {
		return 0
	}
	port := func(keys string) *port {
		for _, p := range d.ports {
			if p.keys == keys {
				return p
			}
		}
		return nil
	}
	psu := func() *psu {
		for i, k := range d.psuK {
			if k == keys {
				return d.psus[i]
			}
		}
		return nil
	}
	switch metric {
	case schemas.MetricInOctets, schemas.MetricOutOctets, schemas.MetricOperStatus, schemas.MetricAdminStatus,
		schemas.MetricPortSpeed, schemas.MetricAggregateID:
		p := port(keys)
		if p == nil {
			return 0
		}
		switch metric {
		case schemas.MetricInOctets:
			return p.in.LastTS
		case schemas.MetricOutOctets:
			return p.out.LastTS
		case schemas.MetricOperStatus:
			return p.operTS
		case schemas.MetricAdminStatus:
			return p.adminTS
		case schemas.MetricPortSpeed:
			return p.speedTS
		}
		return p.lagTS
	case schemas.MetricOpticPresent:
		if p := port(strings.TrimSuffix(keys, transceiverSuffix)); p != nil {
			return p.opticTS
		}
	case schemas.MetricPartNo:
		if keys == "name=Chassis" {
			return d.partTS
		}
	case schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent, schemas.MetricPSUInPower:
		p := psu()
		switch {
		case p == nil:
		case metric == schemas.MetricPSUInVoltage:
			return p.vTS
		case metric == schemas.MetricPSUInCurrent:
			return p.iTS
		default:
			return p.pTS
		}
	}
	return 0
}
