package tui

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/schemas"
)

// frame is what the view knows besides the snapshot.
type frame struct {
	width, height int
	elapsed       time.Duration
	logPath       string
	draining      bool
}

var (
	titleStyle = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12"))
	paneStyle  = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(lipgloss.Color("8")).Padding(0, 1)
	dimStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	upStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
	downStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	warnStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("11"))
)

// render lays the panes out in three rows of two, sized to the terminal.
func render(s live.Snapshot, f frame) string {
	header := headerLine(s, f)
	// Each pane has a border (2 lines) and a title (1 line).
	rowH := max((f.height-2)/3-3, 2)
	half := max(f.width/2, 20)
	row := func(a, b pane) string {
		return lipgloss.JoinHorizontal(lipgloss.Top, a.box(half, rowH), b.box(f.width-half, rowH))
	}
	return lipgloss.JoinVertical(lipgloss.Left, header,
		row(stagesPane(s), alertsPane(s)),
		row(detectionsPane(s), predictionsPane(s)),
		row(energyPane(s), savingsPane(s)))
}

func headerLine(s live.Snapshot, f frame) string {
	dev := "-"
	if !s.DeviceTime.IsZero() {
		dev = s.DeviceTime.UTC().Format("2006-01-02 15:04")
	}
	state := "q: stop"
	if f.draining {
		state = warnStyle.Render("draining… (q again: quit now)")
	}
	elapsed := f.elapsed.Round(time.Second)
	counts := fmt.Sprintf("device time %s  samples %.0f (%.0f/s)", dev, s.Samples, s.SamplesRate)
	// The state (how to stop, or that the run drains) must stay in view: the
	// log path gives way first, shortened in its middle, then left out;
	// on a terminal narrower still, the state comes before the counts.
	const logsLabel, minPath = "  logs: ", 16
	line := fmt.Sprintf("telekernel  %s  %s", elapsed, counts)
	room := f.width - lipgloss.Width(line) - len(logsLabel) - 2 - lipgloss.Width(state)
	switch {
	case room >= minPath:
		line += logsLabel + middleTrunc(f.logPath, room) + "  " + state
	case room+len(logsLabel) >= 0:
		line += "  " + state
	default:
		line = fmt.Sprintf("telekernel  %s  %s  %s", elapsed, state, counts)
	}
	return lipgloss.NewStyle().Bold(true).MaxWidth(f.width).Render(line) + "\n" +
		dimStyle.MaxWidth(f.width).Render(countsLine(s))
}

// middleTrunc shortens s to n runes by replacing its middle with "…", so a
// path keeps its start and its file name.
func middleTrunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := (n - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(n-1-head):])
}

// countsLine is the run's totals so far, as the summary names them.
func countsLine(s live.Snapshot) string {
	c := s.Counts
	out := fmt.Sprintf("detections %d (state alerts %d)  ", c.Detections, c.StateAlerts)
	if s.WithIncidents {
		out += fmt.Sprintf("incidents %d (%d open)  ", c.Incidents, c.OpenIncidents)
	}
	return out + fmt.Sprintf("predicted failures %d  savings %d (%.1f kWh/day)", c.Predicted, c.Savings, c.SavingsKWh)
}

// pane is a titled box of lines.
type pane struct {
	title string
	lines []string
}

func (p pane) box(width, height int) string {
	inner := max(width-4, 8) // border and padding
	lines := p.lines
	if len(lines) > height {
		more := len(lines) - height + 1
		lines = append(lines[:height-1:height-1], dimStyle.Render(fmt.Sprintf("… %d more", more)))
	}
	body := make([]string, 0, height+1)
	body = append(body, titleStyle.Render(trunc(p.title, inner)))
	for _, l := range lines {
		body = append(body, lipgloss.NewStyle().MaxWidth(inner).Render(l))
	}
	for len(body) < height+1 {
		body = append(body, "")
	}
	return paneStyle.Width(inner + 2).Render(strings.Join(body, "\n"))
}

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:max(n-1, 0)]) + "…"
}

func stagesPane(s live.Snapshot) pane {
	p := pane{title: "Stages: input batches/s, lag (records), rows out · collector targets"}
	for _, st := range s.Stages {
		p.lines = append(p.lines, fmt.Sprintf("%-22s %9.0f/s  lag %-8.0f rows %.0f", st.Name, st.PerSec, st.Lag, st.Rows))
	}
	up, down := 0, []string{}
	for _, t := range s.Targets {
		if t.Up {
			up++
		} else {
			down = append(down, t.Name)
		}
	}
	line := upStyle.Render(fmt.Sprintf("targets up %d", up))
	if len(down) > 0 {
		line += "  " + downStyle.Render(fmt.Sprintf("down %d: %s", len(down), strings.Join(down, " ")))
	} else {
		line += "  down 0"
	}
	return pane{title: p.title, lines: append([]string{line}, p.lines...)}
}

// alertsPane shows the incidents when the correlate stage runs, else the
// firing alerts.
func alertsPane(s live.Snapshot) pane {
	if s.WithIncidents {
		return incidentsPane(s)
	}
	p := pane{title: fmt.Sprintf("Firing alerts (%d): cause, device, age", len(s.Alerts))}
	for i := len(s.Alerts) - 1; i >= 0; i-- { // newest first
		a := s.Alerts[i]
		age := s.DeviceTime.Sub(a.Since).Round(time.Second)
		cause := a.Cause
		if a.Severity == "critical" {
			cause = downStyle.Render(cause)
		}
		p.lines = append(p.lines, fields(cause, a.Device, keyName(a.Keys), metricName(a.Metric))+"  "+dimStyle.Render(age.String()))
	}
	if len(p.lines) == 0 {
		p.lines = []string{dimStyle.Render("none firing")}
	}
	return p
}

// incidentsPane shows each incident on two lines: severity and cause, then
// entity, age (device time) and members; open ones first, then the latest
// resolved ones, dimmed.
func incidentsPane(s live.Snapshot) pane {
	c := s.Counts
	p := pane{title: fmt.Sprintf("Incidents (%d open, %d in all): cause, entity, age, members", c.OpenIncidents, c.Incidents)}
	for _, in := range s.Incidents {
		atLeast := ""
		if in.AtLeast {
			atLeast = "≥ "
		}
		members := fmt.Sprintf("%s%d %s", atLeast, in.Members, plural(in.Members, "member"))
		if in.Effects > 0 {
			members += fmt.Sprintf(" +%s%d %s", atLeast, in.Effects, plural(in.Effects, "effect"))
		}
		if !in.Open {
			p.lines = append(p.lines, dimStyle.Render(fmt.Sprintf("resolved %s %s", in.Severity, in.Cause)),
				dimStyle.Render(fmt.Sprintf("  %s · lasted %s · %s", in.Entity, in.Resolved.Sub(in.Opened).Round(time.Second), members)))
			continue
		}
		sev := in.Severity
		switch sev {
		case "critical":
			sev = downStyle.Render(sev)
		case "warning":
			sev = warnStyle.Render(sev)
		}
		p.lines = append(p.lines, fmt.Sprintf("%s %s", sev, in.Cause),
			fmt.Sprintf("  %s · %s · %s", in.Entity, s.DeviceTime.Sub(in.Opened).Round(time.Second), members))
	}
	if len(p.lines) == 0 {
		p.lines = []string{dimStyle.Render("no incident")}
	}
	return p
}

func detectionsPane(s live.Snapshot) pane {
	p := pane{title: "Latest detections: observed vs expected [band]"}
	for _, d := range s.Detections {
		state := d.State
		if state == "firing" {
			state = warnStyle.Render(state)
		}
		band := fmt.Sprintf("%s vs %s [%s, %s]", num(d.Observed), num(d.Expected), num(d.BandLower), num(d.BandUpper))
		if d.StateEvent {
			band = d.Detector
		}
		p.lines = append(p.lines, fields(d.Time.UTC().Format("15:04"), state, d.Device, keyName(d.Keys), metricName(d.Metric), band))
	}
	if len(p.lines) == 0 {
		p.lines = []string{dimStyle.Render("no detections yet")}
	}
	return p
}

// predictionsPane shows the open predicted failures, then the closed ones,
// dimmed with how they closed: the header counts every component the run
// predicted, and a worn one closes as failed soon after its prediction.
func predictionsPane(s live.Snapshot) pane {
	c := s.Counts
	p := pane{title: fmt.Sprintf("Predicted failures (%d, %d open): time to failure, confidence", c.Predicted, c.OpenPredicted)}
	for _, f := range s.Predictions {
		what := fields(f.Device, keyName(f.Component), f.Signal)
		if f.Closed != "" {
			p.lines = append(p.lines, dimStyle.Render(fmt.Sprintf("%s  %s %s", what, closedName(f.Closed), f.ClosedAt.UTC().Format("15:04"))))
			continue
		}
		p.lines = append(p.lines, fmt.Sprintf("%s  in %s  %.0f%%", what, ttf(f.TimeToFailure), 100*f.Confidence))
	}
	if len(p.lines) == 0 {
		p.lines = []string{dimStyle.Render("no failure predicted")}
	}
	return p
}

func energyPane(s live.Snapshot) pane {
	var total float64
	var cells []string
	for _, e := range s.Energy {
		total += e.KWhPerDay
		cells = append(cells, fmt.Sprintf("%s %5.0f W %5.1f kWh/d", e.Device, e.Watts, e.KWhPerDay))
	}
	p := pane{title: fmt.Sprintf("Energy per device (%d): %.1f kWh/day, savings found %.1f kWh/day", len(s.Energy), total, s.Counts.SavingsKWh)}
	for i := 0; i < len(cells); i += 2 { // two devices a line
		p.lines = append(p.lines, strings.Join(cells[i:min(i+2, len(cells))], "   "))
	}
	if len(p.lines) == 0 {
		p.lines = []string{dimStyle.Render("waiting for the first power window")}
	}
	return p
}

func savingsPane(s live.Snapshot) pane {
	p := pane{title: fmt.Sprintf("Savings found (%d): %.1f kWh/day", s.Counts.Savings, s.Counts.SavingsKWh)}
	for _, v := range s.Savings {
		p.lines = append(p.lines, fields(v.Device, keyName(v.Component), v.Reason, upStyle.Render(fmt.Sprintf("%.2f kWh/day", v.KWhPerDay))))
	}
	if len(p.lines) == 0 {
		p.lines = []string{dimStyle.Render("none found yet")}
	}
	return p
}

// closedName says how a prediction closed, with the time to follow.
func closedName(reason string) string {
	switch reason {
	case schemas.CloseFailed:
		return "failed at"
	case schemas.CloseRecovered:
		return "recovered at"
	case schemas.CloseStale:
		return "stopped reporting at"
	}
	return reason + " at"
}

// fields joins the non-empty of vs with spaces: a detection of a whole
// device (the power stage's residual) has no keys.
func fields(vs ...string) string {
	out := vs[:0:0]
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return strings.Join(out, " ")
}

// plural returns word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// keyName shortens list keys to their values: "name=Ethernet1" → "Ethernet1".
func keyName(keys string) string {
	var vals []string
	for _, kv := range strings.Split(keys, ",") {
		if _, v, ok := strings.Cut(kv, "="); ok {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return keys
	}
	return vals[len(vals)-1]
}

// metricName is the last element of a metric path, with its parent when
// it is a statistic of it (OpenConfig's instant, avg, min, max): the leaf
// of .../input-power/instant is "input-power/instant", not "instant".
func metricName(metric string) string {
	leaf := path.Base(metric)
	switch leaf {
	case "instant", "avg", "min", "max":
		if parent := path.Base(path.Dir(metric)); parent != "." && parent != "/" {
			return parent + "/" + leaf
		}
	}
	return leaf
}

func num(v float64) string {
	switch a := max(v, -v); {
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

func ttf(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	}
	return d.Round(time.Minute).String()
}
