package maintenance

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestCovariateInfDropped: a transceiver's temperature sensor that reads
// ±Inf for six hours (a failed sensor) while its laser ages is dropped as
// a NaN reading is: the laser bias events are those of the sensor reading
// NaN then, and every one validates; ±Inf dates nothing (Dates). Before,
// the ±Inf readings went into the covariate's bucket medians, whose
// correction made the bias buckets infinite: with +Inf 21 events came
// instead of 16, with -Inf 3, one with value +Inf, at which the maintain
// stage stops.
func TestCovariateInfDropped(t *testing.T) {
	const opt = "name=Ethernet1-transceiver"
	run := func(failed float64) []schemas.MaintenanceEvent {
		tr, _ := New(Config{})
		rng := rand.New(rand.NewPCG(5, 6))
		var evs []schemas.MaintenanceEvent
		for m := 0; m < 120*60; m += 10 {
			h := float64(m) / 60
			temp := 45 + 3*math.Sin(2*math.Pi*h/24) + 0.2*rng.NormFloat64()
			bias := 7 * (1 + 0.015*(temp-40))
			if h >= 50 {
				bias *= 1 + 0.005*(h-50) // +35 % at hour 120
			}
			if h >= 80 && h < 86 {
				temp = failed
			}
			ts := t0.Add(time.Duration(m) * time.Minute).UnixNano()
			tr.Observe(ts, "edge-1", schemas.MetricTemperature, opt, temp)
			tr.Observe(ts, "edge-1", schemas.MetricOpticLaserBias, opt, bias+0.02*rng.NormFloat64())
			evs = append(evs, tr.Take()...)
		}
		return evs
	}
	want := run(math.NaN())
	if len(want) == 0 {
		t.Fatal("the ageing laser opened no case: the test shows nothing")
	}
	for _, v := range []float64{math.Inf(1), math.Inf(-1)} {
		got := run(v)
		for _, e := range got {
			if _, err := schemas.MarshalMaintenance(&e); err != nil {
				t.Errorf("temperature %v: %s event at %v: %v", v, e.State, e.EventTime, err)
				break
			}
		}
		if !slices.EqualFunc(got, want, func(a, b schemas.MaintenanceEvent) bool { return a.ID == b.ID && a.Value == b.Value }) {
			t.Errorf("temperature %v for 6 h: %d events, want %d, those of it reading NaN", v, len(got), len(want))
		}
	}
	tr, _ := New(Config{})
	for _, v := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		if tr.Dates(schemas.MetricTemperature, v) {
			t.Errorf("Dates(temperature, %v) = true, want false: the tracker drops it", v)
		}
	}
}

// TestRestoredCovariateInf: a device record that holds a covariate
// reading of +Inf (written before the tracker dropped them) restores
// without it. Before, it was restored and went into the next buckets'
// covariate medians.
func TestRestoredCovariateInf(t *testing.T) {
	a, _ := New(Config{})
	ts := t0.UnixNano()
	const opt = "name=Ethernet1-transceiver"
	a.Observe(ts, "d1", schemas.MetricTemperature, opt, 41.5)
	a.Observe(ts, "d1", schemas.MetricTemperature, "name=CPU", 60)
	k := schemas.SeriesKey{Device: "d1", Metric: schemas.MetricTemperature, Keys: opt}
	a.covs[k] = covReading{v: math.Inf(1), ts: ts} // as the tracker kept it before
	st, _ := a.AppendDeviceState(nil, "d1")
	b, _ := New(Config{})
	if err := b.RestoreDeviceState("d1", st); err != nil {
		t.Fatal(err)
	}
	if c, ok := b.covs[k]; ok {
		t.Errorf("restored %s reads %v, want no reading", k, c.v)
	}
	if len(b.covs) != 1 {
		t.Errorf("restored %d covariate readings, want the CPU's", len(b.covs))
	}
}
