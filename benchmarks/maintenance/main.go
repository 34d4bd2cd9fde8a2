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
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/maintenance"
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

func main() {
	var f flags
	flag.IntVar(&f.devices, "devices", 20, "simulated devices")
	flag.IntVar(&f.days, "days", 10, "simulated days")
	flag.IntVar(&f.optics, "optics", 10, "optic degradations")
	flag.IntVar(&f.fans, "fans", 6, "fan failures (with a worn-bearing precursor)")
	flag.IntVar(&f.psus, "psus", 6, "PSU degradations (with a precursor)")
	flag.IntVar(&f.rxErrors, "rx-errors", 6, "links whose frame errors rise (dirty connector, decaying transmitter)")
	flag.IntVar(&f.changes, "changes", 3, "devices whose configuration changes halfway")
	flag.IntVar(&f.powerDevices, "power-devices", 20, "devices of the power fleet")
	flag.IntVar(&f.powerPorts, "power-ports", 8, "ports per device of the power fleet")
	flag.IntVar(&f.powerDays, "power-days", 4, "simulated days of the power fleet")
	flag.DurationVar(&f.interval, "interval", 5*time.Minute, "sample interval")
	flag.Uint64Var(&f.seed, "seed", 1, "seed of the fleet and the fault placement")
	flag.Float64Var(&f.rampMin, "ramp-min", 3, "shortest degradation ramp, days")
	flag.Float64Var(&f.rampMax, "ramp-max", 5, "longest degradation ramp, days")
	flag.Parse()
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "maintenance benchmark:", err)
		os.Exit(1)
	}
}

// Thresholds of the default signals, as fractions of the way through a
// fault's ramp: where the true signal crosses them.
const (
	opticCross = 4.0 / 6    // rx falls 6 dB over the window; threshold 4 dB below baseline
	biasCross  = 0.35 / 0.5 // bias rises 50 % over the window; threshold +35 %
	fanCross   = 0.4 / 0.5  // fan speed falls to half over the precursor; threshold −40 %
	psuCross   = 0.06 / 0.1 // efficiency falls 0.1 over the precursor; threshold −0.06
	rxErrCross = 1.0 / 2    // errors rise to 2/s over the window; threshold 1/s
)

// degradation is one injected fault and when its signal truly fails.
type degradation struct {
	kind, device, component string
	wear, failure           time.Time // start of the ramp; threshold crossing
	firstOpen               time.Time // first case opened on it (zero if none)
	predicted               time.Time // its predicted failure
	// stopped is when a fan stops: the chassis then runs hot until it is
	// replaced, and the simulator labels the temperatures too.
	stopped, replaced time.Time
}

var start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func plan(f flags) ([]sim.Fault, []*degradation) {
	rng := rand.New(rand.NewPCG(f.seed, 77))
	total := time.Duration(f.days) * 24 * time.Hour
	used := map[string]bool{}
	pick := func(comps []string) (string, string) {
		for {
			d := sim.DeviceName(rng.IntN(f.devices))
			c := comps[rng.IntN(len(comps))]
			if !used[d+c] {
				used[d+c] = true
				return d, c
			}
		}
	}
	// The ramp starts after the baseline is learned (1.5 days) and its
	// failure falls inside the run.
	ramp := func() (time.Duration, time.Duration) {
		length := time.Duration((f.rampMin + (f.rampMax-f.rampMin)*rng.Float64()) * float64(24*time.Hour))
		length = length.Round(time.Hour)
		latest := total - length - 12*time.Hour
		at := 36*time.Hour + time.Duration(rng.Float64()*float64(latest-36*time.Hour))
		return at.Round(time.Hour), length
	}
	var faults []sim.Fault
	var degs []*degradation
	for range f.optics {
		d, c := pick([]string{"Ethernet1", "Ethernet2", "Ethernet3", "Ethernet4"})
		at, length := ramp()
		faults = append(faults, sim.Fault{Device: d, Interface: c, Kind: sim.FaultOpticDegradation, After: at, Duration: length})
		cross := math.Min(opticCross, biasCross)
		degs = append(degs, &degradation{kind: sim.FaultOpticDegradation, device: d, component: "name=" + c + "-transceiver",
			wear: start.Add(at), failure: start.Add(at + time.Duration(cross*float64(length)))})
	}
	for range f.fans {
		d, c := pick([]string{"Fan1", "Fan2"})
		at, length := ramp()
		faults = append(faults, sim.Fault{Device: d, Component: c, Kind: sim.FaultFanFailure, After: at + length, Duration: 6 * time.Hour, Precursor: length})
		degs = append(degs, &degradation{kind: sim.FaultFanFailure, device: d, component: "name=" + c,
			wear: start.Add(at), failure: start.Add(at + time.Duration(fanCross*float64(length))),
			stopped: start.Add(at + length), replaced: start.Add(at + length + 6*time.Hour)})
	}
	for range f.psus {
		d, c := pick([]string{"PSU1", "PSU2"})
		at, length := ramp()
		faults = append(faults, sim.Fault{Device: d, Component: c, Kind: sim.FaultPSUDegradation, After: at + length, Duration: 6 * time.Hour, Precursor: length})
		degs = append(degs, &degradation{kind: sim.FaultPSUDegradation, device: d, component: "name=" + c,
			wear: start.Add(at), failure: start.Add(at + time.Duration(psuCross*float64(length)))})
	}
	for range f.rxErrors {
		d, c := pick([]string{"Ethernet1", "Ethernet2", "Ethernet3", "Ethernet4"})
		at, length := ramp()
		faults = append(faults, sim.Fault{Device: d, Interface: c, Kind: sim.FaultRxErrors, After: at, Duration: length})
		degs = append(degs, &degradation{kind: sim.FaultRxErrors, device: d, component: "name=" + c,
			wear: start.Add(at), failure: start.Add(at + time.Duration(rxErrCross*float64(length)))})
	}
	return faults, degs
}

// powerPlan returns the power fleet's faults (abrupt: a PSU that loses
// efficiency, a fan that stops) and configuration changes halfway.
func powerPlan(f flags) ([]sim.Fault, []sim.Change) {
	total := time.Duration(f.powerDays) * 24 * time.Hour
	h := time.Hour
	faults := []sim.Fault{
		{Device: sim.DeviceName(1), Component: "PSU1", Kind: sim.FaultPSUDegradation, After: total/3 + 5*h, Duration: 8 * h},
		{Device: sim.DeviceName(2), Component: "PSU2", Kind: sim.FaultPSUDegradation, After: total*2/3 + 3*h, Duration: 8 * h, Factor: 0.05},
		{Device: sim.DeviceName(3), Component: "Fan1", Kind: sim.FaultFanFailure, After: total/3 + 11*h, Duration: 8 * h},
		{Device: sim.DeviceName(4), Component: "Fan2", Kind: sim.FaultFanFailure, After: total*2/3 + 7*h, Duration: 8 * h},
	}
	var changes []sim.Change
	for i := 0; i < f.changes && i < f.powerDevices; i++ {
		d := sim.DeviceName(f.powerDevices - 1 - i)
		changes = append(changes,
			sim.Change{Device: d, Interface: "Ethernet1", After: total / 2, Admin: "down"},
			sim.Change{Device: d, Interface: "Ethernet2", After: total / 2, Speed: sim.Speed10G},
			sim.Change{Device: d, Interface: "Ethernet3", After: total / 2, Optic: "remove"})
	}
	return faults, changes
}

func run(f flags) error {
	if err := runMaintenance(f); err != nil {
		return err
	}
	return runPower(f)
}

// runMaintenance runs the maintenance fleet: wear-in faults, default
// maintenance config. The power model runs on it too, for its MAPE under
// slow PSU degradations.
func runMaintenance(f flags) error {
	faults, degs := plan(f)
	fleet, err := sim.New(sim.Config{Devices: f.devices, Interfaces: 4, Interval: f.interval, Seed: f.seed, Start: start,
		Transceivers: true, Power: true, Faults: faults})
	if err != nil {
		return err
	}
	tracker, err := maintenance.New(maintenance.Config{})
	if err != nil {
		return err
	}
	// The same without the laser bias's temperature correction: the
	// baseline of that feature, measured in the same run.
	plain := maintenance.DefaultSignals()
	for i := range plain {
		plain[i].Covariate = ""
	}
	uncorrected, err := maintenance.New(maintenance.Config{Signals: plain})
	if err != nil {
		return err
	}
	est, err := power.New(power.Config{Window: 15 * time.Minute})
	if err != nil {
		return err
	}
	ticks := int(time.Duration(f.days) * 24 * time.Hour / f.interval)
	var events, biasOpens []schemas.MaintenanceEvent
	var rows []schemas.PowerRow
	samples := 0
	wall := time.Now()
	for range ticks {
		fleet.Next(func(s *schemas.Sample) {
			samples++
			est.Observe(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
			switch s.Kind {
			case schemas.KindGauge:
				tracker.Observe(s.TS, s.Device, s.Metric, s.Keys, s.F64)
				uncorrected.Observe(s.TS, s.Device, s.Metric, s.Keys, s.F64)
			case schemas.KindCounter:
				tracker.ObserveCounter(s.TS, s.Device, s.Metric, s.Keys, s.U64)
			}
		})
		events = append(events, tracker.Take()...)
		for _, e := range uncorrected.Take() {
			if e.State == schemas.MaintenanceOpen && e.Signal == "laser_bias" {
				biasOpens = append(biasOpens, e)
			}
		}
		rows = append(rows, est.Take().Rows...)
	}
	elapsed := time.Since(wall)
	simulated := time.Duration(ticks) * f.interval
	deviceDays := float64(f.devices) * simulated.Hours() / 24
	fmt.Printf("maintenance fleet: %d devices × %.1f days = %.0f device-days (%d samples, interval %v, %d tracked series) in %.1f s: %.0f× faster than real time\n\n",
		f.devices, simulated.Hours()/24, deviceDays, samples, f.interval, tracker.Series(), elapsed.Seconds(), simulated.Seconds()/elapsed.Seconds())
	reportMaintenance(events, degs, deviceDays)
	falseBias := 0
	for _, e := range biasOpens {
		real := false
		for _, d := range degs {
			if d.device == e.Device && d.component == e.Component && !e.EventTime.Before(d.wear) && !e.EventTime.After(d.failure.Add(24*time.Hour)) {
				real = true
			}
		}
		if !real {
			falseBias++
		}
	}
	fmt.Printf("baseline, laser bias without its temperature correction: %d false laser_bias cases (%.2f per 100 device-days), from chassis heated by stopped fans\n\n",
		falseBias, 100*float64(falseBias)/deviceDays)
	var apes []float64
	for _, r := range rows {
		if r.Row == schemas.PowerRowDevice && !math.IsNaN(r.MeasuredW) && r.WindowStart >= start.Add(6*time.Hour).UnixNano() {
			apes = append(apes, math.Abs(r.ModelledW-r.MeasuredW)/r.MeasuredW)
		}
	}
	fmt.Printf("power model on this fleet (4 ports per device, 6 PSUs losing efficiency over days): MAPE %.2f %% over %d device-windows\n\n", 100*meanOf(apes), len(apes))
	return nil
}

// runPower runs the power fleet: more ports per device, abrupt PSU and fan
// faults, configuration changes halfway.
func runPower(f flags) error {
	faults, changes := powerPlan(f)
	fleet, err := sim.New(sim.Config{Devices: f.powerDevices, Interfaces: f.powerPorts, Interval: f.interval, Seed: f.seed, Start: start,
		Power: true, Faults: faults, Changes: changes})
	if err != nil {
		return err
	}
	est, err := power.New(power.Config{Window: 15 * time.Minute})
	if err != nil {
		return err
	}
	// The priors-only baseline: the same estimator without measurements.
	priorsOnly, _ := power.New(power.Config{Window: 15 * time.Minute})
	ticks := int(time.Duration(f.powerDays) * 24 * time.Hour / f.interval)
	var rows, priorRows []schemas.PowerRow
	var residuals []power.Residual
	truth := make([][]float64, f.powerDevices)
	var op operatingPoint
	samples := 0
	wall := time.Now()
	for range ticks {
		fleet.Next(func(s *schemas.Sample) {
			samples++
			est.Observe(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
			if s.Metric != sim.MetricPSUInCurrent && s.Metric != sim.MetricPSUInVoltage {
				priorsOnly.Observe(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
			}
		})
		for i := range truth {
			truth[i] = append(truth[i], fleet.TruePower(i))
			dc, fans := fleet.TrueDC(i)
			op.dc, op.fans, op.n = op.dc+dc, op.fans+fans, op.n+1
		}
		o := est.Take()
		rows = append(rows, o.Rows...)
		residuals = append(residuals, o.Residuals...)
		priorRows = append(priorRows, priorsOnly.Take().Rows...)
	}
	elapsed := time.Since(wall)
	simulated := time.Duration(ticks) * f.interval
	fmt.Printf("power fleet: %d devices × %d ports × %.1f days (%d samples, interval %v) in %.1f s: %.0f× faster than real time\n",
		f.powerDevices, f.powerPorts, simulated.Hours()/24, samples, f.interval, elapsed.Seconds(), simulated.Seconds()/elapsed.Seconds())
	reportPower(fleet, est, rows, priorRows, residuals, truth, op, faults, changes, f)
	return nil
}

// operatingPoint sums the fleet's DC and fan power over devices and ticks.
type operatingPoint struct {
	dc, fans float64
	n        int
}

func reportMaintenance(events []schemas.MaintenanceEvent, degs []*degradation, deviceDays float64) {
	var falses, consequences []schemas.MaintenanceEvent
	states := map[string]int{}
	for _, e := range events {
		states[e.State+"/"+e.CloseReason]++
		if e.State != schemas.MaintenanceOpen {
			continue
		}
		consequence := false
		for _, d := range degs {
			// A stopped fan heats the chassis: a temperature case then is
			// the failure's consequence (labelled by the simulator), not a
			// false prediction.
			if d.kind == sim.FaultFanFailure && d.device == e.Device && e.Signal == "temperature" &&
				!e.EventTime.Before(d.stopped) && !e.EventTime.After(d.replaced.Add(24*time.Hour)) {
				consequence = true
			}
		}
		if consequence {
			consequences = append(consequences, e)
			continue
		}
		var match *degradation
		for _, d := range degs {
			if d.device == e.Device && d.component == e.Component &&
				!e.EventTime.Before(d.wear) && !e.EventTime.After(d.failure.Add(24*time.Hour)) {
				match = d
			}
		}
		if match == nil {
			falses = append(falses, e)
			continue
		}
		if match.firstOpen.IsZero() || e.EventTime.Before(match.firstOpen) {
			match.firstOpen, match.predicted = e.EventTime, e.PredictedFailure
		}
	}
	fmt.Println("== predictive maintenance (detectors/maintenance, default config) ==")
	fmt.Printf("%-18s %-7s %-28s %-20s %-20s %9s %10s\n", "kind", "device", "component", "ramp start", "true failure", "lead (h)", "pred err (h)")
	byKind := map[string][2]int{}
	var leads, errs []float64
	ok24 := 0
	for _, d := range degs {
		lead, perr := math.NaN(), math.NaN()
		if !d.firstOpen.IsZero() && d.firstOpen.Before(d.failure) {
			lead = d.failure.Sub(d.firstOpen).Hours()
			perr = d.predicted.Sub(d.failure).Hours()
			errs = append(errs, math.Abs(perr))
		}
		if math.IsNaN(lead) {
			leads = append(leads, 0)
		} else {
			leads = append(leads, lead)
		}
		k := byKind[d.kind]
		k[1]++
		if lead >= 24 {
			ok24++
			k[0]++
		}
		byKind[d.kind] = k
		fmt.Printf("%-18s %-7s %-28s %-20s %-20s %9.1f %10.1f\n", d.kind, d.device, d.component, d.wear.Format("01-02 15:04"), d.failure.Format("01-02 15:04"), lead, perr)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Println()
	for _, k := range kinds {
		fmt.Printf("  %-18s predicted ≥24 h ahead: %d/%d\n", k, byKind[k][0], byKind[k][1])
	}
	fmt.Printf("predicted ≥24 h before failure: %d/%d = %.1f %% (goal ≥ 90 %%)\n", ok24, len(degs), 100*float64(ok24)/float64(len(degs)))
	fmt.Printf("median lead time: %.1f h (goal ≥ 24 h); baseline, a static threshold alarm: 0.0 h\n", medianOf(leads))
	if len(errs) > 0 {
		fmt.Printf("median |predicted − true failure| at the first prediction: %.1f h\n", medianOf(errs))
	}
	fmt.Printf("false predictions: %d in %.0f device-days = %.2f per 100 device-days (goal ≤ 1)\n", len(falses), deviceDays, 100*float64(len(falses))/deviceDays)
	fmt.Printf("temperature cases after a fan stopped (the failure's labelled consequence, not counted as false): %d\n", len(consequences))
	for _, e := range falses {
		fmt.Printf("  false: %s %s %s at %s (predicted %s)\n", e.Device, e.Component, e.Signal, e.EventTime.Format("01-02 15:04"), e.PredictedFailure.Format("01-02 15:04"))
	}
	fmt.Printf("events by state: %v\n\n", states)
}

func reportPower(fleet *sim.Fleet, est *power.Estimator, rows, priorRows []schemas.PowerRow, residuals []power.Residual,
	truth [][]float64, op operatingPoint, faults []sim.Fault, changes []sim.Change, f flags) {
	fmt.Println("== power model (detectors/power, default priors, 15-minute windows) ==")
	pm := fleet.PowerModel()
	// The truth is not linear (PSU efficiency follows the load, fan power
	// the temperature): compare with its tangent at the fleet's mean.
	opDC, opFans := op.dc/float64(op.n), op.fans/float64(op.n)
	lin := pm.Linearise(opDC, opFans)
	want := map[string]float64{"base": lin.Base}
	for s := range pm.PortW {
		want["port/"+s], want["dynamic/"+s], want["optic/"+s] = lin.Port[s], lin.Dynamic[s], lin.Optic[s]
	}
	m := est.Model(pm.PartNo)
	fmt.Printf("model %s fitted on %d measurements; residual σ %.2f W\n", pm.PartNo, m.Points(), m.Sigma())
	fmt.Printf("ground truth: PSU efficiency on a load curve (%.1f %% at the mean %.0f W per PSU), fans %.1f W per device on average (cube of their speed);\n",
		100*pm.PSUEfficiency(opDC/2), opDC/2, opFans)
	slope := lin.Port[sim.Speed10G] / pm.PortW[sim.Speed10G]
	fmt.Printf("\"true W\" is its tangent there, the closest a linear model can come: input W ≈ %.2f W + %.4f × DC W\n", pm.InputW(opDC)-slope*opDC, slope)
	fmt.Printf("%-22s %9s %9s %9s %9s %8s\n", "coefficient", "true W", "fitted W", "± std W", "prior W", "error %")
	var static, dynamic []float64
	for _, c := range m.Coefficients() {
		w, ok := want[c.Name]
		if !ok {
			continue
		}
		e := 100 * math.Abs(c.Value-w) / w
		if strings.HasPrefix(c.Name, "dynamic/") {
			dynamic = append(dynamic, e)
		} else {
			static = append(static, e)
		}
		fmt.Printf("%-22s %9.3f %9.3f %9.3f %9.3f %8.2f\n", c.Name, w, c.Value, c.Std, c.Prior, e)
	}
	fmt.Printf("mean coefficient error: static (base, port, optic) %.2f %%, dynamic %.1f %% (the dynamic part is ≤ 5 %% of a port's power)\n",
		meanOf(static), meanOf(dynamic))

	// Windows disturbed by PSU and fan faults are not the model's to fit.
	disturbed := func(dev string, a, b int64) bool {
		for _, ft := range faults {
			if ft.Device != dev || (ft.Kind != sim.FaultPSUDegradation && ft.Kind != sim.FaultFanFailure) {
				continue
			}
			s, e := start.Add(ft.After-ft.Precursor).UnixNano(), start.Add(ft.After+ft.Duration).UnixNano()
			if a < e && b > s {
				return true
			}
		}
		return false
	}
	warm := start.Add(6 * time.Hour).UnixNano()
	prior := map[[2]string]float64{}
	for _, r := range priorRows {
		if r.Row == schemas.PowerRowDevice {
			prior[[2]string{r.Device, fmt.Sprint(r.WindowStart)}] = r.ModelledW
		}
	}
	var all, healthy, priorAPE, persist []float64
	last := map[string]float64{}
	for _, r := range rows {
		if r.Row != schemas.PowerRowDevice || math.IsNaN(r.MeasuredW) {
			continue
		}
		if p, ok := last[r.Device]; ok && r.WindowStart >= warm && !disturbed(r.Device, r.WindowStart, r.WindowEnd) {
			persist = append(persist, math.Abs(p-r.MeasuredW)/r.MeasuredW)
		}
		last[r.Device] = r.MeasuredW
		if r.WindowStart < warm {
			continue
		}
		ape := math.Abs(r.ModelledW-r.MeasuredW) / r.MeasuredW
		all = append(all, ape)
		if !disturbed(r.Device, r.WindowStart, r.WindowEnd) {
			healthy = append(healthy, ape)
			if p, ok := prior[[2]string{r.Device, fmt.Sprint(r.WindowStart)}]; ok {
				priorAPE = append(priorAPE, math.Abs(p-r.MeasuredW)/r.MeasuredW)
			}
		}
	}
	fmt.Printf("modelled vs measured MAPE (after 6 h): %.2f %% over %d healthy device-windows (goal ≤ 3 %%); %.2f %% over all %d, PSU and fan faults included\n",
		100*meanOf(healthy), len(healthy), 100*meanOf(all), len(all))
	fmt.Printf("  baselines, same windows: priors only (no fit) %.2f %%; persistence (last window's measurement) %.2f %%\n", 100*meanOf(priorAPE), 100*meanOf(persist))

	// Residual anomalies against the PSU and fan faults.
	hit := map[int]bool{}
	fp := 0
	for _, r := range residuals {
		if !r.Firing {
			continue
		}
		matched := false
		for i, ft := range faults {
			if ft.Device != r.Device || (ft.Kind != sim.FaultPSUDegradation && ft.Kind != sim.FaultFanFailure) {
				continue
			}
			s, e := start.Add(ft.After-ft.Precursor), start.Add(ft.After+ft.Duration+time.Hour)
			at := time.Unix(0, r.TS)
			if !at.Before(s) && at.Before(e) {
				hit[i], matched = true, true
			}
		}
		if !matched {
			fp++
		}
	}
	var psus, fans int
	var psuHit, fanHit int
	for i, ft := range faults {
		switch ft.Kind {
		case sim.FaultPSUDegradation:
			psus++
			if hit[i] {
				psuHit++
			}
		case sim.FaultFanFailure:
			fans++
			if hit[i] {
				fanHit++
			}
		}
	}
	fmt.Printf("residual anomalies: PSU degradations found %d/%d, fan failures %d/%d, firing elsewhere %d\n", psuHit, psus, fanHit, fans, fp)

	// Savings found.
	saving := map[string][2]float64{}
	lastWin := int64(0)
	for _, r := range rows {
		lastWin = max(lastWin, r.WindowStart)
	}
	for _, r := range rows {
		if r.Row == schemas.PowerRowSaving && r.WindowStart == lastWin {
			s := saving[r.Reason]
			s[0]++
			s[1] += r.ModelledW
			saving[r.Reason] = s
		}
	}
	total := 0.0
	for _, r := range rows {
		if r.Row == schemas.PowerRowDevice && r.WindowStart == lastWin {
			total += r.MeasuredW
		}
	}
	fmt.Printf("savings opportunities in the last window (fleet draws %.0f W):\n", total)
	for _, k := range []string{schemas.SavingAdminUpOperDown, schemas.SavingOpticUnusedPort, schemas.SavingUnderutilisedParallel} {
		fmt.Printf("  %-28s %3.0f ports, %6.1f W (%.1f %%)\n", k, saving[k][0], saving[k][1], 100*saving[k][1]/total)
	}

	// Configuration changes.
	if len(changes) == 0 {
		return
	}
	at := start.Add(changes[0].After)
	tick := int(changes[0].After / f.interval)
	per := int(time.Hour / f.interval)
	fmt.Printf("configuration change at %s on %d devices (Ethernet1 admin down, Ethernet2 to 10G, Ethernet3 optic removed):\n", at.Format("01-02 15:04"), len(changes)/3)
	for i := 0; i < len(changes); i += 3 {
		dev := changes[i].Device
		di := 0
		fmt.Sscanf(dev, "sim-%d", &di)
		tb, ta := meanOf(truth[di][tick-per:tick]), meanOf(truth[di][tick+1:tick+1+per])
		var mb, ma float64
		var before, after []float64
		for _, r := range rows {
			if r.Device != dev || r.Row != schemas.PowerRowDevice || math.IsNaN(r.MeasuredW) {
				continue
			}
			ape := 100 * math.Abs(r.ModelledW-r.MeasuredW) / r.MeasuredW
			switch {
			case r.WindowEnd <= at.UnixNano() && r.WindowStart >= at.Add(-24*time.Hour).UnixNano():
				before = append(before, ape)
			case r.WindowStart >= at.UnixNano() && r.WindowEnd <= at.Add(24*time.Hour).UnixNano():
				after = append(after, ape)
			}
			if r.WindowEnd == at.UnixNano() {
				mb = r.ModelledW
			}
			if r.WindowStart == at.UnixNano() {
				ma = r.ModelledW
			}
		}
		fmt.Printf("  %s: true step %+.1f W, modelled step %+.1f W (windows either side); MAPE 24 h before %.2f %%, 24 h after %.2f %%, first window after %.2f %%\n",
			dev, ta-tb, ma-mb, meanOf(before), meanOf(after), firstOr(after))
	}
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
