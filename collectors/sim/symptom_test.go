package sim

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// seriesValues runs cfg for n ticks and returns, per tick, the value of
// device sim-00's series (metric, keys): a counter's increase since the
// previous tick, a gauge's value.
func seriesValues(t *testing.T, cfg Config, n int, metric, keys string) []float64 {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	var last uint64
	for i := range n {
		f.Next(func(s *schemas.Sample) {
			if s.Device != "sim-00" || s.Metric != metric || s.Keys != keys {
				return
			}
			switch s.Kind {
			case schemas.KindCounter:
				if i > 0 {
					out = append(out, float64(s.U64-last))
				} else {
					out = append(out, 0)
				}
				last = s.U64
			default:
				out = append(out, s.F64)
			}
		})
	}
	return out
}

func sd(xs []float64) float64 {
	var m, v float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v / float64(len(xs)))
}

// TestSymptomNoise: the noise FirstSymptom assumes is the simulator's,
// within 15 %: in-errors per interval and an optic's receive power on a
// fleet without faults.
func TestSymptomNoise(t *testing.T) {
	cfg := Config{Devices: 1, Interfaces: 1, Transceivers: true, Faults: []Fault{}, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	errs := seriesValues(t, cfg, 20000, schemas.MetricInErrors, "name=Ethernet1")[1:]
	rx := seriesValues(t, cfg, 20000, schemas.MetricOpticInputPower, "name=Ethernet1-transceiver")
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"in-errors per interval", sd(errs), noiseErrorsPerInterval}, {"optic input power", sd(rx), noiseOpticDB}} {
		if math.Abs(c.got/c.want-1) > 0.15 {
			t.Errorf("%s: noise sd %.4f in the simulator, FirstSymptom assumes %.4f", c.name, c.got, c.want)
		}
	}
}

// TestFirstSymptom: a slow fault's first symptom is the first tick where
// its own deviation (the faulted series minus the same series without the
// fault, same random draws) reaches 3 sigmas of the noise, the tick before
// stays below; a step is at its start.
func TestFirstSymptom(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := Config{Devices: 1, Interfaces: 1, Transceivers: true, Faults: []Fault{}, Start: start}
	for _, c := range []struct {
		fault         Fault
		metric, keys  string
		sigma         float64
		want          time.Duration // after the fault's start
		cumulativeErr bool
	}{
		{Fault{Device: "sim-00", Interface: "Ethernet1", Kind: FaultRxErrors, After: time.Hour, Duration: 30 * time.Minute}, schemas.MetricInErrors, "name=Ethernet1", noiseErrorsPerInterval, 130 * time.Second, true},
		{Fault{Device: "sim-00", Interface: "Ethernet1", Kind: FaultRxErrors, After: time.Hour, Duration: time.Hour}, schemas.MetricInErrors, "name=Ethernet1", noiseErrorsPerInterval, 260 * time.Second, true},
		{Fault{Device: "sim-00", Interface: "Ethernet1", Kind: FaultOpticDegradation, After: time.Hour, Duration: 2 * time.Hour}, schemas.MetricOpticInputPower, "name=Ethernet1-transceiver", noiseOpticDB, 110 * time.Second, false},
	} {
		cfg := base
		cfg.Faults = []Fault{c.fault}
		got := cfg.FirstSymptom(cfg.WithDefaults().Faults[0])
		if got.Sub(start.Add(c.fault.After)) != c.want {
			t.Errorf("%s over %v: first symptom %v after the start, want %v", c.fault.Kind, c.fault.Duration, got.Sub(start.Add(c.fault.After)), c.want)
		}
		n := int((c.fault.After+c.fault.Duration)/DefaultInterval) - 1
		faulted, healthy := seriesValues(t, cfg, n, c.metric, c.keys), seriesValues(t, base, n, c.metric, c.keys)
		i := int(got.Sub(start) / DefaultInterval)
		dev := func(i int) float64 { return math.Abs(faulted[i] - healthy[i]) }
		// The counter carries fractional errors between ticks, so one
		// tick's increment can hold one error more or less.
		slack := 0.0
		if c.cumulativeErr {
			slack = 1
		}
		if dev(i)+slack < SymptomSigmas*c.sigma || dev(i-1)-slack >= SymptomSigmas*c.sigma {
			t.Errorf("%s: deviation %.3f at the first symptom, %.3f a tick before; 3 sigmas %.3f", c.fault.Kind, dev(i), dev(i-1), SymptomSigmas*c.sigma)
		}
	}
	step := Fault{Device: "sim-00", Interface: "Ethernet1", Kind: FaultTrafficSpike, After: time.Hour + 5*time.Second, Duration: time.Minute}
	if got := base.FirstSymptom(step); !got.Equal(start.Add(time.Hour + 10*time.Second)) {
		t.Errorf("a spike at 1h5s: first symptom %v, want the next tick", got)
	}
	wear := Fault{Device: "sim-00", Component: "PSU2", Kind: FaultPSUDegradation, After: 3 * time.Hour, Duration: time.Hour, Precursor: 2 * time.Hour, Factor: 0.1}
	if got := base.FirstSymptom(wear); !got.After(start.Add(time.Hour)) || !got.Before(start.Add(3*time.Hour)) {
		t.Errorf("a PSU's 2 h wear before 3h: first symptom %v, want inside the precursor", got.Sub(start))
	}
}
