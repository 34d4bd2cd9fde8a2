package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/telekernel/telekernel/app/live"
)

// fullSnapshot is a snapshot with every pane overfull.
func fullSnapshot() live.Snapshot {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s := live.Snapshot{DeviceTime: t0.Add(time.Hour), Samples: 1e6, SamplesRate: 8e4}
	for i := range 40 {
		dev := fmt.Sprintf("sim-%02d", i%10)
		s.Stages = append(s.Stages, live.Stage{Name: fmt.Sprintf("stage-%d", i), PerSec: 20, Lag: 3})
		s.Targets = append(s.Targets, live.Target{Name: dev, Up: i%7 != 0})
		s.Alerts = append(s.Alerts, live.Alert{Device: dev, Metric: "/interfaces/interface/state/oper-status", Keys: "name=Ethernet1", Cause: "link_down", Severity: "critical", Since: t0})
		s.Detections = append(s.Detections, live.Detection{Time: t0, State: "firing", Device: dev, Metric: "/interfaces/interface/state/counters/in-octets",
			Keys: "name=Ethernet3", Observed: 3.2e9, Expected: 6.1e8, BandLower: 4e8, BandUpper: 8e8})
		s.Predictions = append(s.Predictions, live.Prediction{Device: dev, Component: "name=Fan1", Signal: "fan_speed", TimeToFailure: 90 * time.Minute, Confidence: 0.99})
		s.Counts.Predicted++
		s.Counts.OpenPredicted++
		s.Energy = append(s.Energy, live.Energy{Device: dev, Watts: 200, KWhPerDay: 4.8})
		s.Savings = append(s.Savings, live.Saving{Device: dev, Component: "name=Ethernet5", Reason: "admin_up_oper_down", KWhPerDay: 0.25})
	}
	return s
}

// TestRenderFitsTheTerminal renders a full snapshot at several terminal
// sizes (as after a resize) and checks that no line is wider than the
// terminal and that the screen is no taller, with every pane's title shown.
func TestRenderFitsTheTerminal(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {180, 50}, {240, 70}} {
		out := render(fullSnapshot(), frame{width: size[0], height: size[1], elapsed: time.Minute, logPath: "/tmp/x/telekernel.log"})
		lines := strings.Split(out, "\n")
		if len(lines) > size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for i, l := range lines {
			if w := lipgloss.Width(l); w > size[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
				break
			}
		}
		for _, title := range []string{"Stages", "Firing alerts (40)", "Latest detections", "Predicted failures (40, 40 open)", "Energy per device (40)", "Savings found", "more"} {
			if !strings.Contains(out, title) {
				t.Errorf("%dx%d: no %q", size[0], size[1], title)
			}
		}
	}
}

// TestRenderTinyTerminal checks that a terminal too small for the panes
// still gets a frame (clipped by the terminal), not a panic.
func TestRenderTinyTerminal(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {20, 5}, {40, 10}} {
		if out := render(fullSnapshot(), frame{width: size[0], height: size[1]}); !strings.Contains(out, "Stages") {
			t.Errorf("%dx%d: no stages pane in %q", size[0], size[1], out)
		}
	}
}

// BenchmarkRender measures one frame of a full snapshot.
func BenchmarkRender(b *testing.B) {
	s := fullSnapshot()
	for b.Loop() {
		render(s, frame{width: 180, height: 50})
	}
}

// TestRenderIncidents checks that with the correlate stage the alerts pane
// shows the incidents (cause naming both ends, entity, age, members), the
// open ones before the resolved, that counts of an update that left
// evidence out read as lower bounds, and that the counts line counts them.
func TestRenderIncidents(t *testing.T) {
	s := fullSnapshot()
	s.WithIncidents = true
	opened := s.DeviceTime.Add(-2 * time.Hour)
	s.Incidents = []live.Incident{
		{ID: "a", Open: true, Rule: "link", Cause: "link sim-00:Ethernet5 — sim-05:Ethernet1 down", Severity: "critical",
			Entity: "sim-05 Ethernet1 ↔ sim-00 Ethernet5", Opened: opened, Members: 6, Effects: 2},
		{ID: "b", Rule: "traffic", Cause: "traffic on sim-03 Ethernet3", Severity: "warning", Entity: "sim-03 Ethernet3",
			Opened: opened, Resolved: opened.Add(time.Hour), Members: 2},
		{ID: "c", Rule: "session", Cause: "BGP/BFD session reset on sim-07 with no link event", Severity: "warning", Entity: "sim-07",
			Opened: opened, Resolved: opened.Add(time.Hour), Members: 250, Effects: 3, AtLeast: true},
		{ID: "d", Rule: "traffic", Cause: "traffic on sim-04 Ethernet2", Severity: "warning", Entity: "sim-04 Ethernet2",
			Opened: opened, Resolved: opened.Add(time.Minute), Members: 1, Effects: 1},
	}
	s.Counts.Incidents, s.Counts.OpenIncidents, s.Counts.SavingsKWh = 2, 1, 4.26
	out := render(s, frame{width: 180, height: 50})
	for _, want := range []string{"incidents 2 (1 open)", "Incidents (1 open, 2 in all)", "critical link sim-00:Ethernet5 — sim-05:Ethernet1 down",
		"sim-05 Ethernet1 ↔ sim-00 Ethernet5 · 2h0m0s · 6 members +2 effects", "resolved warning traffic on sim-03 Ethernet3", "lasted 1h0m0s · 2 members", "lasted 1h0m0s · ≥ 250 members +≥ 3 effects", "lasted 1m0s · 1 member +1 effect",
		"savings found 4.3 kWh/day"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "Firing alerts") || strings.Index(out, "link sim-00") > strings.Index(out, "traffic on sim-03") {
		t.Errorf("firing alerts shown, or the resolved incident before the open one:\n%s", out)
	}
}

// TestRenderHeaderKeepsState: on a narrow terminal the header shortens the
// log path in its middle, then leaves it out, then puts the state first,
// so how to stop (or that the run drains) stays in view.
func TestRenderHeaderKeepsState(t *testing.T) {
	const logPath = "/home/operator/runs/2026-12-04/telekernel-data/telekernel.log"
	f := func(width int, draining bool, want ...string) {
		t.Helper()
		out := render(fullSnapshot(), frame{width: width, height: 40, elapsed: time.Minute, logPath: logPath, draining: draining})
		header, _, _ := strings.Cut(out, "\n")
		if w := lipgloss.Width(header); w > width {
			t.Errorf("%d wide, draining %v: header is %d wide: %q", width, draining, w, header)
		}
		for _, s := range want {
			if !strings.Contains(header, s) {
				t.Errorf("%d wide, draining %v: no %q in %q", width, draining, s, header)
			}
		}
	}
	f(180, false, "logs: "+logPath+"  q: stop")
	f(120, false, "logs: /home/operator…/telekernel.log  q: stop")
	f(100, false, "samples 1000000 (80000/s)  q: stop")
	f(100, true, "telekernel  1m0s  draining… (q again: quit now)  device time")
	f(80, true, "telekernel  1m0s  draining… (q again: quit now)  device time")
	f(60, false, "telekernel  1m0s  q: stop  device time")
	if got := middleTrunc("abcdefghij", 5); got != "ab…ij" {
		t.Errorf("middleTrunc = %q, want ab…ij", got)
	}
}
