package sim

import (
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
			case MetricPSUInVoltage:
				v = s.F64
			case MetricPSUInCurrent:
				in[s.Device] += v * s.F64
			case MetricAdminStatus:
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
	if m := f.PowerModel(); m.Chassis != 66.7 || m.Efficiency != 0.92 {
		t.Fatalf("model %+v", m)
	}
	if _, err := New(Config{Devices: 1, Start: t0, Changes: []Change{{Device: "sim-00", Interface: "Ethernet1", Admin: "down"}}}); err == nil {
		t.Fatal("changes without power mode were accepted")
	}
}
