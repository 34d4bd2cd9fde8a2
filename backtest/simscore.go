package backtest

import (
	"fmt"
	"slices"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// What the detect stage is expected to do about a fault kind.
const (
	// ExpectFire: the detect stage must alert on the faulted device; the
	// fault counts in "every injected fault detected".
	ExpectFire = "fire"
	// ExpectSilent: the fault is not a failure the detect stage should
	// alert on; a firing detection in its window is a false incident.
	ExpectSilent = "silent"
	// ExpectOther: another stage (maintain, power) is meant to catch it;
	// whether detect fired is reported, not required, and its window is no
	// false incident.
	ExpectOther = "other-stage"
)

// KindPath is which stage, and which signal, is meant to catch a fault kind.
type KindPath struct {
	Path   string `json:"path"`   // the stage and the signal
	Expect string `json:"expect"` // ExpectFire, ExpectSilent or ExpectOther
}

// SimKindPaths maps every fault kind of the simulator to the path meant to
// catch it. A kind missing here (a new one) scores as ExpectOther with path
// "unclassified", so it shows in the report instead of passing silently.
var SimKindPaths = map[string]KindPath{
	sim.FaultTrafficSpike:      {"detect: counter rate (in-octets, in-pkts)", ExpectFire},
	sim.FaultTrafficDrop:       {"detect: counter rate (in-octets, in-pkts)", ExpectFire},
	sim.FaultLinkFlap:          {"detect: state (oper-status), traffic to 0", ExpectFire},
	sim.FaultLinkDown:          {"detect: state (oper-status, BFD, BGP), traffic to 0, both ends", ExpectFire},
	sim.FaultBGPReset:          {"detect: state (BGP session), established-neighbors, prefixes, both ends", ExpectFire},
	sim.FaultReroute:           {"detect: state of the failed uplink; traffic shift on the others", ExpectFire},
	sim.FaultRxErrors:          {"detect: the in-errors rate's quiet-counter rule (error_run), and its ensemble", ExpectFire},
	sim.FaultFanFailure:        {"detect: fan speed to 0 at the stop (the wear before it: maintain)", ExpectFire},
	sim.FaultOpticDegradation:  {"detect: the drift rule on optic power (the trend: maintain)", ExpectFire},
	sim.FaultTargetUnreachable: {"detect: state (the collector's target state), the peers' links down", ExpectFire},
	sim.FaultPSUDegradation:    {"maintain and power: PSU efficiency trend", ExpectOther},
	sim.FaultCounterReset:      {"none: counter-to-rate starts a new baseline", ExpectSilent},
}

// kindPath returns the path of kind, "unclassified" when unknown.
func kindPath(kind string) KindPath {
	if p, ok := SimKindPaths[kind]; ok {
		return p
	}
	return KindPath{"unclassified", ExpectOther}
}

// Roles of a device in an injected fault.
const (
	RoleDevice    = "device"    // the faulted device
	RolePeer      = "peer"      // the other end of the link or BGP session
	RoleEffect    = "effect"    // sees the fault's effects (rerouted traffic)
	RolePrecursor = "precursor" // the faulted device while its component wears
)

// SimEvent is one device's part in an injected fault.
type SimEvent struct {
	Event
	Fault int    `json:"fault"` // index in the fleet's faults
	Role  string `json:"role"`
}

// SimTruth is the ground truth of a simulated fleet: its faults and each
// device's part in them, from the simulator's own labels.
type SimTruth struct {
	Faults []sim.Fault
	Events []SimEvent
}

// SimGroundTruth returns the ground truth of cfg (as SimConfig runs it):
// for each fault, an event per device its labels name, from the first
// label row's start to its end, with the device's role. Events read
// "sim.faults:N" for the fault at index N.
func SimGroundTruth(cfg sim.Config) (*SimTruth, error) {
	cfg = SimConfig(cfg)
	t := &SimTruth{Faults: cfg.Faults}
	for i, ft := range cfg.Faults {
		one := cfg
		one.Faults = []sim.Fault{ft}
		f, err := sim.New(one)
		if err != nil {
			return nil, fmt.Errorf("cannot simulate: sim.%w", err)
		}
		var order []string
		rows := map[string][]sim.Label{}
		for _, l := range f.Labels() {
			if rows[l.Device] == nil {
				order = append(order, l.Device)
			}
			rows[l.Device] = append(rows[l.Device], l)
		}
		// The faulted device first, then the others as the labels name them.
		slices.SortStableFunc(order, func(a, b string) int { return b2i(b == ft.Device) - b2i(a == ft.Device) })
		for _, dev := range order {
			r := rows[dev]
			role := RoleEffect
			switch {
			case dev == ft.Device:
				role = RoleDevice
			case slices.ContainsFunc(r, func(l sim.Label) bool { return l.EffectOf == nil }):
				role = RolePeer
			}
			ev := Event{Device: dev, Keys: r[0].Keys, Kind: ft.Kind, Start: r[0].Start, End: r[0].End, File: "sim.faults", Line: i}
			t.Events = append(t.Events, SimEvent{Event: ev, Fault: i, Role: role})
			if role == RoleDevice && ft.Precursor > 0 {
				ev.Start, ev.End = ev.Start.Add(-ft.Precursor), ev.Start
				t.Events = append(t.Events, SimEvent{Event: ev, Fault: i, Role: RolePrecursor})
			}
		}
	}
	return t, nil
}

// Scoring returns the events a backtest of the fleet scores (the faulted
// device and the peers of faults the detect stage must fire on) and the
// quiet windows (effects, precursors, faults meant for other stages):
// firing detections in either are not false incidents. The windows of
// faults the detect stage should stay silent on are in neither.
func (t *SimTruth) Scoring() (events, quiet []Event) {
	for i := range t.Events {
		e := &t.Events[i]
		switch {
		case kindPath(e.Kind).Expect == ExpectSilent:
		case scoresSim(e):
			events = append(events, e.Event)
		default:
			quiet = append(quiet, e.Event)
		}
	}
	return events, quiet
}

// scoresSim reports whether Score scores e as an event (Scoring): a
// faulted device or a peer, of a kind the detect stage should fire on.
func scoresSim(e *SimEvent) bool {
	return kindPath(e.Kind).Expect == ExpectFire && (e.Role == RoleDevice || e.Role == RolePeer)
}

// FaultResult is how one injected fault was detected.
type FaultResult struct {
	Index  int    `json:"index"` // in the fleet's faults
	Kind   string `json:"kind"`
	Device string `json:"device"`
	Keys   string `json:"keys,omitempty"`
	KindPath
	// Device is how the faulted device's part was detected.
	EventResult EventResult `json:"device_result"`
	// Peers and PeersDetected count the other ends; Effects and
	// EffectsDetected the devices that saw its effects.
	Peers           int `json:"peers"`
	PeersDetected   int `json:"peers_detected"`
	Effects         int `json:"effects"`
	EffectsDetected int `json:"effects_detected"`
	// PrecursorFired is whether the detect stage fired while the component
	// wore, before the labelled start.
	PrecursorFired bool `json:"precursor_fired"`
	// Outside: the fault's window on its device does not overlap the
	// replayed data (Scoring.Data), so it is not scored: neither detected
	// nor missed, and in no count of its kind. Peers and effects outside
	// the data are likewise not counted.
	Outside bool `json:"outside_data"`
}

// Detected reports whether the detect stage fired on the faulted device in
// the fault's window.
func (f *FaultResult) Detected() bool { return f.EventResult.Detected }

// KindResult sums the faults of one kind.
type KindResult struct {
	Kind string `json:"kind"`
	KindPath
	Faults        int           `json:"faults"`
	Detected      int           `json:"detected"` // on the faulted device
	Peers         int           `json:"peers"`
	PeersDetected int           `json:"peers_detected"`
	MedianLatency time.Duration `json:"median_latency_ns"`
	MaxLatency    time.Duration `json:"max_latency_ns"`
	// OK: every fault detected (ExpectFire), none fired on (ExpectSilent);
	// always true for ExpectOther.
	OK bool `json:"ok"`
	// Outside counts the faults of the kind outside the replayed data, in
	// none of the counts above.
	Outside int `json:"outside_data"`
}

// SimReport is how a simulated fleet's injected faults were detected.
type SimReport struct {
	Faults []FaultResult `json:"faults"`
	Kinds  []KindResult  `json:"kinds"`
	// Required and RequiredDetected count the faults of ExpectFire kinds.
	Required         int `json:"required"`
	RequiredDetected int `json:"required_detected"`
	// Outside counts the faults of ExpectFire kinds outside the replayed
	// data, in neither count above.
	Outside int `json:"outside_data"`
	// FalseIncidents are the incidents outside each device's own fault
	// windows and quiet windows (Report.FalseOwn), per 100 device-hours.
	DeviceHours            float64 `json:"device_hours"`
	FalseIncidents         int     `json:"false_incidents"`
	FalsePer100DeviceHours float64 `json:"false_incidents_per_100_device_hours"`
}

// ScoreSim scores the detections of a simulated backtest fault by fault
// and kind by kind; r is the Report of Score on t.Scoring() (for the false
// incidents). A fault whose window on its device does not overlap sc.Data
// is marked Outside and not scored. A device's part in a fault is detected
// by a firing detection of the device in [start − Before, end + After], the
// After tail cut as Score cuts it (eventWindows) before the window of the
// device's next part in a fault that Score scores (Scoring), so that one
// detection does not detect two faults of a device; so a precursor's
// window ends at its fault's start.
func ScoreSim(t *SimTruth, dets []schemas.Detection, exp map[string]Exposure, sc Scoring, r *Report) SimReport {
	sc = sc.withDefaults()
	firing := firingByDevice(dets)
	out := SimReport{DeviceHours: r.DeviceHours, FalseIncidents: r.FalseOwn}
	if r.DeviceHours > 0 {
		out.FalsePer100DeviceHours = 100 * float64(r.FalseOwn) / r.DeviceHours
	}
	for i, ft := range t.Faults {
		out.Faults = append(out.Faults, FaultResult{Index: i, Kind: ft.Kind, Device: ft.Device, KindPath: kindPath(ft.Kind)})
	}
	var scored []SimEvent
	for _, e := range t.Events {
		if sc.Data != nil && !sc.Data.Covers(&e.Event) {
			if e.Role == RoleDevice {
				fr := &out.Faults[e.Fault]
				fr.EventResult, fr.Keys, fr.Outside = EventResult{Event: e.Event}, e.Keys, true
			}
			continue
		}
		scored = append(scored, e)
	}
	// Windows are cut by the events Score scores (Scoring: the faulted
	// devices and their peers of kinds the stage should fire on), as Score
	// cuts them, not by a silent or other stage's fault, which Score does
	// not see: the same detection is the same fault's for both.
	evs := make([]Event, len(scored))
	var cutters []Event
	for i := range scored {
		evs[i] = scored[i].Event
		if scoresSim(&scored[i]) {
			cutters = append(cutters, scored[i].Event)
		}
	}
	his := windowsCutBy(evs, cutters, sc)
	for i, e := range scored {
		fr := &out.Faults[e.Fault]
		er := scoreEvent(e.Event, his[i], firing[e.Device], exp[e.Device].Interval, sc)
		switch e.Role {
		case RoleDevice:
			fr.EventResult, fr.Keys = er, e.Keys
		case RolePeer:
			fr.Peers++
			fr.PeersDetected += b2i(er.Detected)
		case RoleEffect:
			fr.Effects++
			fr.EffectsDetected += b2i(er.Detected)
		case RolePrecursor:
			fr.PrecursorFired = er.Detected
		}
	}
	out.Kinds = sumKinds(out.Faults)
	for _, k := range out.Kinds {
		if k.Expect == ExpectFire {
			out.Required += k.Faults
			out.RequiredDetected += k.Detected
			out.Outside += k.Outside
		}
	}
	return out
}

// sumKinds sums fault results by kind, in the simulator's order of kinds
// (unknown kinds last).
func sumKinds(faults []FaultResult) []KindResult {
	byKind := map[string]*KindResult{}
	lat := map[string][]time.Duration{}
	var kinds []string
	for i := range faults {
		f := &faults[i]
		k := byKind[f.Kind]
		if k == nil {
			k = &KindResult{Kind: f.Kind, KindPath: f.KindPath}
			byKind[f.Kind] = k
			kinds = append(kinds, f.Kind)
		}
		if f.Outside {
			k.Outside++
			continue
		}
		k.Faults++
		k.Peers += f.Peers
		k.PeersDetected += f.PeersDetected
		if f.Detected() {
			k.Detected++
			lat[f.Kind] = append(lat[f.Kind], f.EventResult.Latency)
		}
	}
	rank := func(k string) int {
		if i := slices.Index(sim.FaultKinds, k); i >= 0 {
			return i
		}
		return len(sim.FaultKinds)
	}
	slices.SortStableFunc(kinds, func(a, b string) int { return rank(a) - rank(b) })
	out := make([]KindResult, 0, len(kinds))
	for _, name := range kinds {
		k := byKind[name]
		if l := lat[name]; len(l) > 0 {
			slices.Sort(l)
			k.MedianLatency, k.MaxLatency = l[(len(l)-1)/2], l[len(l)-1]
		}
		switch k.Expect {
		case ExpectFire:
			k.OK = k.Detected == k.Faults
		case ExpectSilent:
			k.OK = k.Detected == 0
		default:
			k.OK = true
		}
		out = append(out, *k)
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
