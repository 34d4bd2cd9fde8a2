// Command maintenance evaluates the power model and the failure predictions
// against the simulator's ground truth, faster than real time.
//
// It runs a simulated fleet in power mode with transceivers for a number of
// device-days, with injected degradations (optics that age over days, fans
// and PSUs that wear in before they fail) and configuration changes, feeds
// every sample to detectors/power and detectors/maintenance, and prints:
//
//   - maintenance: the share of degradations predicted at least 24 h before
//     the failure (the time the true signal crosses its threshold), the
//     median lead time, the error of the first predicted failure time, and
//     false predictions per 100 device-days; next to it, the lead time of a
//     static threshold alarm (0 h by construction) as the baseline;
//
//   - power: the fitted coefficients against the true ones, the
//     modelled-vs-measured MAPE (with a priors-only model and a persistence
//     forecast as baselines measured in the same run), the residual
//     anomalies against the PSU and fan faults, and the fit's behaviour
//     around the configuration changes.
//
//     go run ./benchmarks/maintenance --devices 20 --days 10
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/power"
	"github.com/telekernel/telekernel/schemas"
)

type flags struct {
	devices, days, optics, fans, psus, changes int
	rxErrors                                   int
	powerDevices, powerPorts, powerDays        int
	interval                                   time.Duration
	seed                                       uint64
	rampMin, rampMax                           float64
}

// defaultFlags returns the benchmark's defaults: the run the README reports.
func defaultFlags() flags {
	return flags{
		devices: 20, days: 10, optics: 10, fans: 6, psus: 6, rxErrors: 6, changes: 3,
		powerDevices: 20, powerPorts: 8, powerDays: 4,
		interval: 5 * time.Minute, seed: 1, rampMin: 3, rampMax: 5,
	}
}

func main() {
	f := defaultFlags()
	flag.IntVar(&f.devices, "devices", f.devices, "simulated devices")
	flag.IntVar(&f.days, "days", f.days, "simulated days")
	flag.IntVar(&f.optics, "optics", f.optics, "optic degradations")
	flag.IntVar(&f.fans, "fans", f.fans, "fan failures (with a worn-bearing precursor)")
	flag.IntVar(&f.psus, "psus", f.psus, "PSU degradations (with a precursor)")
	flag.IntVar(&f.rxErrors, "rx-errors", f.rxErrors, "links whose frame errors rise (dirty connector, decaying transmitter)")
	flag.IntVar(&f.changes, "changes", f.changes, "devices whose configuration changes halfway")
	flag.IntVar(&f.powerDevices, "power-devices", f.powerDevices, "devices of the power fleet")
	flag.IntVar(&f.powerPorts, "power-ports", f.powerPorts, "ports per device of the power fleet")
	flag.IntVar(&f.powerDays, "power-days", f.powerDays, "simulated days of the power fleet")
	flag.DurationVar(&f.interval, "interval", f.interval, "sample interval")
	flag.Uint64Var(&f.seed, "seed", f.seed, "seed of the fleet and the fault placement")
	flag.Float64Var(&f.rampMin, "ramp-min", f.rampMin, "shortest degradation ramp, days")
	flag.Float64Var(&f.rampMax, "ramp-max", f.rampMax, "longest degradation ramp, days")
	flag.Parse()
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "maintenance benchmark:", err)
		os.Exit(1)
	}
}

func run(f flags) error {
	if _, err := runMaintenance(f); err != nil {
		return err
	}
	return runPower(f)
}

// drive steps fleet through days of samples every interval. Each sample
// goes to est and then to observe; after each step, tick runs. It returns
// the simulated time, the samples seen and the wall time taken.
func drive(fleet *sim.Fleet, days int, interval time.Duration, est *power.Estimator, observe func(*schemas.Sample), tick func()) (simulated time.Duration, samples int, elapsed time.Duration) {
	ticks := int(time.Duration(days) * 24 * time.Hour / interval)
	wall := time.Now()
	for range ticks {
		fleet.Next(func(s *schemas.Sample) {
			samples++
			est.Observe(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
			observe(s)
		})
		tick()
	}
	return time.Duration(ticks) * interval, samples, time.Since(wall)
}

func firstOr(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return s[0]
}

func meanOf(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	t := 0.0
	for _, v := range s {
		t += v
	}
	return t / float64(len(s))
}

func medianOf(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
