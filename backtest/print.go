package backtest

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// PrintTable writes the results side by side (one column per
// configuration): the replay, the events detected with their latencies, the
// false incidents, the NAB scores when present, then one row per event and
// one per device.
func PrintTable(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	row := func(label string, f func(r *Result) string) {
		cells := []string{label}
		for _, r := range results {
			cells = append(cells, f(r))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	row("configuration", func(r *Result) string { return r.Name })
	row("points replayed", func(r *Result) string { return fmt.Sprint(r.Stats.Points) })
	row("points dropped", func(r *Result) string { return dropped(r.Stats.Dropped) })
	if slices.ContainsFunc(results, func(r *Result) bool { return r.Stats.Skipped > 0 }) {
		row("cells skipped (nan, NA, null, inf…)", func(r *Result) string { return fmt.Sprint(r.Stats.Skipped) })
	}
	row("replay wall time", func(r *Result) string {
		return fmt.Sprintf("%v (%.0f points/s)", r.Stats.Elapsed.Round(time.Millisecond), r.Stats.Rate())
	})
	if len(results[0].NAB) == 0 {
		// A data set whose interfaces or sessions carry states shows them
		// here; 0 on an export with state columns means they were not
		// read as states (a mapping to check).
		row("series with state samples", func(r *Result) string { return fmt.Sprint(len(r.Stats.StateSeries)) })
	}
	row("firing detections", func(r *Result) string { return fmt.Sprint(r.Stats.Firing) })
	if results[0].Report != nil {
		printReport(row)
	}
	if len(results[0].NAB) > 0 {
		for i, ps := range results[0].NAB {
			row("NAB "+ps.Profile.Name, func(r *Result) string { return fmt.Sprintf("%.2f", r.NAB[i].Normalized) })
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if results[0].Report == nil {
		return nil
	}
	fmt.Fprintln(w)
	if results[0].Sim != nil {
		if err := printSim(w, results); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if err := printEvents(w, results); err != nil {
		return err
	}
	if out := results[0].Report.Outside; len(out) > 0 {
		fmt.Fprintln(w, outsideLine(out))
	}
	fmt.Fprintln(w)
	return printDevices(w, results)
}

// outsideLine is one line naming the events outside the replayed data
// (the same for every configuration: they depend on the data alone), so
// that the user sees why they are in no count.
func outsideLine(out []Event) string {
	const most = 5
	var names []string
	for i := range out {
		// A simulated fault is one label of several events (its device,
		// its peers): named once.
		n := fmt.Sprintf("%s:%d", filepath.Base(out[i].File), out[i].Line)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) > most {
		names = append(names[:most], fmt.Sprintf("and %d more", len(names)-most))
	}
	return fmt.Sprintf("events not scored, outside the replayed data (before its first sample or after its last): %d, from %s",
		len(out), strings.Join(names, ", "))
}

func printReport(row func(string, func(r *Result) string)) {
	row("events detected", func(r *Result) string {
		return fmt.Sprintf("%d/%d", r.Report.Detected, len(r.Report.Events))
	})
	row("  within 30 s", func(r *Result) string { return fmt.Sprint(r.Report.Within30s) })
	row("  state-based within one sample", func(r *Result) string { return fmt.Sprint(r.Report.StateWithinOneSample) })
	row("  median / max latency", func(r *Result) string {
		if r.Report.Detected == 0 {
			return "-"
		}
		return fmt.Sprintf("%v / %v", r.Report.MedianLatency.Round(time.Second), r.Report.MaxLatency.Round(time.Second))
	})
	row("missed events", func(r *Result) string { return fmt.Sprint(r.Report.Missed) })
	row("device-hours", func(r *Result) string { return fmt.Sprintf("%.2f", r.Report.DeviceHours) })
	row("false incidents (outside every event)", func(r *Result) string {
		return fmt.Sprintf("%d (%.3g per device-hour)", r.Report.FalseAny, r.Report.FalseAnyPerDeviceHour)
	})
	row("false incidents (outside own events)", func(r *Result) string {
		return fmt.Sprintf("%d (%.3g per device-hour)", r.Report.FalseOwn, r.Report.FalseOwnPerDeviceHour)
	})
}

// printEvents writes one row per event: where it was labelled, its device,
// kind and start, and per configuration the latency (with the detecting
// metric) or "missed".
func printEvents(w io.Writer, results []*Result) error {
	tw := newTable(w, results, "event\tdevice\tkind\tstart", "")
	for i, ev := range results[0].Report.Events {
		line := fmt.Sprintf("%s:%d\t%s\t%s\t%s", filepath.Base(ev.File), ev.Line, ev.Device, ev.Kind, ev.Start.Format(time.RFC3339))
		for _, r := range results {
			line += "\t" + eventCell(&r.Report.Events[i])
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func eventCell(e *EventResult) string {
	if !e.Detected {
		return "missed"
	}
	s := signed(e.Latency) + " " + shortMetric(e.DetectedMetric)
	if e.StateDetected {
		s += " (state " + signed(e.StateLatency) + ")"
	}
	return s
}

// signed formats a latency to the second with its sign.
func signed(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}

// shortMetric is the last element of a metric path.
func shortMetric(m string) string { return m[strings.LastIndexByte(m, '/')+1:] }

// printDevices writes per device its hours and, per configuration, its
// firing detections and false incidents (outside every event / outside its
// own events).
func printDevices(w io.Writer, results []*Result) error {
	tw := newTable(w, results, "device\thours", " firing / false any / false own")
	for i, d := range results[0].Report.Devices {
		line := fmt.Sprintf("%s\t%.2f", d.Device, d.Hours)
		for _, r := range results {
			if i >= len(r.Report.Devices) {
				line += "\t-"
				continue
			}
			rd := r.Report.Devices[i]
			line += fmt.Sprintf("\t%d / %d / %d", rd.Firing, rd.FalseAny, rd.FalseOwn)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// jsonResult is the JSON form of a Result.
type jsonResult struct {
	Name       string     `json:"name"`
	Points     int64      `json:"points"`
	Skipped    int64      `json:"skipped_cells,omitempty"`
	ElapsedSec float64    `json:"elapsed_seconds"`
	Detections int        `json:"detections"`
	Firing     int        `json:"firing"`
	Report     *Report    `json:"report,omitempty"`
	NAB        []nabJSON  `json:"nab,omitempty"`
	Sim        *SimReport `json:"sim,omitempty"`
}

type nabJSON struct {
	Profile string  `json:"profile"`
	Score   float64 `json:"score"`
}

// PrintJSON writes the results as one JSON document (an array, one object
// per configuration; detections themselves are not included).
func PrintJSON(w io.Writer, results []*Result) error {
	out := make([]jsonResult, 0, len(results))
	for _, r := range results {
		j := jsonResult{Name: r.Name, Points: r.Stats.Points, Skipped: r.Stats.Skipped, ElapsedSec: r.Stats.Elapsed.Seconds(),
			Detections: r.Stats.Detections, Firing: r.Stats.Firing, Report: r.Report, Sim: r.Sim}
		for _, ps := range r.NAB {
			j.NAB = append(j.NAB, nabJSON{ps.Profile.Name, ps.Normalized})
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// newTable returns a table writer on w with its header written: the
// columns of head, then one per result, its name followed by suffix.
func newTable(w io.Writer, results []*Result, head, suffix string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range results {
		head += "\t" + r.Name + suffix
	}
	fmt.Fprintln(tw, head)
	return tw
}

// dropped formats the rows a replay dropped: the total, and each reason
// that dropped any.
func dropped(d schemas.RowDrops) string {
	var why []string
	d.Each(func(reason string, n int64) {
		if n > 0 {
			why = append(why, fmt.Sprintf("%s %d", reason, n))
		}
	})
	if len(why) == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", d.Total(), strings.Join(why, ", "))
}
