package config_test

import (
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/schemas"
)

// TestShowcasePredictions drives the embedded default's fleet through its
// maintain stage's tracker for 14 simulated hours (what a minute of
// `telekernel run` covers, and more) and checks that every predicted
// failure is on a component labels name as wearing, and that the worn
// optic and fan are predicted. The sensor noise follows the clock, so the
// runs start at times of day that differ: the four within four minutes of
// 17:50 each once opened a laser_bias case on a healthy optic (a slope on
// the temperature learned from a baseline that did not determine it).
func TestShowcasePredictions(t *testing.T) {
	if testing.Short() {
		t.Skip("8 runs of 14 simulated hours take ~10 s")
	}
	cfg := config.Default()
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	starts := []time.Duration{
		17*time.Hour + 48*time.Minute + 20*time.Second, 17*time.Hour + 49*time.Minute + 30*time.Second,
		17*time.Hour + 50*time.Minute + 40*time.Second, 17*time.Hour + 51*time.Minute + 20*time.Second,
		0, 6 * time.Hour, 12 * time.Hour, 21 * time.Hour,
	}
	for _, at := range starts {
		sc := cfg.Sim.Fleet()
		sc.Start = day.Add(at)
		fleet, err := sim.New(sc)
		if err != nil {
			t.Fatal(err)
		}
		// The worn parts: the degrading optic's series, and the failing
		// fan (its labels also name the other fan and the temperatures,
		// which it moves).
		worn := map[[2]string]bool{}
		for _, l := range fleet.Labels() {
			if l.Kind == sim.FaultOpticDegradation {
				worn[[2]string{l.Device, l.Keys}] = true
			}
		}
		for _, f := range sc.Faults {
			if f.Kind == sim.FaultFanFailure {
				worn[[2]string{f.Device, "name=" + f.Component}] = true
			}
		}
		tr, err := maintenance.New(cfg.Maintain.Model)
		if err != nil {
			t.Fatal(err)
		}
		var predicted []string
		for range int(14 * time.Hour / sc.Interval) {
			fleet.Next(func(s *schemas.Sample) {
				switch s.Kind {
				case schemas.KindGauge:
					tr.Observe(s.TS, s.Device, s.Metric, s.Keys, s.F64)
				case schemas.KindCounter:
					tr.ObserveCounter(s.TS, s.Device, s.Metric, s.Keys, s.U64)
				}
			})
			for _, e := range tr.Take() {
				if e.State != schemas.MaintenanceOpen {
					continue
				}
				if !worn[[2]string{e.Device, e.Component}] {
					t.Errorf("start %s: %s case on %s %s, which is not wearing, %v in (predicted failure %v later)",
						sc.Start.Format("15:04:05"), e.Signal, e.Device, e.Component, e.EventTime.Sub(sc.Start), e.PredictedFailure.Sub(e.EventTime))
					continue
				}
				if !slices.Contains(predicted, e.Signal) {
					predicted = append(predicted, e.Signal)
				}
			}
		}
		slices.Sort(predicted)
		if !slices.Equal(predicted, []string{"fan_speed", "laser_bias", "optic_rx_power"}) {
			t.Errorf("start %s: predicted %v on the worn optic and fan, want fan_speed, laser_bias and optic_rx_power", sc.Start.Format("15:04:05"), predicted)
		}
	}
}
