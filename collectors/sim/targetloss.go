package sim

import (
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// FaultTargetUnreachable is a device the collector loses (powered off,
// management plane down, unreachable): its samples stop for the fault's
// window, and the fleet emits the collector's view of it instead
// (schemas.MetricTargetState UP at the first tick, DOWN at the first tick
// of the window, UP again at its end, each with its reason, as the
// collectors publish them, stamped with the tick's time). With a topology
// its links go down as with link_down (its neighbours see their ports
// DOWN, their BGP and BFD sessions to it down, no traffic on them). Labels:
// the target state of the device, and every link's series on both ends.
const FaultTargetUnreachable = "target_unreachable"

// addTargetFault attaches a target_unreachable fault to its device and, in
// a topology, to the device's links, and writes its labels. It reports
// false for any other kind.
func (f *Fleet) addTargetFault(ft Fault, af *activeFault) bool {
	if ft.Kind != FaultTargetUnreachable {
		return false
	}
	d := &f.devices[deviceIndex(ft.Device, f.cfg.Devices)]
	d.unreachable = append(d.unreachable, af)
	f.labels = append(f.labels, Label{Device: ft.Device, Metric: schemas.MetricTargetState, Kind: ft.Kind, Start: af.start.UTC(), End: af.end.UTC()})
	for _, lk := range d.sessions {
		lk.down = append(lk.down, af)
		f.labelLink(FaultTargetUnreachable, af, lk, true, nil)
	}
	return true
}

// Unreachable reports whether device i is silent at now: a
// target_unreachable fault holds it.
func (f *Fleet) Unreachable(i int, now time.Time) bool {
	for _, af := range f.devices[i].unreachable {
		if af.active(now) {
			return true
		}
	}
	return false
}

// nextReachable emits device di's samples of the tick, or, while a
// target_unreachable fault holds it, none (its state still advances, so
// its counters carry on when it is back). A device with such a fault also
// gets the collector's target state: UP at the first tick, DOWN at the
// first tick of a window, UP at the first tick after it. NextFixed (the
// gNMI agent's layout) emits every sample of the device as usual and no
// target state: the agent stops serving the device instead, and the real
// collector publishes the state.
func (f *Fleet) nextReachable(st *step, di int) {
	d := &f.devices[di]
	if len(d.unreachable) == 0 || f.lldpFixed {
		f.nextDevice(st, di)
		return
	}
	silent := f.Unreachable(di, st.now)
	was := f.tick > 0 && f.Unreachable(di, st.now.Add(-f.cfg.Interval))
	if !silent {
		f.nextDevice(st, di)
	} else {
		emit := st.emit
		st.emit = func(*schemas.Sample) {}
		f.nextDevice(st, di)
		st.emit = emit
	}
	if f.tick == 0 || silent != was {
		state, reason := schemas.TargetUp, schemas.TargetReasonEstablished
		if silent {
			state, reason = schemas.TargetDown, schemas.TargetReasonStreamLost
		}
		if f.tick == 0 && silent {
			return // never up: the collector publishes nothing
		}
		s := &st.s
		s.Device, s.Kind, s.Keys, s.U64, s.F64 = d.name, schemas.KindState, "", 0, 0
		s.Metric, s.Str = schemas.MetricTargetState, state
		st.emit(s)
		s.Metric, s.Str = schemas.MetricTargetReason, reason
		st.emit(s)
	}
}
