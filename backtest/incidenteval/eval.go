// Package incidenteval scores the incident rules (detectors/incidents)
// against a simulated fleet's ground truth: detections from the real detect
// path (backtest.Run over the simulator's samples) go through the rules,
// and each injected root cause should come out as exactly one incident with
// the right rule and entity.
package incidenteval

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/backtest"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// RootCause is one injected root cause: the faults of one kind that start
// together (a multi-port surge, a BGP clear of several devices are one).
type RootCause struct {
	Kind    string
	Faults  []sim.Fault
	Devices []string  // every device the faults' labels name (faulted, peers, effects)
	From    time.Time // the first symptom may come from here (precursors included)
	Start   time.Time // the fault's start
	To      time.Time // the last label's end
	// Symptom is its first symptom: the earliest sim.Config.FirstSymptom
	// of its faults (the first sample where one is visible above its
	// series' noise, from the simulator's ground truth and noise model).
	Symptom time.Time
}

// Outcome is how one root cause came out.
type Outcome struct {
	RootCause
	Incidents []*schemas.Incident // the incidents with evidence on its devices in its window
	Correct   bool                // exactly one, with the expected rule and entity
	// OpenLatency is its incident's open time minus the fault's start;
	// SymptomLatency its open time minus the first symptom (negative when
	// it opened before the fault was visible above the noise);
	// CauseLatency the event time at which the incident first carried its
	// final cause, minus the start. Zero unless Correct.
	OpenLatency, SymptomLatency, CauseLatency time.Duration
}

// Result is a scored run.
type Result struct {
	Outcomes      []Outcome
	Spurious      []*schemas.Incident // incidents matching no root cause
	Incidents     int
	Detections    int // detections fed to the rules (firing and resolved)
	DeviceHours   float64
	Correct       int
	Detected      int // root causes with at least one incident
	SilentMatched int // incidents on faults that are meant to stay silent (counter resets)
	// Fired lists, by detector, the series ("device keys metric") each
	// firing detection was on, in output order.
	Fired map[string][]string
}

// SpuriousPer100DeviceHours returns the spurious incidents per 100
// device-hours.
func (r *Result) SpuriousPer100DeviceHours() float64 {
	return 100 * float64(len(r.Spurious)) / r.DeviceHours
}

// DetectionsPerIncident returns detections fed per incident.
func (r *Result) DetectionsPerIncident() float64 {
	return float64(r.Detections) / float64(max(r.Incidents, 1))
}

// Run simulates cfg for span, runs the samples through the detect stage
// (dc) and the detections, in event-time order, through the incident rules
// (ic) with the fleet's inventory, and scores the incidents.
func Run(ctx context.Context, cfg sim.Config, span time.Duration, dc detect.Config, ic incidents.Config) (*Result, error) {
	s, err := Simulate(ctx, cfg, span, dc)
	if err != nil {
		return nil, err
	}
	incs, causeAt, err := Correlate(s.Detections, s.Inventory, ic)
	if err != nil {
		return nil, err
	}
	r := s.Score(incs, causeAt)
	r.Fired = map[string][]string{}
	for _, d := range s.Detections {
		if d.State == schemas.StateFiring {
			r.Fired[d.Detector] = append(r.Fired[d.Detector], d.Device+" "+d.Keys+" "+d.Metric)
		}
	}
	return r, nil
}

// Simulated is a simulated fleet's detections with what scoring them
// needs.
type Simulated struct {
	Detections  []schemas.Detection // from the detect stage, in its output order
	Config      sim.Config          // the fleet's, defaults applied
	Inventory   *schemas.Inventory  // the fleet's topology
	Truth       *backtest.SimTruth
	DeviceHours float64
}

// Simulate simulates cfg for span and runs the samples through the detect
// stage (dc).
func Simulate(ctx context.Context, cfg sim.Config, span time.Duration, dc detect.Config) (*Simulated, error) {
	cfg = backtest.SimConfig(cfg)
	src, err := backtest.OpenSim(cfg, span)
	if err != nil {
		return nil, err
	}
	dets, _, err := backtest.Run(ctx, dc, src, backtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	fleet, err := sim.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot simulate: %w", err)
	}
	truth, err := backtest.SimGroundTruth(cfg)
	if err != nil {
		return nil, err
	}
	return &Simulated{Detections: dets, Config: cfg, Inventory: fleet.Inventory(), Truth: truth, DeviceHours: float64(cfg.Devices) * span.Hours()}, nil
}

// Score scores incidents of s's detections (from Correlate or
// CorrelateInOrder) against its ground truth.
func (s *Simulated) Score(incs []*schemas.Incident, causeAt map[string]time.Time) *Result {
	r := Score(s.Config, s.Truth, incs, causeAt)
	r.Detections = len(s.Detections)
	r.DeviceHours = s.DeviceHours
	return r
}

// Correlate feeds dets, sorted by event time (stable), through a new engine
// and returns the final view of every incident in open order (those merged
// into another left out), and for each incident id the event time at which
// it first carried its final cause.
func Correlate(dets []schemas.Detection, inv *schemas.Inventory, ic incidents.Config) ([]*schemas.Incident, map[string]time.Time, error) {
	dets = slices.Clone(dets)
	slices.SortStableFunc(dets, func(a, b schemas.Detection) int { return a.EventTime.Compare(b.EventTime) })
	return CorrelateInOrder(dets, inv, ic)
}

// CorrelateInOrder is Correlate with dets fed in the order given (an
// arrival order, as on the stream: see Arrival).
func CorrelateInOrder(dets []schemas.Detection, inv *schemas.Inventory, ic incidents.Config) ([]*schemas.Incident, map[string]time.Time, error) {
	if ic.MaxEvidence == 0 {
		// A backtest scores incidents by their evidence and has no
		// message to fit: every member listed.
		ic.MaxEvidence = math.MaxInt32
	}
	if ic.MaxEntities == 0 {
		// Nor by the entities it names (an event's devices).
		ic.MaxEntities = math.MaxInt32
	}
	e, err := incidents.New(ic, inv)
	if err != nil {
		return nil, nil, err
	}
	last := map[string]*schemas.Incident{}
	var order []string
	causeAt := map[string]time.Time{}
	for i := range dets {
		for _, in := range e.Add(&dets[i]) {
			prev := last[in.ID]
			if prev == nil {
				order = append(order, in.ID)
			}
			if prev == nil || prev.Cause != in.Cause || prev.Rule != in.Rule {
				causeAt[in.ID] = dets[i].EventTime
			}
			last[in.ID] = in
		}
	}
	out := make([]*schemas.Incident, 0, len(order))
	for _, id := range order {
		if last[id].MergedInto == "" { // absorbed: its evidence is in the survivor
			out = append(out, last[id])
		}
	}
	return out, causeAt, nil
}

// KindLineCard is the kind of a root cause of link_down faults on
// incidents.DefaultDeviceInterfaces or more ports of one device at once (a
// line card or the device failing): the device rule should name the device.
const KindLineCard = "line_card"

// RootCauses groups the ground truth of cfg's faults by kind and start
// (link_down faults on several ports of one device become KindLineCard).
func RootCauses(cfg sim.Config, t *backtest.SimTruth) []RootCause {
	var out []RootCause
	idx := map[string]int{}
	for _, ev := range t.Events {
		ft := t.Faults[ev.Fault]
		k := fmt.Sprintf("%s@%v", ft.Kind, ft.After)
		i, ok := idx[k]
		if !ok {
			i, idx[k] = len(out), len(out)
			out = append(out, RootCause{Kind: ft.Kind, From: ev.Start, Start: ev.Start, To: ev.End})
		}
		rc := &out[i]
		if ev.Role == backtest.RoleDevice && !slices.ContainsFunc(rc.Faults, func(f sim.Fault) bool { return f == ft }) {
			rc.Faults = append(rc.Faults, ft)
			rc.Start = ev.Start
			if sy := cfg.FirstSymptom(ft); rc.Symptom.IsZero() || sy.Before(rc.Symptom) {
				rc.Symptom = sy
			}
		}
		if !slices.Contains(rc.Devices, ev.Device) {
			rc.Devices = append(rc.Devices, ev.Device)
		}
		rc.From = minTime(rc.From, ev.Start)
		rc.To = maxTime(rc.To, ev.End)
	}
	for i := range out {
		if out[i].Kind == sim.FaultLinkDown && len(out[i].Faults) >= incidents.DefaultDeviceInterfaces &&
			!slices.ContainsFunc(out[i].Faults, func(f sim.Fault) bool { return f.Device != out[i].Faults[0].Device }) {
			out[i].Kind = KindLineCard
		}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// matches reports whether in has evidence on rc's devices within its
// window (a minute before the first symptom to five minutes after the end).
func (rc *RootCause) matches(in *schemas.Incident) bool {
	from, to := rc.From.Add(-time.Minute), rc.To.Add(incidents.DefaultReopen)
	for _, ev := range in.Evidence {
		if slices.Contains(rc.Devices, ev.Device) && !ev.Time.Before(from) && !ev.Time.After(to) {
			return true
		}
	}
	return false
}

// right reports whether in's rule is one that names rc's kind and its
// cause names rc's entity (the link end, device, component or port).
func (rc *RootCause) right(in *schemas.Incident) bool {
	rules := map[string][]string{
		sim.FaultLinkDown: {schemas.RuleLink}, sim.FaultReroute: {schemas.RuleLink}, sim.FaultLinkFlap: {schemas.RuleLink},
		sim.FaultBGPReset: {schemas.RuleSession}, sim.FaultFanFailure: {schemas.RuleHardware}, sim.FaultPSUDegradation: {schemas.RuleHardware},
		sim.FaultOpticDegradation: {schemas.RuleHardware}, sim.FaultTrafficSpike: {schemas.RuleSurge, schemas.RuleTraffic},
		sim.FaultTrafficDrop: {schemas.RuleTraffic}, sim.FaultRxErrors: {schemas.RuleTraffic}, KindLineCard: {schemas.RuleDevice},
		sim.FaultTargetUnreachable: {schemas.RuleDevice},
	}[rc.Kind]
	if !slices.Contains(rules, in.Rule) {
		return false
	}
	for _, f := range rc.Faults {
		name := f.Device
		switch {
		case rc.Kind == sim.FaultBGPReset, rc.Kind == KindLineCard:
		case f.Component != "":
			name = f.Component + " on " + f.Device
		case f.Interface != "":
			name = f.Device + ":" + f.Interface
			if rc.Kind == sim.FaultOpticDegradation {
				name = f.Interface + "-transceiver on " + f.Device
			}
			if in.Rule == schemas.RuleSurge {
				name = f.Interface
			}
		}
		if !strings.Contains(in.Cause, name) {
			return false
		}
	}
	return true
}

// Score matches incidents to the root causes of t, the ground truth of
// cfg (as backtest.SimConfig runs it). An incident with
// evidence in the windows of several root causes (two faults at the same
// time on neighbouring devices) counts for the first whose rule and entity
// it names, else for the first.
func Score(cfg sim.Config, t *backtest.SimTruth, incs []*schemas.Incident, causeAt map[string]time.Time) *Result {
	r := &Result{Incidents: len(incs)}
	rcs := RootCauses(cfg, t)
	owner := make([]int, len(incs))
	for i, in := range incs {
		owner[i] = -1
		for j := range rcs {
			if !rcs[j].matches(in) {
				continue
			}
			if owner[i] < 0 {
				owner[i] = j
			}
			if rcs[j].right(in) {
				owner[i] = j
				break
			}
		}
		if owner[i] < 0 {
			r.Spurious = append(r.Spurious, in)
		}
	}
	for j, rc := range rcs {
		o := Outcome{RootCause: rc}
		for i, in := range incs {
			if owner[i] == j {
				o.Incidents = append(o.Incidents, in)
			}
		}
		if rc.Kind == sim.FaultCounterReset {
			r.SilentMatched += len(o.Incidents)
			continue
		}
		if len(o.Incidents) > 0 {
			r.Detected++
		}
		if len(o.Incidents) == 1 && rc.right(o.Incidents[0]) {
			o.Correct = true
			r.Correct++
			o.OpenLatency = o.Incidents[0].OpenedAt.Sub(rc.Start)
			o.SymptomLatency = o.Incidents[0].OpenedAt.Sub(rc.Symptom)
			o.CauseLatency = causeAt[o.Incidents[0].ID].Sub(rc.Start)
		}
		r.Outcomes = append(r.Outcomes, o)
	}
	return r
}
