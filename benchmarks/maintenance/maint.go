package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/detectors/power"
	"github.com/telekernel/telekernel/schemas"
)

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

// runMaintenance runs the maintenance fleet: wear-in faults, default
// maintenance config. The power model runs on it too, for its MAPE under
// slow PSU degradations.
func runMaintenance(f flags) (maintScore, error) {
	faults, degs := plan(f)
	fleet, err := sim.New(sim.Config{Devices: f.devices, Interfaces: 4, Interval: f.interval, Seed: f.seed, Start: start,
		Transceivers: true, Power: true, Faults: faults})
	if err != nil {
		return maintScore{}, err
	}
	tracker, err := maintenance.New(maintenance.Config{})
	if err != nil {
		return maintScore{}, err
	}
	// The same without the laser bias's temperature correction: the
	// baseline of that feature, measured in the same run.
	plain := maintenance.DefaultSignals()
	for i := range plain {
		plain[i].Covariate = ""
	}
	uncorrected, err := maintenance.New(maintenance.Config{Signals: plain})
	if err != nil {
		return maintScore{}, err
	}
	est, err := power.New(power.Config{Window: 15 * time.Minute})
	if err != nil {
		return maintScore{}, err
	}
	var events, biasOpens []schemas.MaintenanceEvent
	var rows []schemas.PowerRow
	simulated, samples, elapsed := drive(fleet, f.days, f.interval, est, func(s *schemas.Sample) {
		switch s.Kind {
		case schemas.KindGauge:
			tracker.Observe(s.TS, s.Device, s.Metric, s.Keys, s.F64)
			uncorrected.Observe(s.TS, s.Device, s.Metric, s.Keys, s.F64)
		case schemas.KindCounter:
			tracker.ObserveCounter(s.TS, s.Device, s.Metric, s.Keys, s.U64)
		}
	}, func() {
		events = append(events, tracker.Take()...)
		for _, e := range uncorrected.Take() {
			if e.State == schemas.MaintenanceOpen && e.Signal == "laser_bias" {
				biasOpens = append(biasOpens, e)
			}
		}
		rows = append(rows, est.Take().Rows...)
	})
	deviceDays := float64(f.devices) * simulated.Hours() / 24
	fmt.Printf("maintenance fleet: %d devices × %.1f days = %.0f device-days (%d samples, interval %v, %d tracked series) in %.1f s: %.0f× faster than real time\n\n",
		f.devices, simulated.Hours()/24, deviceDays, samples, f.interval, tracker.Series(), elapsed.Seconds(), simulated.Seconds()/elapsed.Seconds())
	sc := scoreMaintenance(events, degs, deviceDays)
	sc.staticLead, sc.staticFalses = scoreStatic(tracker, degs)
	reportMaintenance(sc, degs)
	falseBias := 0
	for _, e := range biasOpens {
		if owner(degs, e) == nil {
			falseBias++
		}
	}
	fmt.Printf("baseline, laser bias without its temperature correction: %d false laser_bias cases (%.2f per 100 device-days)\n\n",
		falseBias, 100*float64(falseBias)/deviceDays)
	var apes []float64
	for _, r := range rows {
		if r.Row == schemas.PowerRowDevice && !math.IsNaN(r.MeasuredW) && r.WindowStart >= start.Add(6*time.Hour).UnixNano() {
			apes = append(apes, math.Abs(r.ModelledW-r.MeasuredW)/r.MeasuredW)
		}
	}
	sc.powerMAPE = 100 * meanOf(apes)
	fmt.Printf("power model on this fleet (4 ports per device, 6 PSUs losing efficiency over days): MAPE %.2f %% over %d device-windows\n\n", sc.powerMAPE, len(apes))
	return sc, nil
}

// maintScore is what the maintenance half of the benchmark measured.
type maintScore struct {
	degradations int
	// hits are the degradations whose first case opened at least 24 h
	// before the failure with a predicted time to failure within a factor
	// of maxTTFRatio of the true one.
	hits int
	// early are those opened ≥ 24 h ahead whatever they predicted.
	early      int
	falses     int // open cases on no degradation, every one counted
	deviceDays float64
	medianLead float64 // hours, 0 for a missed degradation
	medianErr  float64 // |predicted − true failure| at the first case, hours
	// The static threshold alarm on the same hourly medians and
	// thresholds: its median lead (hours) and its alarms on no
	// degradation.
	staticLead   float64
	staticFalses int
	// powerMAPE is the power model's MAPE on this fleet after 6 h, in %.
	powerMAPE float64
}

// maxTTFRatio bounds how far a first prediction's time to failure may be
// from the truth for the degradation to count as predicted: within a
// factor of 2 either way.
const maxTTFRatio = 2.0

// owner returns the degradation a case belongs to: the last one on its
// device and component whose wear start is before the case and whose
// failure is at most a day before it; nil when the case is false.
func owner(degs []*degradation, e schemas.MaintenanceEvent) *degradation {
	var match *degradation
	for _, d := range degs {
		if d.device == e.Device && d.component == e.Component &&
			!e.EventTime.Before(d.wear) && !e.EventTime.After(d.failure.Add(24*time.Hour)) {
			match = d
		}
	}
	return match
}

// scoreMaintenance matches the open cases with the injected degradations:
// a case on a degradation's device and component between its wear start
// and a day after its failure belongs to it; every other case is false.
func scoreMaintenance(events []schemas.MaintenanceEvent, degs []*degradation, deviceDays float64) maintScore {
	sc := maintScore{degradations: len(degs), deviceDays: deviceDays}
	for _, e := range events {
		if e.State != schemas.MaintenanceOpen {
			continue
		}
		match := owner(degs, e)
		if match == nil {
			sc.falses++
			continue
		}
		if match.firstOpen.IsZero() || e.EventTime.Before(match.firstOpen) {
			match.firstOpen, match.predicted = e.EventTime, e.PredictedFailure
		}
	}
	var leads, errs []float64
	for _, d := range degs {
		lead := 0.0
		if !d.firstOpen.IsZero() && d.firstOpen.Before(d.failure) {
			lead = d.failure.Sub(d.firstOpen).Hours()
			errs = append(errs, math.Abs(d.predicted.Sub(d.failure).Hours()))
		}
		leads = append(leads, lead)
		if lead >= 24 {
			sc.early++
			ratio := d.predicted.Sub(d.firstOpen).Hours() / lead
			if ratio >= 1/maxTTFRatio && ratio <= maxTTFRatio {
				sc.hits++
			}
		}
	}
	sc.medianLead = medianOf(leads)
	if len(errs) > 0 {
		sc.medianErr = medianOf(errs)
	}
	return sc
}

// scoreStatic measures the baseline: an alarm when a series' hourly median
// crosses the threshold the tracker uses for it. Its lead on a degradation
// is the failure time less the first crossing on the degradation's device
// and component (negative when it comes after); a crossing elsewhere, or
// before the wear began, is a false alarm.
func scoreStatic(tr *maintenance.Tracker, degs []*degradation) (medianLead float64, falses int) {
	first := map[*degradation]time.Time{}
	for _, k := range tr.Keys() {
		ts, ys, _, thr, ok := tr.TrendOf(k)
		if !ok || math.IsNaN(thr) || len(ys) == 0 {
			continue
		}
		dir := math.Copysign(1, thr-ys[0])
		var owner *degradation
		for _, d := range degs {
			if d.device == k.Device && d.component == k.Keys {
				owner = d
			}
		}
		for i, y := range ys {
			if dir*(y-thr) < 0 {
				continue
			}
			at := time.Unix(0, ts[i]).UTC()
			if owner == nil || at.Before(owner.wear) {
				falses++
			} else if f, seen := first[owner]; !seen || at.Before(f) {
				first[owner] = at
			}
			break
		}
	}
	var leads []float64
	for _, d := range degs {
		if f, ok := first[d]; ok {
			leads = append(leads, d.failure.Sub(f).Hours())
		}
	}
	if len(leads) > 0 {
		medianLead = medianOf(leads)
	}
	return medianLead, falses
}

func reportMaintenance(sc maintScore, degs []*degradation) {
	fmt.Println("== predictive maintenance (detectors/maintenance, default config) ==")
	fmt.Printf("%-18s %-7s %-28s %-20s %-20s %9s %10s\n", "kind", "device", "component", "ramp start", "true failure", "lead (h)", "pred err (h)")
	byKind := map[string][2]int{}
	for _, d := range degs {
		lead, perr := math.NaN(), math.NaN()
		if !d.firstOpen.IsZero() && d.firstOpen.Before(d.failure) {
			lead = d.failure.Sub(d.firstOpen).Hours()
			perr = d.predicted.Sub(d.failure).Hours()
		}
		k := byKind[d.kind]
		k[1]++
		if lead >= 24 {
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
		fmt.Printf("  %-18s opened ≥24 h ahead: %d/%d\n", k, byKind[k][0], byKind[k][1])
	}
	fmt.Printf("predicted ≥24 h before failure, time to failure within ×%g of the truth: %d/%d = %.1f %% (goal ≥ 90 %%); opened ≥24 h ahead whatever the prediction: %d\n",
		maxTTFRatio, sc.hits, sc.degradations, 100*float64(sc.hits)/float64(sc.degradations), sc.early)
	fmt.Printf("median lead time: %.1f h (goal ≥ 24 h); baseline, a static threshold alarm on the same hourly medians and thresholds: %.1f h\n", sc.medianLead, sc.staticLead)
	fmt.Printf("median |predicted − true failure| at the first prediction: %.1f h\n", sc.medianErr)
	fmt.Printf("false predictions (every open case on no degradation): %d in %.0f device-days = %.2f per 100 device-days (goal ≤ 1); static threshold alarm: %d\n\n",
		sc.falses, sc.deviceDays, sc.perHundred(), sc.staticFalses)
}

// perHundred returns the false predictions per 100 device-days.
func (sc maintScore) perHundred() float64 { return 100 * float64(sc.falses) / sc.deviceDays }
