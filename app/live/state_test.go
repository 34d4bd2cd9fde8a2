package live

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func detection(state, detector, device, keys string, at time.Time) *schemas.Detection {
	labels := schemas.AlertLabels(device, "/m", keys)
	return &schemas.Detection{State: state, Detector: detector, Detectors: []string{detector}, Device: device, Metric: "/m", Keys: keys,
		EventTime: at, StartsAt: t0, Fingerprint: schemas.Fingerprint(labels), Observed: 5, Expected: 1, Band: schemas.Band{Lower: 0, Upper: 2}}
}

// TestStateAlertsAndCounts checks that a firing alert shows until it
// resolves, that state rules are counted apart, and that the latest
// detections come newest first.
func TestStateAlertsAndCounts(t *testing.T) {
	s := NewState()
	s.AddDetection(detection(schemas.StateFiring, "robust_z", "sim-03", "name=Ethernet3", t0))
	s.AddDetection(detection(schemas.StateFiring, "link_down", "sim-05", "name=Ethernet1", t0.Add(time.Minute)))
	snap := s.Snapshot()
	if len(snap.Alerts) != 2 || snap.Counts.Detections != 2 || snap.Counts.StateAlerts != 1 || len(snap.Counts.StateCauses) != 1 || snap.Counts.StateCauses[0] != "link_down" {
		t.Fatalf("alerts %+v, counts %+v", snap.Alerts, snap.Counts)
	}
	s.AddDetection(detection(schemas.StateResolved, "robust_z", "sim-03", "name=Ethernet3", t0.Add(2*time.Minute)))
	snap = s.Snapshot()
	if len(snap.Alerts) != 1 || snap.Alerts[0].Cause != "link_down" || snap.Counts.Detections != 2 {
		t.Fatalf("after resolve: alerts %+v, counts %+v", snap.Alerts, snap.Counts)
	}
	if len(snap.Detections) != 3 || snap.Detections[0].State != schemas.StateResolved || !snap.Detections[1].StateEvent || snap.Detections[0].BandUpper != 2 {
		t.Fatalf("latest detections %+v", snap.Detections)
	}
	if !snap.DeviceTime.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("device time %v", snap.DeviceTime)
	}
	for i := range 3 * latestDetections {
		s.AddDetection(detection(schemas.StateResolved, "ewma", "sim-01", "name=Ethernet1", t0.Add(time.Duration(i)*time.Second)))
	}
	if n := len(s.Snapshot().Detections); n != latestDetections {
		t.Errorf("%d latest detections kept, want %d", n, latestDetections)
	}
}

// TestStatePredictionsAndPower checks predicted failures (counted once per
// component, listed as closed once closed), energy per device and savings.
func TestStatePredictionsAndPower(t *testing.T) {
	s := NewState()
	ev := &schemas.MaintenanceEvent{Key: "k1", State: schemas.MaintenanceOpen, Device: "sim-04", Component: "name=Ethernet4-transceiver", Signal: "optic_rx_power",
		EventTime: t0, PredictedFailure: t0.Add(90 * time.Minute), Confidence: 0.99}
	s.AddMaintenance(ev)
	up := *ev
	up.State, up.PredictedFailure = schemas.MaintenanceUpdate, t0.Add(time.Hour)
	s.AddMaintenance(&up)
	snap := s.Snapshot()
	if snap.Counts.Predicted != 1 || len(snap.Predictions) != 1 || snap.Predictions[0].TimeToFailure != time.Hour {
		t.Fatalf("predictions %+v, counts %+v", snap.Predictions, snap.Counts)
	}
	closed := up
	closed.State, closed.CloseReason = schemas.MaintenanceClosed, schemas.CloseRecovered
	s.AddMaintenance(&closed)
	if snap = s.Snapshot(); len(snap.Predictions) != 1 || snap.Predictions[0].Closed != schemas.CloseRecovered || snap.Counts.Predicted != 1 || snap.Counts.OpenPredicted != 0 {
		t.Fatalf("after close: predictions %+v, counts %+v", snap.Predictions, snap.Counts)
	}
	end := t0.Add(15 * time.Minute).UnixNano()
	s.AddPower([]schemas.PowerRow{
		{WindowEnd: end, Device: "sim-00", Row: schemas.PowerRowDevice, MeasuredW: 200, ModelledW: 190},
		{WindowEnd: end, Device: "sim-01", Row: schemas.PowerRowDevice, MeasuredW: math.NaN(), ModelledW: 100},
		{WindowEnd: end, Device: "sim-01", Row: schemas.PowerRowSaving, Component: "name=Ethernet3", Reason: schemas.SavingAdminUpOperDown, ModelledW: 10},
	})
	// The next window repeats the saving: still one opportunity.
	s.AddPower([]schemas.PowerRow{{WindowEnd: end, Device: "sim-01", Row: schemas.PowerRowSaving, Component: "name=Ethernet3", Reason: schemas.SavingAdminUpOperDown, ModelledW: 10}})
	snap = s.Snapshot()
	if len(snap.Energy) != 2 || snap.Energy[0].KWhPerDay != 4.8 || snap.Energy[1].Watts != 100 {
		t.Errorf("energy %+v", snap.Energy)
	}
	if snap.Counts.Savings != 1 || math.Abs(snap.Counts.SavingsKWh-0.24) > 1e-9 {
		t.Errorf("savings %+v, counts %+v", snap.Savings, snap.Counts)
	}
}
