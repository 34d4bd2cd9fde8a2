package backtest

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// Scoring windows, as issue 12 defines them.
const (
	// DefaultBefore is how long before an event's start a detection still
	// counts for it (device clocks and label times disagree by seconds).
	DefaultBefore = 10 * time.Second
	// DefaultAfter is how long after an event's end its effects (routing
	// convergence, traffic returning) may still be detected.
	DefaultAfter = 300 * time.Second
	// DefaultMerge joins firing detections of one device into one incident
	// while each comes within DefaultMerge of the previous one.
	DefaultMerge = 60 * time.Second
)

// Exposure is how much of a device a backtest saw.
type Exposure struct {
	Hours    float64       // event-time span of its samples, summed over replays
	Interval time.Duration // mean time between its sample timestamps
}

// Exposures returns the devices' exposure over one or more replays (for
// example one per experiment of a data set).
func Exposures(runs ...Stats) map[string]Exposure {
	span := map[string]int64{}
	steps := map[string]int64{}
	for _, st := range runs {
		for d, sp := range st.Devices {
			span[d] += sp.Last - sp.First
			steps[d] += sp.Steps
		}
	}
	out := make(map[string]Exposure, len(span))
	for d, ns := range span {
		e := Exposure{Hours: float64(ns) / float64(time.Hour)}
		if steps[d] > 0 {
			e.Interval = time.Duration(ns / steps[d])
		}
		out[d] = e
	}
	return out
}

// EventResult is how one labelled event was detected.
type EventResult struct {
	Event
	Detected bool `json:"detected"`
	// Latency is from the event's start to the event time of the first
	// firing detection on its device in the event's window (negative when
	// it came just before the labelled start).
	Latency time.Duration `json:"latency_ns"`
	// DetectedMetric, DetectedKeys and DetectedBy are the series and the
	// detector of that detection.
	DetectedMetric string `json:"detected_metric,omitempty"`
	DetectedKeys   string `json:"detected_keys,omitempty"`
	DetectedBy     string `json:"detected_by,omitempty"`
	// StateDetected is whether a state-based detection came in the window;
	// StateLatency is the first one's latency, and WithinOneSample whether
	// it came no later than one sample interval after the start.
	StateDetected   bool          `json:"state_detected"`
	StateLatency    time.Duration `json:"state_latency_ns"`
	WithinOneSample bool          `json:"state_within_one_sample"`
}

// DeviceResult is one device's false incidents.
type DeviceResult struct {
	Device string  `json:"device"`
	Hours  float64 `json:"hours"`
	Firing int     `json:"firing"` // firing detections
	// FalseAny are the incidents outside every event window of the data
	// set; FalseOwn those outside the windows of the device's own events.
	FalseAny int `json:"false_incidents_any"`
	FalseOwn int `json:"false_incidents_own"`
}

// Report is the score of a backtest against labelled events. Durations
// are in nanoseconds in JSON.
type Report struct {
	Events                []EventResult  `json:"events"`
	Detected              int            `json:"detected"`
	Missed                int            `json:"missed"`
	Within30s             int            `json:"within_30s"`              // detected with latency ≤ 30 s
	StateWithinOneSample  int            `json:"state_within_one_sample"` // state-based detection within one sample
	MedianLatency         time.Duration  `json:"median_latency_ns"`       // over detected events
	MaxLatency            time.Duration  `json:"max_latency_ns"`
	Firing                int            `json:"firing"`
	DeviceHours           float64        `json:"device_hours"`
	FalseAny              int            `json:"false_incidents_any"` // incidents, see DeviceResult
	FalseOwn              int            `json:"false_incidents_own"`
	FalseAnyPerDeviceHour float64        `json:"false_incidents_any_per_device_hour"`
	FalseOwnPerDeviceHour float64        `json:"false_incidents_own_per_device_hour"`
	Devices               []DeviceResult `json:"devices"`
	// Outside are the events with no overlap with the replayed data
	// (Scoring.Data): not scored, in no count above and no window.
	Outside []Event `json:"outside_data"`
}

// Scoring holds the windows of Score; zero fields take the defaults.
type Scoring struct {
	Before, After, Merge time.Duration
	// IsState tells state-based detections; nil: none are.
	IsState func(*schemas.Detection) bool
	// Quiet are windows that are not events to detect but whose firing
	// detections are not false either: a fault's effects on other devices
	// (traffic rerouted onto them), a component wearing before it fails.
	// They widen as events do (Before, After) and count per device as
	// events do.
	Quiet []Event
	// Data is the event time the backtest replayed; events and quiet
	// windows that do not overlap it are not scored (Report.Outside), for
	// a replay cannot detect what happened before or after its samples.
	// nil: every event is scored.
	Data *Coverage
}

// Coverage is the event time replayed: per device, the span of its samples
// in each replay, and each replay's span over all its devices.
type Coverage struct {
	Devices map[string][]Span
	Runs    []Span
}

// CoverageOf returns the event time the replays covered. Replays are kept
// apart (not one span from the first to the last), so that an event
// between two experiments of a data set is outside the data.
func CoverageOf(runs ...Stats) *Coverage {
	c := &Coverage{Devices: map[string][]Span{}}
	for _, st := range runs {
		var all Span
		n := 0
		for d, sp := range st.Devices {
			c.Devices[d] = append(c.Devices[d], sp)
			if n == 0 {
				all = sp
			}
			all.First, all.Last = min(all.First, sp.First), max(all.Last, sp.Last)
			n++
		}
		if n > 0 {
			c.Runs = append(c.Runs, all)
		}
	}
	return c
}

// Covers reports whether ev's [Start, End] overlaps the samples of its
// device in some replay or, when no replay had samples of its device, some
// replay's span. An event that starts inside the data is covered however
// far its detection window reaches past the end.
func (c *Coverage) Covers(ev *Event) bool {
	spans, ok := c.Devices[ev.Device]
	if !ok {
		spans = c.Runs
	}
	lo, hi := ev.Start.UnixNano(), ev.End.UnixNano()
	return slices.ContainsFunc(spans, func(sp Span) bool { return lo <= sp.Last && hi >= sp.First })
}

// split returns the events sc.Data covers and those it does not.
func (sc *Scoring) split(events []Event) (in, out []Event) {
	if sc.Data == nil {
		return events, nil
	}
	for _, ev := range events {
		if sc.Data.Covers(&ev) {
			in = append(in, ev)
		} else {
			out = append(out, ev)
		}
	}
	return in, out
}

func (s Scoring) withDefaults() Scoring {
	s.Before = cmp.Or(s.Before, DefaultBefore)
	s.After = cmp.Or(s.After, DefaultAfter)
	s.Merge = cmp.Or(s.Merge, DefaultMerge)
	if s.IsState == nil {
		s.IsState = func(*schemas.Detection) bool { return false }
	}
	return s
}

// StateBased returns an IsState for Scoring: a detection is state-based
// when its series carried state samples in the replays, or when its
// detector names a state detector ("state", "flapping", "link_down", …).
func StateBased(runs ...Stats) func(*schemas.Detection) bool {
	series := map[schemas.SeriesKey]bool{}
	for _, st := range runs {
		for k := range st.StateSeries {
			series[k] = true
		}
	}
	return func(d *schemas.Detection) bool {
		if series[schemas.SeriesKey{Device: d.Device, Metric: d.Metric, Keys: d.Keys}] {
			return true
		}
		n := strings.ToLower(d.Detector)
		return strings.Contains(n, "state") || strings.Contains(n, "flap") || strings.Contains(n, "down")
	}
}

// Score matches firing detections to events: an event is detected by the
// first firing detection on its device with an event time in
// [start − Before, end + After], the After tail ending where the window of
// the device's next event opens (never before the event's own end), so
// that a detection of the next event does not also detect this one (see
// eventWindows). Events outside sc.Data are set aside in
// Report.Outside, and so are quiet windows outside it. Firing detections outside every window
// (of the events, whole, and of sc.Quiet) become false incidents (on one device, each within Merge of the previous
// one joins its incident), counted against every event of the data set (an
// event's effects show on its peers and links) and against the device's
// own events, per device-hour of exposure.
func Score(events []Event, dets []schemas.Detection, exp map[string]Exposure, sc Scoring) Report {
	sc = sc.withDefaults()
	firing := firingByDevice(dets)
	r := Report{}
	events, r.Outside = sc.split(events)
	sc.Quiet, _ = sc.split(sc.Quiet)
	var lat []time.Duration
	his := eventWindows(events, sc)
	for i, ev := range events {
		er := scoreEvent(ev, his[i], firing[ev.Device], exp[ev.Device].Interval, sc)
		if er.Detected {
			r.Detected++
			lat = append(lat, er.Latency)
			if er.Latency <= 30*time.Second {
				r.Within30s++
			}
		} else {
			r.Missed++
		}
		if er.WithinOneSample {
			r.StateWithinOneSample++
		}
		r.Events = append(r.Events, er)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.MedianLatency, r.MaxLatency = lat[(len(lat)-1)/2], lat[len(lat)-1]
	}
	devices := make([]string, 0, len(exp))
	for d := range exp {
		devices = append(devices, d)
	}
	for d := range firing {
		if _, ok := exp[d]; !ok {
			devices = append(devices, d)
		}
	}
	slices.Sort(devices)
	for _, d := range devices {
		fd := firing[d]
		dr := DeviceResult{Device: d, Hours: exp[d].Hours, Firing: len(fd)}
		dr.FalseAny = incidents(fd, events, "", sc)
		dr.FalseOwn = incidents(fd, events, d, sc)
		r.Firing += dr.Firing
		r.DeviceHours += dr.Hours
		r.FalseAny += dr.FalseAny
		r.FalseOwn += dr.FalseOwn
		r.Devices = append(r.Devices, dr)
	}
	if r.DeviceHours > 0 {
		r.FalseAnyPerDeviceHour = float64(r.FalseAny) / r.DeviceHours
		r.FalseOwnPerDeviceHour = float64(r.FalseOwn) / r.DeviceHours
	}
	return r
}

// firingByDevice returns the firing detections per device in event-time
// order, those of one time by series and detector: the order a replay
// emitted them in does not decide which one an event names.
func firingByDevice(dets []schemas.Detection) map[string][]*schemas.Detection {
	out := map[string][]*schemas.Detection{}
	for i := range dets {
		if dets[i].State == schemas.StateFiring {
			out[dets[i].Device] = append(out[dets[i].Device], &dets[i])
		}
	}
	for _, ds := range out {
		slices.SortStableFunc(ds, func(a, b *schemas.Detection) int {
			return cmp.Or(a.EventTime.Compare(b.EventTime), cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Keys, b.Keys), cmp.Compare(a.Detector, b.Detector))
		})
	}
	return out
}

// eventWindows returns the end of each event's detection window: its
// end + After, cut short just before the window of the next event on its
// device (the first that starts after it) opens at its start − Before,
// though never before its own end. A detection in the tail of one event
// and the window of the next is the next one's, so one detection does not
// detect two events of a device. Events of one device that overlap keep
// their own [start, end].
func eventWindows(events []Event, sc Scoring) []time.Time { return windowsCutBy(events, events, sc) }

// windowsCutBy is eventWindows with the windows of events cut by those of
// the events of next (on the same device, starting after).
func windowsCutBy(events, next []Event, sc Scoring) []time.Time {
	byDevice := map[string][]int{}
	for i := range next {
		byDevice[next[i].Device] = append(byDevice[next[i].Device], i)
	}
	his := make([]time.Time, len(events))
	for i := range events {
		ev := &events[i]
		his[i] = ev.End.Add(sc.After)
		for _, j := range byDevice[ev.Device] {
			next := &next[j]
			if !next.Start.After(ev.Start) {
				continue
			}
			// The instant before the next event's window opens.
			if cut := next.Start.Add(-sc.Before - time.Nanosecond); cut.Before(his[i]) {
				his[i] = cut
			}
		}
		if his[i].Before(ev.End) {
			his[i] = ev.End
		}
	}
	return his
}

// scoreEvent finds the first firing detection, and the first state-based
// one, of fd (one device's, in firingByDevice's order) in ev's window,
// [start − Before, hi]. Of the first detections at one time, it names the
// first on the event's keys (its interface, its session) if there is one,
// else the first state-based one if there is one.
func scoreEvent(ev Event, hi time.Time, fd []*schemas.Detection, interval time.Duration, sc Scoring) EventResult {
	er := EventResult{Event: ev}
	lo := ev.Start.Add(-sc.Before)
	rank := func(d *schemas.Detection) int {
		r := 0
		if ev.Keys != "" && d.Keys == ev.Keys {
			r += 2
		}
		if sc.IsState(d) {
			r++
		}
		return r
	}
	best := -1
	for _, d := range fd {
		if d.EventTime.Before(lo) || d.EventTime.After(hi) {
			continue
		}
		if r := rank(d); !er.Detected || r > best && d.EventTime.Sub(ev.Start) == er.Latency {
			er.Detected, er.Latency, best = true, d.EventTime.Sub(ev.Start), r
			er.DetectedMetric, er.DetectedKeys, er.DetectedBy = d.Metric, d.Keys, d.Detector
		}
		if !er.StateDetected && sc.IsState(d) {
			er.StateDetected, er.StateLatency = true, d.EventTime.Sub(ev.Start)
			er.WithinOneSample = er.StateLatency <= interval
		}
	}
	return er
}

// incidents counts the incidents of fd (one device's firing detections in
// event-time order) outside the windows of events: of every event when
// device is "", else of that device's events only.
func incidents(fd []*schemas.Detection, events []Event, device string, sc Scoring) int {
	n := 0
	var last time.Time
	for _, d := range fd {
		if inAnyWindow(d.EventTime, events, device, sc) || inAnyWindow(d.EventTime, sc.Quiet, device, sc) {
			continue
		}
		if n == 0 || d.EventTime.Sub(last) > sc.Merge {
			n++
		}
		last = d.EventTime
	}
	return n
}

func inAnyWindow(t time.Time, events []Event, device string, sc Scoring) bool {
	for i := range events {
		ev := &events[i]
		if device != "" && ev.Device != device {
			continue
		}
		if !t.Before(ev.Start.Add(-sc.Before)) && !t.After(ev.End.Add(sc.After)) {
			return true
		}
	}
	return false
}
