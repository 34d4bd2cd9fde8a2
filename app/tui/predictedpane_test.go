package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/schemas"
)

// TestPredictionsPaneAgreesWithHeader renders the view after the
// showcase's three predictions have closed as failed and checks that the
// "Predicted failures" pane lists the three the header counts, each as
// failed. Before, the header said "predicted failures 3" while the pane
// said "Predicted failures (0)" and "no failure predicted".
func TestPredictionsPaneAgreesWithHeader(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	s := live.NewState()
	for i, sig := range []string{"optic_rx_power", "laser_bias", "fan_speed"} {
		dev, comp := "sim-04", "name=Ethernet4-transceiver"
		if sig == "fan_speed" {
			dev, comp = "sim-07", "name=Fan1"
		}
		e := schemas.MaintenanceEvent{Key: schemas.MaintenanceKey(dev, comp, sig), State: schemas.MaintenanceOpen, Device: dev, Component: comp,
			Signal: sig, EventTime: t0, PredictedFailure: t0.Add(2 * time.Hour), Confidence: 1}
		s.AddMaintenance(&e)
		e.State, e.CloseReason, e.EventTime = schemas.MaintenanceClosed, schemas.CloseFailed, t0.Add(time.Duration(100+i)*time.Minute)
		s.AddMaintenance(&e)
	}
	out := render(s.Snapshot(), frame{width: 180, height: 50})
	if !strings.Contains(out, "predicted failures 3") {
		t.Fatalf("header does not count 3 predicted failures:\n%s", out)
	}
	p := predictionsPane(s.Snapshot())
	if !strings.HasPrefix(p.title, "Predicted failures (3, 0 open)") {
		t.Errorf("pane title %q, want (3, 0 open)", p.title)
	}
	body := strings.Join(p.lines, "\n")
	for _, want := range []string{`sim-04 Ethernet4-transceiver optic_rx_power  failed at 02:40`, `sim-04 Ethernet4-transceiver laser_bias  failed at 02:41`,
		`sim-07 Fan1 fan_speed  failed at 02:42`} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(body) {
			t.Errorf("pane does not show %q:\n%s", want, body)
		}
	}
}
