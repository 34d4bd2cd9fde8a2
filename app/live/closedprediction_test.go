package live

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestStateKeepsClosedPredictions feeds the showcase's maintenance events
// (three predictions that close as failed seconds later, as the worn optic
// and fan do) and checks that the snapshot lists every predicted failure it
// counts, closed ones after open ones with their reason, and that a
// prediction that opens again is open. Before, a closed prediction left the
// snapshot while the count kept it: the live view's header said "predicted
// failures 3" and its pane "Predicted failures (0) … no failure predicted".
func TestStateKeepsClosedPredictions(t *testing.T) {
	s := NewState()
	type comp struct{ device, component, signal string }
	comps := []comp{{"sim-04", "name=Ethernet4-transceiver", "optic_rx_power"}, {"sim-04", "name=Ethernet4-transceiver", "laser_bias"}, {"sim-07", "name=Fan1", "fan_speed"}}
	event := func(c comp, state, reason string, at time.Time) *schemas.MaintenanceEvent {
		return &schemas.MaintenanceEvent{Key: schemas.MaintenanceKey(c.device, c.component, c.signal), State: state, CloseReason: reason,
			Device: c.device, Component: c.component, Signal: c.signal, EventTime: at, PredictedFailure: at.Add(time.Hour), Confidence: 0.99}
	}
	for _, c := range comps {
		s.AddMaintenance(event(c, schemas.MaintenanceOpen, "", t0))
	}
	for i, c := range comps {
		s.AddMaintenance(event(c, schemas.MaintenanceClosed, schemas.CloseFailed, t0.Add(time.Duration(i+1)*time.Minute)))
	}
	snap := s.Snapshot()
	if snap.Counts.Predicted != 3 || snap.Counts.OpenPredicted != 0 || len(snap.Predictions) != snap.Counts.Predicted {
		t.Fatalf("counts %+v, %d predictions listed: want 3 predicted, 0 open, 3 listed", snap.Counts, len(snap.Predictions))
	}
	for i, p := range snap.Predictions {
		want := comps[len(comps)-1-i] // most recently closed first
		if p.Signal != want.signal || p.Closed != schemas.CloseFailed || !p.ClosedAt.Equal(t0.Add(time.Duration(len(comps)-i)*time.Minute)) {
			t.Errorf("prediction %d: %+v, want %s closed %s", i, p, want.signal, schemas.CloseFailed)
		}
	}
	// The fan's prediction opens again: open, listed first, counted once.
	s.AddMaintenance(event(comps[2], schemas.MaintenanceOpen, "", t0.Add(time.Hour)))
	snap = s.Snapshot()
	if snap.Counts.Predicted != 3 || snap.Counts.OpenPredicted != 1 || len(snap.Predictions) != 3 ||
		snap.Predictions[0].Signal != "fan_speed" || snap.Predictions[0].Closed != "" {
		t.Errorf("after the fan's reopening: counts %+v, predictions %+v", snap.Counts, snap.Predictions)
	}
}
