package power

import (
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/power"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/modelstage"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// Bad-value probes: the fleet, the minute of the bad sample, and the
// device it is of.
const (
	badTicks  = 210      // 14 windows of 15 minutes
	badAt     = 140      // in the window of minute 135
	badDevice = "sim-00" // the other, sim-01, is never touched
)

// badCfg scores residuals from the first windows on (warm_up 1), so a bad
// sample meets the residual history and the alert too.
var badCfg = Config{Config: modelstage.Config[power.Config]{Model: power.Config{WarmUp: 1}}}

// badRecords returns the probes' fleet, two devices with power and
// transceivers on one partition a minute a record, with edit applied to
// each sample (nil: none).
func badRecords(t *testing.T, edit func(tick int, s *schemas.Sample)) []*kgo.Record {
	t.Helper()
	start, _ := time.Parse(time.DateOnly, expiryStart)
	fleet, err := sim.New(sim.Config{Devices: 2, Interfaces: 4, Start: start, Interval: time.Minute, Power: true, Transceivers: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	return stagetest.FleetTicks(t, fleet, badTicks, func(i int, s *schemas.Sample) bool {
		s.TS = start.Add(time.Duration(i) * time.Minute).UnixNano()
		if edit != nil {
			edit(i, s)
		}
		return true
	})
}

// badOut is what a probe's run wrote: the power rows by device and window
// start, the detections, and what went wrong (an error, a panic, a
// restore refused, a WARN line).
type badOut struct {
	rows     map[string][]schemas.PowerRow // device/window start
	dets     []*schemas.Detection
	failures []string
}

// badRun runs recs through a power stage, checkpointing after every
// record into one changelog (the compacted topic), and carries on after
// record restoreAt with a new stage restored from it; at the end, the
// changelog is restored once more.
func badRun(t *testing.T, recs []*kgo.Record, restoreAt int) badOut {
	t.Helper()
	var logs strings.Builder
	newStage := func() pipeline.Processor {
		p, err := New(badCfg, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()),
			slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	out := badOut{rows: map[string][]schemas.PowerRow{}}
	out.failures = stagetest.Restoring(newStage, recs, restoreAt, func(_ int, o *kgo.Record) error {
		switch o.Topic {
		case "power":
			rows, err := schemas.DecodePower(kafka.Headers(o), o.Value)
			if err != nil {
				return err
			}
			k := fmt.Sprintf("%s/%d", rows[0].Device, rows[0].WindowStart)
			out.rows[k] = append(out.rows[k], rows...)
		case "detections":
			d, err := schemas.DecodeDetection(kafka.Headers(o), o.Value)
			if err != nil {
				return err
			}
			out.dets = append(out.dets, d)
		}
		return nil
	})
	out.failures = append(out.failures, stagetest.Warnings(logs.String())...)
	return out
}

// badRowErr reports a row no input may make: a power or energy that is
// not finite or is negative, a measured power that is infinite or
// negative (NaN: not measured), a utilisation outside [0, 1] or an
// infinite residual z.
func badRowErr(r schemas.PowerRow) error {
	switch {
	case !(r.ModelledW >= 0) || math.IsInf(r.ModelledW, 0):
		return fmt.Errorf("modelled_w %v", r.ModelledW)
	case !(r.EnergyWh >= 0) || math.IsInf(r.EnergyWh, 0):
		return fmt.Errorf("energy_wh %v", r.EnergyWh)
	case r.MeasuredW < 0 || math.IsInf(r.MeasuredW, 0):
		return fmt.Errorf("measured_w %v", r.MeasuredW)
	case r.Utilisation < 0 || r.Utilisation > 1 || math.IsInf(r.Utilisation, 0):
		return fmt.Errorf("utilisation %v", r.Utilisation)
	case math.IsInf(r.ResidualZ, 0):
		return fmt.Errorf("residual_z %v", r.ResidualZ)
	}
	return nil
}

// badDiff returns how far rows depart from want's: the largest relative
// difference of any power, energy or utilisation, or 1 when they are not
// the same rows.
func badDiff(got, want []schemas.PowerRow) (float64, string) {
	if len(got) != len(want) {
		return 1, fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	worst, what := 0.0, ""
	rel := func(a, b float64) float64 {
		if math.IsNaN(a) && math.IsNaN(b) || a == b {
			return 0
		}
		return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Row != w.Row || g.Component != w.Component || g.Reason != w.Reason {
			return 1, fmt.Sprintf("%s row %s %s, want %s row %s %s", g.Row, g.Component, g.Reason, w.Row, w.Component, w.Reason)
		}
		for _, f := range []struct {
			name string
			g, w float64
		}{{"modelled_w", g.ModelledW, w.ModelledW}, {"energy_wh", g.EnergyWh, w.EnergyWh}, {"measured_w", g.MeasuredW, w.MeasuredW}, {"utilisation", g.Utilisation, w.Utilisation}} {
			if d := rel(f.g, f.w); d > worst {
				worst, what = d, fmt.Sprintf("%s row %s %s %.4g, want %.4g", g.Row, g.Component, f.name, f.g, f.w)
			}
		}
	}
	return worst, what
}

// TestPowerBadValues: one impossible or garbled sample of sim-00, at
// minute 140, of every metric the power stage reads (PSU input voltage,
// current and power; the byte counters, oper-status, port-speed,
// transceiver presence, part-no) and of some it does not (PSU output
// power and capacity, temperatures, a fan, optical power): NaN, ±Inf, -0, -1, 1e300, math.MaxFloat64, or the
// value sent as a counter, and for the PSU inputs the value times 1e3,
// 1e6 or 1e-3; for the byte counters (at 10^15 octets, months
// of traffic) one sample of 0 or of 2^64-1, a gauge's NaN, a wrap past
// 2^64 and a clear to 0. For each, the stage returns no error and does
// not panic, writes no power or energy that is not finite or is negative,
// writes the window of the sample within 5 % of the run without it and
// every later window (and sim-01's every window) within 1 %, fires no
// residual alert that run does not (a PSU reading of -0, one of 0 W, is
// a PSU without input: its window may fire, and resolves), logs no WARN
// line, and checkpoints state that restores, right after the sample and
// at the end. Before, a byte counter's one sample of 2^64-1 or of 0 gave
// the next interval a rate of 300 to 10^8 times its port's speed, taken
// as a full port (utilisation 0.15 or 0.21 over the window, not 0.09),
// which after 2^64-1 moved both devices' port watts by 1.3 % for good,
// a PSU reading sent as a counter was one of 0 W (a residual alert
// fired), and a PSU input reading 1e3 or 1e6 times too large moved both
// devices' chassis watts from 93.5 W to 132.7-136.1 W or 100 W for good
// (residual alerts firing on both at the end), one 1e-3 times too small
// fired one on sim-00, and a port-speed of SPEED_? or a transceiver
// presence of "\x7f" moved port rows of both devices by 10-80 %.
func TestPowerBadValues(t *testing.T) {
	var octets uint64 // sim-00 Ethernet1's in- or out-octets at badAt
	want := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
		if i == badAt && s.Device == badDevice && s.Metric == schemas.MetricInOctets && s.Keys == "name=Ethernet1" {
			octets = s.U64
		}
	}), -1)
	if len(want.failures) > 0 {
		t.Fatalf("without a bad sample: %s", strings.Join(want.failures, "\n"))
	}
	if octets == 0 {
		t.Fatal("no in-octets of Ethernet1 at the bad minute")
	}
	start, _ := time.Parse(time.DateOnly, expiryStart)
	badWindow := fmt.Sprintf("%s/%d", badDevice, start.Add(135*time.Minute).UnixNano())

	// A probe edits every sample of sim-00 of metric and keys, with its
	// minute.
	type probe struct {
		name         string
		metric, keys string
		edit         func(tick int, s *schemas.Sample)
		zero         bool // a PSU reading of 0 W: its window may fire
	}
	at := func(f func(s *schemas.Sample)) func(int, *schemas.Sample) {
		return func(i int, s *schemas.Sample) {
			if i == badAt {
				f(s)
			}
		}
	}
	var probes []probe
	gauges := []struct {
		name         string
		metric, keys string
		as           string // the metric the sample is sent as (the sim sends none of it)
		input        bool   // a PSU input reading
	}{
		{"psu input-voltage", schemas.MetricPSUInVoltage, "name=PSU1", "", true},
		{"psu input-current", schemas.MetricPSUInCurrent, "name=PSU1", "", true},
		{"psu input-power", schemas.MetricPSUOutPower, "name=PSU1", schemas.MetricPSUInPower, true},
		{"psu output-power", schemas.MetricPSUOutPower, "name=PSU2", "", false},
		{"psu capacity", schemas.MetricPSUOutPower, "name=PSU2", schemas.MetricPSUCapacity, false},
		{"cpu temperature", schemas.MetricTemperature, "name=CPU", "", false},
		{"optic temperature", schemas.MetricTemperature, "name=Ethernet1-transceiver", "", false},
		{"fan speed", schemas.MetricFanSpeed, "name=Fan1", "", false},
		{"optic input-power", schemas.MetricOpticInputPower, "name=Ethernet1-transceiver", "", false},
	}
	values := []struct {
		name string
		v    float64
	}{{"NaN", math.NaN()}, {"+Inf", math.Inf(1)}, {"-Inf", math.Inf(-1)}, {"-0", math.Copysign(0, -1)},
		{"-1", -1}, {"1e300", 1e300}, {"MaxFloat64", math.MaxFloat64}}
	for _, g := range gauges {
		for _, v := range values {
			probes = append(probes, probe{name: g.name + " " + v.name, metric: g.metric, keys: g.keys, zero: g.input && v.v == 0,
				edit: at(func(s *schemas.Sample) {
					if g.as != "" {
						s.Metric = g.as
					}
					s.F64 = v.v
				})})
		}
		if g.input {
			// A large but allowed reading (1e3 or 1e6 times the sample,
			// as from a device that reports milli-units, or garbled),
			// or one a thousand times too small, once.
			for _, x := range []struct {
				name string
				k    float64
			}{{"x1e3", 1e3}, {"x1e6", 1e6}, {"x1e-3", 1e-3}} {
				probes = append(probes, probe{name: g.name + " " + x.name, metric: g.metric, keys: g.keys,
					edit: at(func(s *schemas.Sample) {
						if g.as != "" {
							s.Metric = g.as
						}
						s.F64 *= x.k
					})})
			}
		}
		probes = append(probes, probe{name: g.name + " as a counter", metric: g.metric, keys: g.keys,
			edit: at(func(s *schemas.Sample) {
				if g.as != "" {
					s.Metric = g.as
				}
				s.Kind, s.U64, s.F64 = schemas.KindCounter, uint64(s.F64), 0
			})})
	}
	const months = 1e15 // octets a counter holds after months of traffic
	for _, m := range []string{schemas.MetricInOctets, schemas.MetricOutOctets} {
		name := m[strings.LastIndexByte(m, '/')+1:]
		counter := func(edit func(i int, s *schemas.Sample)) func(int, *schemas.Sample) {
			return func(i int, s *schemas.Sample) {
				s.U64 += months
				edit(i, s)
			}
		}
		probes = append(probes,
			probe{name: name + " one sample 0", metric: m, keys: "name=Ethernet1", edit: counter(at(func(s *schemas.Sample) { s.U64 = 0 }))},
			probe{name: name + " one sample 2^64-1", metric: m, keys: "name=Ethernet1", edit: counter(at(func(s *schemas.Sample) { s.U64 = math.MaxUint64 }))},
			probe{name: name + " a gauge NaN", metric: m, keys: "name=Ethernet1", edit: at(func(s *schemas.Sample) { s.Kind, s.U64, s.F64 = schemas.KindGauge, 0, math.NaN() })},
			// Counting from 2^64 - octets (in-octets' at badAt), it wraps
			// past 2^64 at about badAt.
			probe{name: name + " wraps past 2^64", metric: m, keys: "name=Ethernet1", edit: func(_ int, s *schemas.Sample) { s.U64 -= octets }},
			// Cleared at badAt, it counts on from 0.
			probe{name: name + " cleared", metric: m, keys: "name=Ethernet1", edit: counter(func(i int, s *schemas.Sample) {
				if i >= badAt {
					s.U64 -= months
				}
			})},
		)
	}
	probes = append(probes,
		probe{name: "oper-status empty", metric: schemas.MetricOperStatus, keys: "name=Ethernet1", edit: at(func(s *schemas.Sample) { s.Str = "" })},
		probe{name: "part-no empty", metric: schemas.MetricPartNo, keys: "name=Chassis", edit: at(func(s *schemas.Sample) { s.Str = "" })},
		probe{name: "port-speed garbled", metric: schemas.MetricPortSpeed, keys: "name=Ethernet1", edit: at(func(s *schemas.Sample) { s.Str = "SPEED_?" })},
		probe{name: "transceiver present garbled", metric: schemas.MetricOpticPresent, keys: "name=Ethernet1-transceiver", edit: at(func(s *schemas.Sample) { s.Str = "\x7f" })},
	)

	firing := func(dets []*schemas.Detection) []string {
		open := map[string]bool{}
		for _, d := range dets {
			open[d.Fingerprint] = d.State == schemas.StateFiring
		}
		var out []string
		for _, f := range slices.Sorted(maps.Keys(open)) {
			if open[f] {
				out = append(out, f)
			}
		}
		return out
	}
	transitions := func(dets []*schemas.Detection) []string {
		var out []string
		for _, d := range dets {
			out = append(out, d.State+" "+d.Fingerprint)
		}
		return out
	}
	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) {
			got := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
				if s.Device == badDevice && s.Metric == pr.metric && s.Keys == pr.keys {
					pr.edit(i, s)
				}
			}), badAt)
			for _, f := range got.failures {
				t.Error(f)
			}
			for _, k := range slices.Sorted(maps.Keys(got.rows)) {
				for _, r := range got.rows[k] {
					if err := badRowErr(r); err != nil {
						t.Errorf("%s: %s row %s: %v", k, r.Row, r.Component, err)
					}
				}
			}
			for _, k := range slices.Sorted(maps.Keys(want.rows)) {
				bound := 0.01
				if k == badWindow {
					bound = 0.05
				}
				if d, what := badDiff(got.rows[k], want.rows[k]); d > bound {
					t.Errorf("%s: rows %.3g off the run without the sample (bound %g): %s", k, d, bound, what)
				}
			}
			if g, w := transitions(got.dets), transitions(want.dets); !pr.zero && !slices.Equal(g, w) {
				t.Errorf("detections %q, want %q", g, w)
			}
			if g, w := firing(got.dets), firing(want.dets); !slices.Equal(g, w) {
				t.Errorf("residual alerts firing at the end %q, want %q", g, w)
			}
		})
	}
}
