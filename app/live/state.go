// Package live keeps the state of a running pipeline that a person looks
// at: throughput and lag per stage, collector targets up or down, firing
// alerts, incidents, the latest detections, predicted failures, energy per device and
// the savings found. A Watcher builds it from the output topics and the
// process's metrics; State is the pure part, fed one decoded message at a
// time, so the view and the run's summary read the same figures.
package live

import (
	"cmp"
	"slices"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// Bounds of what a Snapshot holds.
const (
	latestDetections = 50
	listLimit        = 200
	// closedPredictions bounds the closed predicted failures kept after
	// the open ones (most recently closed first).
	closedPredictions = 20
)

// Alert is one alert that is firing (shown when the correlate stage does
// not run; incidents replace them when it does).
type Alert struct {
	Device, Metric, Keys string
	Cause                string    // the rule of a state event (e.g. link_down) or the detector that fired
	Severity             string    // info, warning or critical
	Since                time.Time // device time the alert started
}

// Detection is one detection event with the band its detector expected.
type Detection struct {
	Time                 time.Time // device time
	State                string    // firing or resolved
	Device, Metric, Keys string
	Detector             string
	Observed, Expected   float64
	BandLower, BandUpper float64
	Score                float64
	StateEvent, Multivar bool
	Summary              string
}

// Prediction is the latest event of one predicted failure, open or closed.
type Prediction struct {
	Device, Component, Signal string
	Predicted                 time.Time     // when the signal is predicted to reach its threshold
	TimeToFailure             time.Duration // Predicted − the event's device time
	Confidence                float64
	Severity                  string
	// Closed is why the prediction closed (schemas.CloseFailed: the
	// failure came; CloseRecovered, CloseStale), "" while open; ClosedAt
	// is the device time it closed.
	Closed   string
	ClosedAt time.Time
}

// Energy is the latest power window of one device.
type Energy struct {
	Device    string
	Watts     float64 // measured when the device reports it, else modelled
	KWhPerDay float64 // Watts over a day
}

// Saving is one savings opportunity the power stage found.
type Saving struct {
	Device, Component, Reason string
	KWhPerDay                 float64
	Detail                    string
}

// Stage is the throughput and lag of one stage.
type Stage struct {
	Name     string
	Records  float64 // input records so far
	PerSec   float64 // input records per second since the previous snapshot
	Lag      float64 // records behind the end of its input
	Rows     float64 // rows flushed or outputs committed
	RowsRate float64
}

// Target is a collector target and whether it delivers.
type Target struct {
	Name string
	Up   bool
}

// Counts are the totals of a run, for its summary line.
type Counts struct {
	Detections  int // firing detection events
	StateAlerts int // firing events of state rules (link_down, bgp_down, …)
	// StateCauses are the state rules that fired, sorted.
	StateCauses []string
	Predicted   int // distinct components with a predicted failure
	Savings     int // distinct savings opportunities
	SavingsKWh  float64
	Devices     int // devices with an energy figure
	// Incidents are the distinct incidents seen on the incidents topic,
	// OpenIncidents those open now, IncidentRules the rules of their
	// causes (link, traffic, …), sorted.
	Incidents, OpenIncidents int
	IncidentRules            []string
	// OpenPredicted are the predicted failures open now (not failed,
	// recovered or stale).
	OpenPredicted int
}

// Snapshot is the state at one moment; it shares nothing with State.
type Snapshot struct {
	DeviceTime  time.Time // latest device time seen in any message
	Samples     float64   // samples acknowledged by Kafka
	SamplesRate float64
	Stages      []Stage
	Targets     []Target
	Alerts      []Alert // firing, oldest first
	// Incidents are the open incidents, newest first, then the latest
	// resolved ones; WithIncidents tells that the incidents topic is
	// read (the correlate stage runs), so the view shows them instead of
	// the firing alerts.
	Incidents     []Incident
	WithIncidents bool
	Detections    []Detection  // latest first
	Predictions   []Prediction // open, soonest failure first, then the latest closed, most recently closed first
	Energy        []Energy     // by device
	Savings       []Saving     // largest first
	Counts        Counts
	Errors        int // messages that could not be decoded
}

// State accumulates decoded messages. It is not safe for concurrent use
// (Watcher guards it).
type State struct {
	now         time.Time
	alerts      map[string]Alert // by fingerprint
	detections  []Detection      // ring, newest last
	predictions map[string]Prediction
	predicted   map[string]bool
	energy      map[string]Energy
	savings     map[string]Saving
	causes      map[string]bool
	incidents   map[string]Incident // by id
	counts      Counts
	errors      int
}

// NewState returns an empty State.
func NewState() *State {
	return &State{alerts: map[string]Alert{}, predictions: map[string]Prediction{}, predicted: map[string]bool{},
		energy: map[string]Energy{}, savings: map[string]Saving{}, causes: map[string]bool{},
		incidents: map[string]Incident{}}
}

func (s *State) seen(t time.Time) {
	if t.After(s.now) {
		s.now = t
	}
}

// AddDetection records a detection event.
func (s *State) AddDetection(d *schemas.Detection) {
	s.seen(d.EventTime)
	state := isStateRule(d.Detector)
	if d.State == schemas.StateFiring {
		s.counts.Detections++
		if state {
			s.counts.StateAlerts++
			s.causes[d.Detector] = true
		}
		s.alerts[d.Fingerprint] = Alert{Device: d.Device, Metric: d.Metric, Keys: d.Keys, Cause: d.Detector, Severity: d.Severity, Since: d.StartsAt}
	} else {
		delete(s.alerts, d.Fingerprint)
	}
	s.detections = append(s.detections, Detection{Time: d.EventTime, State: d.State, Device: d.Device, Metric: d.Metric, Keys: d.Keys,
		Detector: d.Detector, Observed: d.Observed, Expected: d.Expected, BandLower: d.Band.Lower, BandUpper: d.Band.Upper,
		Score: d.Score, StateEvent: state, Multivar: len(d.Contributors) > 0, Summary: d.Annotations["summary"]})
	if len(s.detections) > 2*latestDetections {
		s.detections = slices.Clone(s.detections[len(s.detections)-latestDetections:])
	}
}

// stateRules are the rules of the detect stage's state events
// (detectors/stateevents): the detector of their detections.
var stateRules = []string{"link_down", "session_down", "component_down", "admin_down", "flapping", "carrier_flap", "neighbors_down"}

// isStateRule tells a state-event rule from a numeric detector.
func isStateRule(detector string) bool { return slices.Contains(stateRules, detector) }

// AddMaintenance records a maintenance event.
func (s *State) AddMaintenance(e *schemas.MaintenanceEvent) {
	s.seen(e.EventTime)
	if !s.predicted[e.Key] {
		s.predicted[e.Key] = true
		s.counts.Predicted++
	}
	// A closed prediction stays, with its reason: the showcase's worn
	// components close as failed seconds after they are predicted, and the
	// view would otherwise list none of the predicted failures it counts.
	p := Prediction{Device: e.Device, Component: e.Component, Signal: e.Signal, Predicted: e.PredictedFailure,
		TimeToFailure: e.PredictedFailure.Sub(e.EventTime), Confidence: e.Confidence, Severity: e.Severity}
	if e.State == schemas.MaintenanceClosed {
		p.Closed, p.ClosedAt = cmp.Or(e.CloseReason, "closed"), e.EventTime
		if e.ClosedAt != nil {
			p.ClosedAt = *e.ClosedAt
		}
	}
	s.predictions[e.Key] = p
}

// AddPower records the rows of one tk.power message.
func (s *State) AddPower(rows []schemas.PowerRow) {
	for _, r := range rows {
		s.seen(time.Unix(0, r.WindowEnd).UTC())
		switch r.Row {
		case schemas.PowerRowDevice:
			w := r.MeasuredW
			if w != w { // NaN: the device reports no measurement
				w = r.ModelledW
			}
			s.energy[r.Device] = Energy{Device: r.Device, Watts: w, KWhPerDay: w * 24 / 1000}
		case schemas.PowerRowSaving:
			s.savings[r.Device+"\xff"+r.Component+"\xff"+r.Reason] = Saving{Device: r.Device, Component: r.Component, Reason: r.Reason,
				KWhPerDay: r.ModelledW * 24 / 1000, Detail: r.Detail}
		}
	}
}

// DecodeError counts a message that could not be decoded.
func (s *State) DecodeError() { s.errors++ }

// Snapshot copies the state out; the stage, target and sample figures are
// the Watcher's to fill.
func (s *State) Snapshot() Snapshot {
	snap := Snapshot{DeviceTime: s.now, Counts: s.counts, Errors: s.errors}
	snap.Counts.StateCauses = sortedKeys(s.causes)
	s.incidentSnapshot(&snap)
	for _, a := range s.alerts {
		snap.Alerts = append(snap.Alerts, a)
	}
	slices.SortFunc(snap.Alerts, func(a, b Alert) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Keys, b.Keys), cmp.Compare(a.Metric, b.Metric))
	})
	n := min(len(s.detections), latestDetections)
	for i := len(s.detections) - 1; i >= len(s.detections)-n; i-- {
		snap.Detections = append(snap.Detections, s.detections[i])
	}
	var open, closed []Prediction
	for _, p := range s.predictions {
		if p.Closed == "" {
			open = append(open, p)
		} else {
			closed = append(closed, p)
		}
	}
	order := func(a, b Prediction) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Component, b.Component), cmp.Compare(a.Signal, b.Signal))
	}
	slices.SortFunc(open, func(a, b Prediction) int { return cmp.Or(a.Predicted.Compare(b.Predicted), order(a, b)) })
	slices.SortFunc(closed, func(a, b Prediction) int { return cmp.Or(b.ClosedAt.Compare(a.ClosedAt), order(a, b)) })
	snap.Counts.OpenPredicted = len(open)
	snap.Predictions = append(open[:min(len(open), listLimit)], closed[:min(len(closed), closedPredictions)]...)
	for _, e := range s.energy {
		snap.Energy = append(snap.Energy, e)
	}
	slices.SortFunc(snap.Energy, func(a, b Energy) int { return cmp.Compare(a.Device, b.Device) })
	for _, v := range s.savings {
		snap.Savings = append(snap.Savings, v)
		snap.Counts.SavingsKWh += v.KWhPerDay
	}
	slices.SortFunc(snap.Savings, func(a, b Saving) int {
		return cmp.Or(cmp.Compare(b.KWhPerDay, a.KWhPerDay), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Component, b.Component))
	})
	snap.Counts.Savings, snap.Counts.Devices = len(snap.Savings), len(snap.Energy)
	snap.Alerts = snap.Alerts[:min(len(snap.Alerts), listLimit)]
	snap.Savings = snap.Savings[:min(len(snap.Savings), listLimit)]
	return snap
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
