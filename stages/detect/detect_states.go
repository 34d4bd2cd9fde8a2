package detect

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
)

// ifaceState ties the series of one interface (device and interface name,
// ifaceKeys; stateevents.IsInterface names the paths) together: its state
// series, which the detect stage reads before scoring the interface's
// counter rates and gauges, and the count of LLDP neighbours on it (keys
// name=IF too), whose drop the interface going down explains. The models
// a device streams side by side are one interface: OpenConfig's
// oper-status (name=IF) beside IOS-XR's native counters
// (interface-name=IF), and the reverse. It is rebuilt from the series as
// they are added (made or restored), never written to the changelog.
//
// An interface may have more than one oper-status, admin-status and
// carrier-transitions series (IOS-XR's state and line-state, in
// interface-xr and interface-briefs; its generic counters in latest, total
// and cache; an IOS-XE device streaming OpenConfig's oper-status and
// admin-status beside its native ones): opers, admins and carriers hold
// them in metric order, so what the stage reads of them does not depend
// on the order the series were made or restored in. An OpenConfig-only
// interface has one of each.
//
// The interface is administratively down while one of those series says
// so (an admin-status series, or an oper-status one whose values carry the
// shut, IOS-XR's im-state-admin-down) unless that series is out of date:
// another of its admin-status or oper-status series said the interface
// was enabled after the first's latest sample (outdated). Newer evidence
// wins, so a series that stopped reporting while it said admin down (a
// subscription dropped, a model no longer streamed) does not hold the
// interface down, nor keep a link failure from being a link_down, once
// the interface was seen enabled again. A series that merely lags the
// others (it still says up just after another said down) is no such
// evidence: only a transition (coming up, or leaving admin down) is.
//
// A BGP neighbour is tied the same way (keys up to its
// neighbor-address=V, neighborKeys): its session-state series are
// sessions, and the neighbour's other series (its prefix counts, its
// message counters) read them as an interface's counters read its
// oper-status: a value taken while the session was down is neither learned
// nor alerted on (the session_down alert says it), so a reset does not
// become part of the prefix count's daily profile and fire again a day
// later.
//
// n counts the series tied to it (those whose iface it is: its counters
// and gauges too); the last one to go (expired, replaced, restored as a
// tombstone) takes it out of its partition's ifaces, so the ties are
// bounded by the series held.
type ifaceState struct {
	opers, admins, carriers []*seriesState
	sessions                []*seriesState // a BGP neighbour's session-state series
	lldp                    *seriesState
	key                     schemas.SeriesKey // its key in partState.ifaces
	n                       int               // the series tied to it
	// parentKeys are a subinterface's interface's keys (name=IF for
	// name=IF,index=N), empty for others; parent is that interface as of
	// partState.ifacesGen parentGen (see stateOf).
	parentKeys string
	parent     *ifaceState
	parentGen  uint64
	// The last answers of down (isDown, for downFrom and downTo) and of
	// explainable (explains), valid while the stage's stateGen is still
	// downGen and explGen: an interface's counters and gauges of one
	// poll ask the same of state series that did not change between them.
	downGen, explGen uint64
	downFrom, downTo int64
	isDown, explains bool
}

// downAt is down(from, to), remembered until a state series changes
// (stateGen is the stage's Stage.stateGen).
func (f *ifaceState) downAt(stateGen uint64, from, to int64) bool {
	if f.downGen != stateGen || f.downFrom != from || f.downTo != to {
		f.downGen, f.downFrom, f.downTo, f.isDown = stateGen, from, to, f.down(from, to)
	}
	return f.isDown
}

// explainableAt is explainable(f), remembered until a state series
// changes (stateGen is the stage's Stage.stateGen).
func explainableAt(f *ifaceState, stateGen uint64) bool {
	if f == nil {
		return false
	}
	if f.explGen != stateGen {
		f.explGen, f.explains = stateGen, explainable(f)
	}
	return f.explains
}

// stateOf returns the interface whose state explains the series tied to
// f: f, unless f is a subinterface with no state series of its own, whose
// traffic stops with its interface's (OpenConfig's subinterface counters,
// name=IF,index=N, beside the interface's oper-status, name=IF): then its
// interface, when the partition holds one with a state series.
func (ps *partState) stateOf(f *ifaceState) *ifaceState {
	if f == nil || f.parentKeys == "" || f.hasState() {
		return f
	}
	if f.parentGen != ps.ifacesGen {
		f.parent, f.parentGen = ps.ifaces[schemas.SeriesKey{Device: f.key.Device, Keys: f.parentKeys}], ps.ifacesGen
	}
	if p := f.parent; p != nil && p.hasState() {
		return p
	}
	return f
}

// hasState reports whether f has a state series (oper-status,
// admin-status, carrier-transitions, session-state) that down reads.
func (f *ifaceState) hasState() bool {
	return len(f.opers)+len(f.admins)+len(f.carriers)+len(f.sessions) > 0
}

// subinterfaceParent returns the keys of the interface of a
// subinterface's keys: name=IF for exactly name=IF,index=N; "" for others.
func subinterfaceParent(keys string) string {
	name, ok := strings.CutPrefix(keys, "name=")
	i := keySeparator(name)
	if !ok || i < 0 {
		return ""
	}
	if idx, ok := strings.CutPrefix(name[i:], ",index="); !ok || idx == "" || hasKeySeparator(idx) {
		return ""
	}
	return keys[:len("name=")+i]
}

// down reports whether the interface was (or may have been) down at some
// time in (from, to]: any of its state series says so (one that says admin
// down but is outdated does not).
func (f *ifaceState) down(from, to int64) bool {
	return f.anyDownWithin(f.admins, from, to) || f.anyDownWithin(f.opers, from, to) || f.anyDownWithin(f.carriers, from, to) ||
		f.anyDownWithin(f.sessions, from, to)
}

// anyDownWithin reports whether one of list, series of f, was (or may
// have been) down at some time in (from, to]; one that says admin down
// but is outdated does not count.
func (f *ifaceState) anyDownWithin(list []*seriesState, from, to int64) bool {
	for _, st := range list {
		if st.se.DownWithin(from, to) && !f.outdatedShut(st) {
			return true
		}
	}
	return false
}

// outdatedShut reports whether st, a state series of f, says its
// interface is administratively down and is outdated.
func (f *ifaceState) outdatedShut(st *seriesState) bool {
	return st.se.Status() == stateevents.StatusAdminDown && f.outdated(st)
}

// outdated reports whether a, an admin-status or oper-status series of f,
// is older than the evidence of another: one of f's other admin-status or
// oper-status series said the interface was enabled (enabledSince) after
// a's latest sample.
func (f *ifaceState) outdated(a *seriesState) bool {
	last := a.se.LastTS()
	for _, o := range f.admins {
		if o != a && enabledSince(o) > last {
			return true
		}
	}
	for _, o := range f.opers {
		if o != a && enabledSince(o) > last {
			return true
		}
	}
	return false
}

// enabledSince returns the latest time the admin-status or oper-status
// series o showed its interface enabled by a transition: it came up (its
// latest down stretch's end, also when it is down again since), or, an
// oper-status series whose values carry the shut, it left admin down for
// down. 0 when it never did.
func enabledSince(o *seriesState) int64 {
	down, up := o.se.Stretch()
	if o.se.Class() == stateevents.ClassOperStatus && o.se.Status() == stateevents.StatusDown && down < o.se.Changed() {
		return max(up, o.se.Changed())
	}
	return up
}

// oper returns the oper-status series a description reads: of those that
// changed and are not up, the one that changed last; else the one that
// changed last; the first in metric order on a tie. Nil when the
// interface has none.
func (f *ifaceState) oper() *seriesState { return mostTelling(f.opers) }

// admin returns the admin-status series a description reads, chosen as
// oper chooses among those that are not an outdated admin down (among all
// when every one is). Nil when the interface has none.
func (f *ifaceState) admin() *seriesState {
	var a *seriesState
	for _, st := range f.admins {
		if !f.outdatedShut(st) && (a == nil || explainsMore(st, a)) {
			a = st
		}
	}
	if a == nil {
		return mostTelling(f.admins)
	}
	return a
}

// mostTelling returns the series of list that explainsMore than the
// others, the first on a tie; nil for an empty list.
func mostTelling(list []*seriesState) *seriesState {
	var o *seriesState
	for _, st := range list {
		if o == nil || explainsMore(st, o) {
			o = st
		}
	}
	return o
}

// carrier returns the carrier-transitions series a description reads:
// the one that changed last, the first in metric order on a tie. Nil
// when the interface has none.
func (f *ifaceState) carrier() *seriesState {
	var c *seriesState
	for _, st := range f.carriers {
		if c == nil || st.se.Changed() > c.se.Changed() {
			c = st
		}
	}
	return c
}

// explainsMore reports whether the status series a tells more of
// its interface than b: it changed to a status other than up and b did
// not, or it changed later.
func explainsMore(a, b *seriesState) bool {
	ad := a.se.Changed() != 0 && a.se.Status() != stateevents.StatusUp
	bd := b.se.Changed() != 0 && b.se.Status() != stateevents.StatusUp
	if ad != bd {
		return ad
	}
	return a.se.Changed() > b.se.Changed()
}

// linkIface links st to its interface when it is an interface's series
// (stateevents.IsInterface: OpenConfig's, and the native models' listed
// there) or the interface's LLDP neighbour count: the interface of its
// device and ifaceKeys. Any other series with a neighbor-address key is
// linked to that BGP neighbour (neighborKeys).
func linkIface(ps *partState, st *seriesState) {
	k := st.key
	lldp := st.se != nil && st.se.Class() == stateevents.ClassLLDP
	var ik schemas.SeriesKey
	switch {
	case k.Keys == "":
		return
	case stateevents.IsInterface(k.Metric) || lldp:
		ik = schemas.SeriesKey{Device: k.Device, Keys: ifaceKeys(k.Keys)}
	default:
		n := neighborKeys(k.Keys)
		if n == "" {
			return
		}
		ik = schemas.SeriesKey{Device: k.Device, Keys: n}
	}
	f := ps.ifaces[ik]
	if f == nil {
		f = &ifaceState{key: ik, parentKeys: subinterfaceParent(ik.Keys)}
		ps.ifaces[ik] = f
		ps.ifacesGen++
	}
	st.iface = f
	f.n++
	if st.se == nil {
		return
	}
	switch st.se.Class() {
	case stateevents.ClassOperStatus:
		f.opers = insertByMetric(f.opers, st)
	case stateevents.ClassAdminStatus:
		f.admins = insertByMetric(f.admins, st)
	case stateevents.ClassCarrier:
		f.carriers = insertByMetric(f.carriers, st)
	case stateevents.ClassLLDP:
		f.lldp = st
	case stateevents.ClassBGP:
		f.sessions = insertByMetric(f.sessions, st)
	}
}

// neighborKeys returns the keys that name the BGP neighbour of a series
// with keys: keys up to and including its neighbor-address=V (OpenConfig's
// and IOS-XR's native neighbour lists both key it so), "" when it has no
// such key. A prefix count (…,neighbor-address=V,afi-safi-name=A) and the
// session-state of its neighbour (…,neighbor-address=V) name one
// neighbour.
func neighborKeys(keys string) string {
	const key = "neighbor-address="
	for i := 0; ; {
		if strings.HasPrefix(keys[i:], key) {
			if j := keySeparator(keys[i+len(key):]); j >= 0 {
				return keys[:i+len(key)+j]
			}
			return keys
		}
		j := keySeparator(keys[i:])
		if j < 0 {
			return ""
		}
		i += j + 1
	}
}

// ifaceKeys returns the keys that name the interface of an interface's
// series with keys: "name=IF" for keys that are exactly name=IF
// (OpenConfig, SR Linux, the LLDP neighbour count) or interface-name=IF
// (IOS-XR's native models), so the models of one device are one
// interface; other keys as they are (name=IF,index=0 is a subinterface,
// not the interface). It allocates only for interface-name=IF.
func ifaceKeys(keys string) string {
	if n, ok := strings.CutPrefix(keys, "interface-name="); ok && !hasKeySeparator(n) {
		return "name=" + n
	}
	return keys
}

// hasKeySeparator reports whether the escaped key value v is followed by
// another key: it holds a comma that no backslash escapes.
func hasKeySeparator(v string) bool { return keySeparator(v) >= 0 }

// keySeparator returns the index in v of the first comma that no
// backslash escapes, -1 when there is none.
func keySeparator(v string) int {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case ',':
			return i
		}
	}
	return -1
}

// insertByMetric inserts st in list, which is in metric order.
func insertByMetric(list []*seriesState, st *seriesState) []*seriesState {
	i, _ := slices.BinarySearchFunc(list, st, func(a, b *seriesState) int { return cmp.Compare(a.key.Metric, b.key.Metric) })
	return slices.Insert(list, i, st)
}

// unlinkIface undoes linkIface for a series of ps that goes away; the
// interface goes with the last series tied to it.
func unlinkIface(ps *partState, st *seriesState) {
	f := st.iface
	if f == nil {
		return
	}
	st.iface = nil
	if f.n--; f.n == 0 {
		delete(ps.ifaces, f.key)
		ps.ifacesGen++
		return
	}
	if f.lldp == st {
		f.lldp = nil
	}
	is := func(o *seriesState) bool { return o == st }
	f.opers = slices.DeleteFunc(f.opers, is)
	f.admins = slices.DeleteFunc(f.admins, is)
	f.carriers = slices.DeleteFunc(f.carriers, is)
	f.sessions = slices.DeleteFunc(f.sessions, is)
}

// statusOf returns the status row i carries: its string, or a whole
// number's digits (an enum sent as its value, the IF-MIB's 7 for
// lowerLayerDown, which the trackers read as its name).
func statusOf(sr *schemas.SampleReader, i int) (string, bool) {
	switch sr.Kind(i) {
	case schemas.KindState:
		return sr.Str(i)
	case schemas.KindCounter:
		if u, ok := sr.U64(i); ok {
			return strconv.FormatUint(u, 10), true
		}
	default:
		if f, ok := sr.F64(i); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10), true
		}
	}
	return "", false
}

// updateState feeds row i to the state series st and emits the detection
// of any transition. An admin-status going down explains (resolves) a
// link-down or flapping alert on its interface's oper-status; an
// oper-status going down explains a lost LLDP neighbour of its interface.
func (d *Stage) updateState(ps *partState, sr *schemas.SampleReader, i int, st *seriesState, emit func(*kgo.Record)) error {
	d.stateGen++ // the interfaces' remembered answers are out of date
	ts, cfg := sr.TS(i), &d.cfg.States
	if last := st.se.LastTS(); last-ts > behindBy {
		// Older than the latest: it changes nothing (the trackers drop
		// it), unless it counts toward its device's clock stepping back;
		// once it has, the tracker starts again from it.
		if _, err := d.stepBack(ps, st, ts, emit); err != nil {
			return err
		}
	}
	var ev stateevents.Event
	switch class := st.se.Class(); class {
	case stateevents.ClassCarrier:
		v, ok := sr.U64(i)
		if !ok {
			return nil
		}
		// The interface's oper-status, when it saw the change in the same
		// interval, carries the event.
		f := st.iface
		explained := f != nil && f.anyDownWithin(f.opers, st.se.LastTS(), ts)
		ev = st.se.UpdateCounter(cfg, ts, v, explained)
	case stateevents.ClassNeighbors, stateevents.ClassLLDP:
		v, ok := sr.F64(i)
		if u, isU := sr.U64(i); isU {
			v, ok = float64(u), true
		}
		if !ok {
			return nil
		}
		ev = st.se.UpdateLevel(cfg, ts, v, class == stateevents.ClassLLDP && lldpExplained(st.iface, ts, cfg))
	default:
		v, ok := statusOf(sr, i)
		if !ok {
			return nil
		}
		f := st.iface
		if err := d.settleHeld(st, class, ts, v, emit); err != nil {
			return err
		}
		was := st.se.Status()
		ev = st.se.UpdateStatus(cfg, ts, v, class == stateevents.ClassOperStatus && adminShut(f, st, ts))
		if ev.Transition == stateevents.Fired && ev.Rule == stateevents.RuleLinkDown && was == stateevents.StatusUp && mayShut(f, st) {
			// The link left UP, and its admin-status may yet say it was
			// shut: announced when the device's samples show ShutGrace
			// passed (watch), or when st changes again (settleHeld).
			st.se.Hold()
			d.held.Inc()
			ev.Transition = stateevents.None
		}
		shut := was != stateevents.StatusAdminDown && st.se.Status() == stateevents.StatusAdminDown
		// An admin-status series, or an oper-status one whose values carry
		// the shut (IOS-XR's im-state-admin-down), going admin down
		// explains the interface's other oper-status series going down.
		// Any change of an oper-status series may enable the others again
		// (enabledAt: IOS-XR's admin down turning to down): they are
		// watched, as a restore watches every series that is due.
		if f != nil && (class == stateevents.ClassAdminStatus || class == stateevents.ClassOperStatus && st.se.Status() != was) {
			for _, o := range f.opers {
				if o == st {
					continue
				}
				if shut {
					// Explained moves o's latest time even without an
					// event: its changelog record changes either way.
					d.markDirty(ps, o)
					if o.se.Held() {
						d.shuts.Inc()
					}
					if xev := o.se.Explained(ts); xev.Transition != stateevents.None {
						if err := d.emitState(emit, o, xev, ts); err != nil {
							return err
						}
					}
				}
				d.watch(ps, o) // enabled again, its oper-status may be due
			}
		}
		if class == stateevents.ClassOperStatus && f != nil && f.lldp != nil &&
			was != stateevents.StatusDown && st.se.Status() == stateevents.StatusDown {
			d.markDirty(ps, f.lldp) // as above
			if xev := f.lldp.se.Explained(ts); xev.Transition != stateevents.None {
				if err := d.emitState(emit, f.lldp, xev, ts); err != nil {
					return err
				}
			}
		}
		if ev.Transition == stateevents.None && class == stateevents.ClassOperStatus {
			if tev := st.se.Tick(cfg, ts, enabledAt(st)); tev.Transition != stateevents.None {
				ev.Transition, ev.Rule, ev.StartsAt = tev.Transition, tev.Rule, tev.StartsAt
			}
		}
	}
	ps.sawState(st)
	if ev.Reason != stateevents.ReasonNone {
		d.unknownStates[ev.Reason].Inc()
	}
	d.watch(ps, st)
	if ev.Transition == stateevents.None {
		return nil
	}
	return d.emitState(emit, st, ev, ts)
}

// settleHeld ends the link_down st holds (stateevents.Tracker.Hold)
// before st takes value v at ts: announced (emitted with its own time)
// when v is a change of st's status, unannounced when v says admin down
// (the shut arrived on the series itself: IOS-XR's im-state-admin-down).
// A repeated value, or one older than st's latest, leaves it held: time
// alone (Tick) announces it.
func (d *Stage) settleHeld(st *seriesState, class stateevents.Class, ts int64, v string, emit func(*kgo.Record)) error {
	if !st.se.Held() || ts < st.se.LastTS() {
		return nil
	}
	switch s, _ := stateevents.Parse(class, v); s {
	case st.se.Status(), stateevents.StatusNone:
		return nil
	case stateevents.StatusAdminDown:
		st.se.Explained(ts)
		d.shuts.Inc()
		return nil
	}
	return d.emitState(emit, st, st.se.Release(), ts)
}

// mayShut reports whether the interface f of the oper-status series st
// has another series that may yet say it was shut: an admin-status
// series, or a second oper-status one (whose values may carry the shut).
func mayShut(f *ifaceState, st *seriesState) bool {
	return f != nil && (len(f.admins) > 0 || len(f.opers) > 1)
}

// lldpExplained reports whether a drop at ts of the LLDP neighbour count
// of interface f is the interface's own event: it is down, or was at some
// time within the flap window before ts (a device drops a neighbour when
// the port goes down, or once its hold time, typically 120 s, has passed
// without the neighbour's frames). Its link_down, flapping, carrier_flap
// or admin_down is then the alert.
func lldpExplained(f *ifaceState, ts int64, cfg *stateevents.Config) bool {
	return f != nil && f.down(ts-int64(cfg.FlapWindow), ts)
}

// adminShut reports whether the oper-status series st of interface f is
// down on purpose at ts: one of its admin-status series is down, or was
// at some time in the stretch st has been down for, or another of its
// oper-status series says admin down (IOS-XR's im-state-admin-down beside
// OpenConfig's oper-status); a series outdated in saying admin down does
// not count. A link that comes back from a shut is no flap, also when
// admin-status came up first.
func adminShut(f *ifaceState, st *seriesState, ts int64) bool {
	if f == nil {
		return false
	}
	for _, o := range f.opers {
		if o != st && o.se.Status() == stateevents.StatusAdminDown && !f.outdated(o) {
			return true
		}
	}
	if len(f.admins) == 0 {
		return false
	}
	for _, a := range f.admins {
		if a.se.Status() == stateevents.StatusAdminDown && !f.outdated(a) {
			return true
		}
	}
	downAt, upAt := st.se.Stretch()
	return st.se.Status() != stateevents.StatusUp && upAt <= downAt && f.anyDownWithin(f.admins, downAt, ts)
}

// enabledAt returns when the interface of the oper-status series st was
// enabled again while st was down, 0 when it was not (or st is of another
// class): see stateevents.Tracker.Tick. With several admin-status series
// (OpenConfig's and a native one), it is enabled when every one that has
// a verdict is up, at the latest of their returns, and none is admin down.
// Another oper-status series of the interface counts as one (IOS-XR's
// state, whose values carry the shut, beside its line-state or
// OpenConfig's oper-status): not enabled while it says admin down,
// enabled when it left that for down, or when it came up. st being down
// without an alarm was shut, so a sibling that came up since is enabled.
// A series outdated in saying admin down counts for nothing (the one that
// outdates it tells when the interface was enabled).
func enabledAt(st *seriesState) int64 {
	f := st.iface
	if st.se.Class() != stateevents.ClassOperStatus || f == nil {
		return 0
	}
	var at int64
	for _, o := range f.opers {
		if o == st {
			continue
		}
		switch o.se.Status() {
		case stateevents.StatusAdminDown:
			if !f.outdated(o) {
				return 0
			}
		case stateevents.StatusDown:
			// Only a change from admin down to down leaves its down
			// stretch's start before its latest transition.
			if down, _ := o.se.Stretch(); down < o.se.Changed() {
				at = max(at, o.se.Changed())
			}
		case stateevents.StatusUp:
			_, up := o.se.Stretch()
			at = max(at, up)
		}
	}
	for _, a := range f.admins {
		switch a.se.Status() {
		case stateevents.StatusUp:
			_, up := a.se.Stretch()
			at = max(at, up)
		case stateevents.StatusNone:
		default:
			if !f.outdated(a) {
				return 0
			}
		}
	}
	return at
}

// watch puts st among its partition's series whose verdict can change with
// time alone (stateevents.Tracker.Due), which the samples of their device
// tick (tickDevice). A series stays until a tick finds nothing due.
func (d *Stage) watch(ps *partState, st *seriesState) {
	if st.watched || st.se.Due(&d.cfg.States, enabledAt(st)) == 0 {
		return
	}
	st.watched = true
	if ps.watched == nil {
		ps.watched = map[string][]*seriesState{}
	}
	list := ps.watched[st.key.Device]
	// In key order: a restored partition ticks them in the same order as
	// the instance that wrote its changelog.
	i, _ := slices.BinarySearchFunc(list, st, func(a, b *seriesState) int {
		return cmp.Or(cmp.Compare(a.key.Metric, b.key.Metric), cmp.Compare(a.key.Keys, b.key.Keys))
	})
	ps.watched[st.key.Device] = slices.Insert(list, i, st)
}

// unwatch takes st out of its partition's watched series.
func unwatch(ps *partState, st *seriesState) {
	if !st.watched {
		return
	}
	st.watched = false
	list := slices.DeleteFunc(ps.watched[st.key.Device], func(o *seriesState) bool { return o == st })
	if len(list) == 0 {
		delete(ps.watched, st.key.Device)
	} else {
		ps.watched[st.key.Device] = list
	}
}

// tickDevice ticks the watched series of device at ts, the time of one of
// its samples, and emits what changes. Series with nothing due any more
// leave the watch.
func (d *Stage) tickDevice(ps *partState, device string, ts int64, emit func(*kgo.Record)) error {
	d.stateGen++ // as updateState
	list := ps.watched[device]
	for i := 0; i < len(list); i++ {
		st := list[i]
		enabled := enabledAt(st)
		due := st.se.Due(&d.cfg.States, enabled)
		if due != 0 && ts < due {
			continue
		}
		if ev := st.se.Tick(&d.cfg.States, ts, enabled); ev.Transition != stateevents.None {
			d.markDirty(ps, st)
			if err := d.emitState(emit, st, ev, ts); err != nil {
				return err
			}
		}
		if st.se.Due(&d.cfg.States, enabled) == 0 {
			unwatch(ps, st)
			list = ps.watched[device]
			i--
		}
	}
	return nil
}

// emitState emits the detection of a state transition: detector (and
// detectors) the rule (link_down, session_down, component_down,
// admin_down, flapping, carrier_flap, neighbors_down, target_down,
// lldp_neighbor_lost), severity by rule, score 1 on firing an alarm and 0
// otherwise; observed is 1 for up and 0 for down (expected 1) or, for an
// established-neighbours or LLDP neighbour count, the count (expected the
// count before the drop). The event time is the sample's.
func (d *Stage) emitState(emit func(*kgo.Record), st *seriesState, ev stateevents.Event, ts int64) error {
	k, t := st.key, st.se
	if ev.Transition == stateevents.Fired {
		ts = ev.StartsAt // a held alert's, announced later (Hold)
	}
	det := d.stateDetection(k, ev, ts)
	state, rule := det.State, det.Detector
	det.Expected = 1
	if state == schemas.StateFiring && det.Severity != schemas.SeverityInfo {
		det.Score = 1
	}
	switch {
	case t.Class().IsLevel():
		det.Observed, det.Expected = t.Level()
	case t.Status() == stateevents.StatusUp || (t.Class() == stateevents.ClassCarrier && state == schemas.StateResolved):
		det.Observed = 1
	}
	det.Band = schemas.Band{Lower: det.Expected, Upper: det.Expected}
	det.Annotations["description"] = d.describeState(st, ev, ts)
	d.log.Info("detection", "state", state, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "detector", rule, "severity", det.Severity, "value", t.Raw())
	return d.det.Send(emit, det)
}

// stateDetection returns the detection of ev, an event of the state
// series k, at ts: its transition, rule, severity and summary; what it
// observed and why are the caller's.
func (d *Stage) stateDetection(k schemas.SeriesKey, ev stateevents.Event, ts int64) *schemas.Detection {
	det := d.det.New(detections.Transition{Series: k, Firing: ev.Transition != stateevents.Resolved, TS: ts, StartsAt: ev.StartsAt}, nil)
	rule := ev.Rule.String()
	det.Detector, det.Detectors, det.Severity = rule, []string{rule}, ev.Rule.Severity()
	det.Annotations["summary"] = detections.Summary(rule, det.State, k)
	return det
}

// describeState is the description of a state detection, e.g.
// "oper-status LOWER_LAYER_DOWN at 2026-11-01T00:45:00Z (admin-status UP)".
func (d *Stage) describeState(st *seriesState, ev stateevents.Event, ts int64) string {
	t := st.se
	at := time.Unix(0, ts).UTC().Format(time.RFC3339Nano)
	var s string
	switch t.Class() {
	case stateevents.ClassCarrier:
		s = fmt.Sprintf("carrier-transitions %d at %s", t.Count(), at)
	case stateevents.ClassNeighbors:
		level, base := t.Level()
		s = fmt.Sprintf("established neighbours %g at %s (%g before the drop)", level, at, base)
	case stateevents.ClassLLDP:
		level, base := t.Level()
		s = fmt.Sprintf("LLDP neighbours on %s %g at %s (%g before the drop)", ifaceName(st.key.Keys), level, at, base)
		if f := st.iface; f != nil && len(f.opers) > 0 {
			s += fmt.Sprintf(" (oper-status %s)", f.oper().se.Raw())
		}
	default:
		s = fmt.Sprintf("%s %s at %s", t.Class(), t.Raw(), at)
		if f := st.iface; t.Class() == stateevents.ClassOperStatus && f != nil && len(f.admins) > 0 {
			s += fmt.Sprintf(" (admin-status %s)", f.admin().se.Raw())
		}
	}
	switch {
	case ev.Rule == stateevents.RuleFlapping && ev.Transition != stateevents.Resolved:
		c := &d.cfg.States
		s += fmt.Sprintf("; flapping: %d transitions within %v", c.FlapCount, c.FlapWindow)
	case ev.Transition == stateevents.Resolved:
		s += fmt.Sprintf("; %s since %s", ev.Rule, time.Unix(0, ev.StartsAt).UTC().Format(time.RFC3339Nano))
	}
	return s
}

// explain returns the interface state that explains an ensemble detection
// on one of its series at ts, e.g. "; Hu0/0/0/10 oper-status DOWN at
// 2026-…": its oper-status when that is not up or changed within the flap
// window, and a carrier-transitions increase within it. Empty otherwise
// (and for a series of no interface: the zero view).
func (d *Stage) explain(v *ifaceView, ts int64) string {
	recent := func(changed int64) bool {
		return changed != 0 && changed <= ts && ts-changed <= int64(d.cfg.States.FlapWindow)
	}
	var b strings.Builder
	if v.oper && v.operChanged != 0 && (v.operStatus != stateevents.StatusUp || recent(v.operChanged)) {
		fmt.Fprintf(&b, "; %s oper-status %s at %s", ifaceName(v.operKeys), v.operRaw,
			time.Unix(0, v.operChanged).UTC().Format(time.RFC3339Nano))
	}
	if v.carrier && recent(v.carrierChanged) {
		fmt.Fprintf(&b, "; %s carrier-transitions %d at %s", ifaceName(v.carrierKeys), v.carrierCount,
			time.Unix(0, v.carrierChanged).UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

// ifaceName returns the interface name of keys "name=IF" (OpenConfig, SR
// Linux) or "interface-name=IF" (IOS-XR's native models); the keys when
// they have another form (ifaceKeys tells the two forms apart).
func ifaceName(keys string) string {
	if n, ok := strings.CutPrefix(ifaceKeys(keys), "name="); ok && !strings.Contains(n, ",") {
		return n
	}
	return keys
}
