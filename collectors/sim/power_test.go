package sim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

func TestPowerMode(t *testing.T) {
	cfg := Config{Devices: 4, Interfaces: 8, Start: t0, Interval: time.Minute, Power: true, Transceivers: true, Faults: []Fault{},
		Changes: []Change{{Device: "sim-01", Interface: "Ethernet1", After: 30 * time.Minute, Admin: "down"}}}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	series := f.Series()
	if len(series) != f.SeriesPerDevice() {
		t.Fatalf("%d series, SeriesPerDevice %d", len(series), f.SeriesPerDevice())
	}
	for tick := 0; tick < 60; tick++ {
		n := 0
		in := map[string]float64{}
		var admin string
		var v float64
		f.Next(func(s *schemas.Sample) {
			want := series[n%len(series)]
			if s.Metric != want.Metric || s.Keys != want.Keys || s.Kind != want.Kind {
				t.Fatalf("sample %d is %s %s, Series says %+v", n, s.Metric, s.Keys, want)
			}
			n++
			switch s.Metric {
			case schemas.MetricPSUInVoltage:
				v = s.F64
			case schemas.MetricPSUInCurrent:
				in[s.Device] += v * s.F64
			case schemas.MetricAdminStatus:
				if s.Device == "sim-01" && s.Keys == "name=Ethernet1" {
					admin = s.Str
				}
			}
		})
		for d := 0; d < 4; d++ {
			got, want := in[DeviceName(d)], f.TruePower(d)
			if math.Abs(got-want)/want > 0.03 {
				t.Fatalf("tick %d device %d: measured %.1f W, truth %.1f W", tick, d, got, want)
			}
		}
		if wantAdmin := map[bool]string{false: "UP", true: "DOWN"}[tick >= 30]; admin != wantAdmin && !(tick < 30 && f.devices[1].ifaces[0].adminDown) {
			t.Fatalf("tick %d: admin-status %q, want %q", tick, admin, wantAdmin)
		}
	}
	if m := f.PowerModel(); m.Chassis != 66.7 || m.Efficiency != 0 || m.FanRPM != 5000 {
		t.Fatalf("model %+v", m)
	}
	if _, err := New(Config{Devices: 1, Start: t0, Changes: []Change{{Device: "sim-00", Interface: "Ethernet1", Admin: "down"}}}); err == nil {
		t.Fatal("changes without power mode were accepted")
	}
}

func TestPrecursor(t *testing.T) {
	h := time.Hour
	cfg := Config{Devices: 1, Interfaces: 1, Start: t0, Interval: 10 * time.Minute, Power: true, Faults: []Fault{
		{Device: "sim-00", Component: "Fan1", Kind: FaultFanFailure, After: 20 * h, Duration: h, Precursor: 10 * h},
		{Device: "sim-00", Component: "PSU2", Kind: FaultPSUDegradation, After: 20 * h, Duration: h, Precursor: 10 * h},
	}}
	got, _ := run(t, cfg, 6*22)
	fan := got[schemas.SeriesKey{Device: "sim-00", Metric: schemas.MetricFanSpeed, Keys: "name=Fan1"}]
	other := got[schemas.SeriesKey{Device: "sim-00", Metric: schemas.MetricFanSpeed, Keys: "name=Fan2"}]
	if r := fan[6*19].F64 / other[6*19].F64; r > 0.6 || r < 0.45 {
		t.Errorf("worn fan at %.2f of the other just before failing", r)
	}
	if r := fan[6*9].F64 / other[6*9].F64; r < 0.95 {
		t.Errorf("fan at %.2f of the other before its precursor", r)
	}
	if fan[6*20].F64 != 0 {
		t.Errorf("fan at %v rpm after failing", fan[6*20].F64)
	}
	eff := func(i int) float64 {
		k := func(m string) float64 {
			return got[schemas.SeriesKey{Device: "sim-00", Metric: m, Keys: "name=PSU2"}][i].F64
		}
		return k(schemas.MetricPSUOutPower) / (k(schemas.MetricPSUInVoltage) * k(schemas.MetricPSUInCurrent))
	}
	if e0, e1 := eff(6*9), eff(6*19); e0-e1 < 0.08 || e0-e1 > 0.11 {
		t.Errorf("PSU efficiency %.3f before the precursor, %.3f at its end", e0, e1)
	}
	if _, err := New(Config{Devices: 1, Start: t0, Faults: []Fault{{Device: "sim-00", Interface: "Ethernet1", Kind: FaultLinkFlap, Duration: h, Precursor: h}}}); err == nil {
		t.Error("a link flap with a precursor was accepted")
	}
}

func TestRxErrors(t *testing.T) {
	cfg := Config{Devices: 1, Interfaces: 1, Start: t0, Interval: time.Minute, Faults: []Fault{
		{Device: "sim-00", Interface: "Ethernet1", Kind: FaultRxErrors, After: 10 * time.Minute, Duration: 100 * time.Minute}}}
	got, f := run(t, cfg, 120)
	errs := got[schemas.SeriesKey{Device: "sim-00", Metric: schemas.MetricInErrors, Keys: "name=Ethernet1"}]
	// At the end of the window the rate is close to 2/s.
	if r := float64(errs[109].U64-errs[99].U64) / 600; r < 1.6 || r > 2.2 {
		t.Errorf("error rate near the end %.2f/s, want about 2", r)
	}
	if r := float64(errs[119].U64-errs[111].U64) / 480; r > 0.1 {
		t.Errorf("error rate after the window %.2f/s", r)
	}
	if l := f.Labels(); len(l) != 1 || l[0].Metric != schemas.MetricInErrors {
		t.Errorf("labels %+v", l)
	}
}

// TestPowerTruthNotLinear checks that the ground truth departs from the
// power model's linear form: PSU efficiency follows the load on the
// curve, and fan power the fans' speed (so the chassis temperature).
func TestPowerTruthNotLinear(t *testing.T) {
	m := DefaultPowerModel()
	for _, c := range []struct{ load, lo, hi float64 }{{0.1, 0.84, 0.855}, {0.5, 0.912, 0.918}, {1, 0.9, 0.91}} {
		if e := m.PSUEfficiency(c.load * m.PSUCapacity); e < c.lo || e > c.hi {
			t.Errorf("efficiency at %.0f %% load %.4f, want %.3f … %.3f", 100*c.load, e, c.lo, c.hi)
		}
	}
	if w := m.FanWatts(6000); math.Abs(w-6*1.2*1.2*1.2) > 1e-9 || m.FanWatts(0) != 0 {
		t.Errorf("fan at 6000 rpm draws %.2f W", w)
	}
	cfg := Config{Devices: 6, Interfaces: 8, Start: t0, Interval: 10 * time.Minute, Power: true, Faults: []Fault{}}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	minEff, maxEff, minFan, maxFan := 1.0, 0.0, math.Inf(1), 0.0
	for range 144 { // a day
		var out, volts float64
		f.Next(func(s *schemas.Sample) {
			switch s.Metric {
			case schemas.MetricPSUOutPower:
				out = s.F64
			case schemas.MetricPSUInVoltage:
				volts = s.F64
			case schemas.MetricPSUInCurrent:
				// The measured efficiency is the curve's at the PSU's load.
				eff := out / (volts * s.F64)
				if want := m.PSUEfficiency(out); math.Abs(eff-want) > 0.002 {
					t.Fatalf("%s %s: measured efficiency %.4f at %.1f W, curve %.4f", s.Device, s.Keys, eff, out, want)
				}
				minEff, maxEff = math.Min(minEff, eff), math.Max(maxEff, eff)
			}
		})
		for d := range 6 {
			dc, fans := f.TrueDC(d)
			minFan, maxFan = math.Min(minFan, fans), math.Max(maxFan, fans)
			if r := f.TruePower(d) / m.InputW(dc); math.Abs(r-1) > 1e-12 {
				t.Fatalf("device %d: true power %.2f W, input for %.2f W DC %.2f W", d, f.TruePower(d), dc, m.InputW(dc))
			}
		}
	}
	t.Logf("measured PSU efficiency %.3f … %.3f, fan power %.1f … %.1f W per device", minEff, maxEff, minFan, maxFan)
	if maxEff-minEff < 0.01 || maxFan-minFan < 2 {
		t.Errorf("efficiency %.3f … %.3f and fan power %.1f … %.1f W: the truth is still flat", minEff, maxEff, minFan, maxFan)
	}
}

// TestFaultPortInService: power mode draws some ports shut, without a link
// or without an optic, all DOWN with no traffic. A fault named on one of
// them puts it in service, so the traffic drop its labels announce is in
// the data (a drop on a dead port, labelled all the same, was a miss no
// detector could avoid).
func TestFaultPortInService(t *testing.T) {
	cfg := Config{Devices: 6, Interfaces: 16, Start: t0, Interval: time.Minute, Power: true, Transceivers: true, Faults: []Fault{}}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var dead []Fault
	for d := range f.devices {
		for i, it := range f.devices[d].ifaces {
			if it.adminDown || it.noLink || !it.optic {
				dead = append(dead, Fault{Device: DeviceName(d), Interface: fmt.Sprintf("Ethernet%d", i+1), Kind: FaultTrafficDrop, After: 30 * time.Minute, Duration: 20 * time.Minute})
			}
		}
	}
	if len(dead) < 3 {
		t.Fatalf("only %d ports out of service in 96: the test needs some", len(dead))
	}
	cfg.Faults = dead
	if f, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	// Per faulted port: oper-status and the inbound rate before and during.
	type port struct {
		status        map[string]int
		before, after float64
	}
	ports := map[string]*port{}
	for _, ft := range dead {
		ports[ft.Device+"/name="+ft.Interface] = &port{status: map[string]int{}}
	}
	last := map[string]uint64{}
	for tick := range 50 {
		f.Next(func(s *schemas.Sample) {
			p := ports[s.Device+"/"+s.Keys]
			if p == nil {
				return
			}
			switch s.Metric {
			case schemas.MetricOperStatus:
				p.status[s.Str]++
			case schemas.MetricInOctets:
				k := s.Device + "/" + s.Keys
				if prev, ok := last[k]; ok {
					switch rate := float64(s.U64 - prev); {
					case tick > 1 && tick < 30:
						p.before += rate
					case tick > 31 && tick < 50:
						p.after += rate
					}
				}
				last[k] = s.U64
			}
		})
	}
	for k, p := range ports {
		if p.status["DOWN"] != 0 || p.before <= 0 || p.after > 0.1*p.before*18/28 {
			t.Errorf("%s, faulted: oper-status %v, inbound %.0f octets over 28 minutes before the drop and %.0f over 18 during it; want UP throughout and a drop to about 5 %%", k, p.status, p.before, p.after)
		}
	}
}
