package incidenteval

import (
	"slices"
	"sort"
	"time"

	"github.com/telekernel/telekernel/backtest"
	"github.com/telekernel/telekernel/schemas"
)

// LabelEvent is one labelled event of a recorded data set: label rows that
// overlap in time.
type LabelEvent struct {
	Devices    []string
	Start, End time.Time
	Incidents  []*schemas.Incident // the incidents of the expected rule with evidence on its devices in its window
	// Grouped reports whether exactly one incident holds it, NamesAll
	// whether that incident names every device of the event.
	Grouped, NamesAll bool
}

// GroupLabels groups label rows into events: rows of one file that start
// before the event so far has ended (bigdama18 labels a clear of several
// nodes as a "single" row and "multiple" rows up to two minutes later).
func GroupLabels(rows []backtest.Event) []LabelEvent {
	rows = slices.Clone(rows)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Start.Before(rows[j].Start) })
	var out []LabelEvent
	var file string
	for _, r := range rows {
		if n := len(out); n > 0 && r.File == file && !r.Start.After(out[n-1].End) {
			ev := &out[n-1]
			if !slices.Contains(ev.Devices, r.Device) {
				ev.Devices = append(ev.Devices, r.Device)
			}
			ev.End = maxTime(ev.End, r.End)
			continue
		}
		file = r.File
		out = append(out, LabelEvent{Devices: []string{r.Device}, Start: r.Start, End: r.End})
	}
	return out
}

// ScoreEvents matches incidents of rule to events by time: an incident
// belongs to the event whose window (a minute before its start to its end)
// holds the incident's opening. It returns the events and the incidents of
// rule that belong to none. An event is Grouped when exactly one incident
// belongs to it; NamesAll when that incident also names every labelled
// node (it cannot when the detect stage saw nothing on a node).
func ScoreEvents(events []LabelEvent, incs []*schemas.Incident, rule string) ([]LabelEvent, []*schemas.Incident) {
	var extra []*schemas.Incident
	for _, in := range incs {
		if in.Rule != rule {
			continue
		}
		owner := -1
		for j := range events {
			if !in.OpenedAt.Before(events[j].Start.Add(-time.Minute)) && !in.OpenedAt.After(events[j].End) {
				owner = j
				break
			}
		}
		if owner < 0 {
			extra = append(extra, in)
			continue
		}
		events[owner].Incidents = append(events[owner].Incidents, in)
	}
	for j := range events {
		ev := &events[j]
		ev.Grouped = len(ev.Incidents) == 1
		ev.NamesAll = ev.Grouped && namesAll(ev.Incidents[0], ev.Devices)
	}
	return events, extra
}

func namesAll(in *schemas.Incident, devices []string) bool {
	for _, d := range devices {
		if !slices.ContainsFunc(in.Entities, func(e schemas.Entity) bool { return e.Kind == schemas.EntityDevice && e.Device == d }) {
			return false
		}
	}
	return true
}
