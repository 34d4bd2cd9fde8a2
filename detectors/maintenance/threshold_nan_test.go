package maintenance

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestNaNDeviceThreshold: a device that reports its alarm threshold as NaN
// (a float32 sensor field with no value) while a case is open must not
// make the tracker emit an event the contract refuses: every event still
// validates (the stage stops, pipeline.ErrStop, on one that does not).
// Before, the NaN replaced the device's threshold, the case's next update
// carried threshold NaN and a predicted failure from a NaN lead time, and
// the maintain stage stopped at it.
func TestNaNDeviceThreshold(t *testing.T) {
	tr, _ := New(Config{})
	const thr = schemas.MetricThresholdInPowerLower
	comp := "name=Ethernet1-transceiver"
	tr.Observe(t0.UnixNano(), "edge-1", thr, comp+",severity=CRITICAL", -9)
	rx := func(h float64) float64 { return -3 - 0.05*math.Max(h-30, 0) }
	evs := drive(t, tr, t0, 70, rx) // mid-case
	if tr.Open() != 1 {
		t.Fatalf("%d cases open", tr.Open())
	}
	at := t0.Add(70 * time.Hour)
	tr.Observe(at.UnixNano(), "edge-1", thr, comp+",severity=CRITICAL", math.NaN())
	evs = append(evs, drive(t, tr, at, 40, func(h float64) float64 { return rx(h + 70) })...)
	for _, e := range evs {
		if _, err := schemas.MarshalMaintenance(&e); err != nil {
			t.Errorf("%s event at %v: %v", e.State, e.EventTime, err)
		}
	}
}

// TestRestoredNaNDeviceThreshold: a series state that holds a NaN device
// threshold (written before the tracker refused them) restores without it,
// and the open case's next events validate. Before, it restored as it was
// and the stage stopped at the case's next update.
func TestRestoredNaNDeviceThreshold(t *testing.T) {
	a, _ := New(Config{})
	comp := "name=Ethernet1-transceiver"
	a.Observe(t0.UnixNano(), "edge-1", schemas.MetricThresholdInPowerLower, comp+",severity=CRITICAL", -9)
	rx := func(h float64) float64 { return -3 - 0.05*math.Max(h-30, 0) }
	drive(t, a, t0, 70, rx)
	if a.Open() != 1 {
		t.Fatalf("%d cases open", a.Open())
	}
	k := a.Keys()[0]
	a.series[k].devThr = math.NaN() // as the tracker kept it before
	st, _ := a.AppendState(nil, k)
	b, _ := New(Config{})
	if err := b.RestoreState(k, st); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(70 * time.Hour)
	for _, e := range drive(t, b, at, 40, func(h float64) float64 { return rx(h + 70) }) {
		if _, err := schemas.MarshalMaintenance(&e); err != nil {
			t.Errorf("%s event at %v: %v", e.State, e.EventTime, err)
		}
	}
}
