package sim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestOutputStable pins the samples of two fleets without the optional
// features: the embedded default's detections and other packages' tests
// depend on them. Change the hashes only on purpose.
func TestOutputStable(t *testing.T) {
	for i, c := range []struct {
		cfg  Config
		want uint64
	}{
		{Config{Devices: 3, Interfaces: 2, Start: t0}, 0x8cf2e26f430e86a1},
		{Config{Devices: 20, Start: t0, Faults: []Fault{{Device: "sim-02", Interface: "Ethernet3", Kind: FaultTrafficDrop, After: 10 * time.Minute, Duration: 20 * time.Minute}}}, 0x2b063b5b1aa1cad3},
	} {
		f, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := fnv.New64a()
		for range 400 {
			f.Next(func(s *schemas.Sample) { fmt.Fprintf(h, "%+v\n", *s) })
		}
		// Labels as written to labels.jsonl: new optional fields leave
		// the rows of existing kinds as they were.
		if err := json.NewEncoder(h).Encode(f.Labels()); err != nil {
			t.Fatal(err)
		}
		if got := h.Sum64(); got != c.want {
			t.Errorf("fleet %d: output hash %#x, want %#x", i, got, c.want)
		}
	}
}

func TestSeriesOrder(t *testing.T) {
	for _, optics := range []bool{false, true} {
		f, err := New(Config{Devices: 2, Interfaces: 3, Start: t0, Transceivers: optics})
		if err != nil {
			t.Fatal(err)
		}
		series := f.Series()
		if len(series) != f.SeriesPerDevice() {
			t.Fatalf("optics %v: %d series, SeriesPerDevice %d", optics, len(series), f.SeriesPerDevice())
		}
		i := 0
		f.Next(func(s *schemas.Sample) {
			want := series[i%len(series)]
			if s.Metric != want.Metric || s.Keys != want.Keys || s.Kind != want.Kind {
				t.Fatalf("optics %v: sample %d is %s %s %v, Series says %+v", optics, i, s.Metric, s.Keys, s.Kind, want)
			}
			i++
		})
	}
}

// run steps a fleet through ticks and returns each series' values.
func run(t *testing.T, cfg Config, ticks int) (map[schemas.SeriesKey][]schemas.Sample, *Fleet) {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[schemas.SeriesKey][]schemas.Sample{}
	for range ticks {
		f.Next(func(s *schemas.Sample) { out[s.Series()] = append(out[s.Series()], *s) })
	}
	return out, f
}

func TestFaultKinds(t *testing.T) {
	at := func(min int) time.Duration { return time.Duration(min) * time.Minute }
	cfg := Config{Devices: 1, Interfaces: 2, Start: t0, Interval: time.Minute, Transceivers: true, Faults: []Fault{
		{Device: "sim-00", Interface: "Ethernet1", Kind: FaultLinkFlap, After: at(10), Duration: at(4)},
		{Device: "sim-00", Interface: "Ethernet2", Kind: FaultOpticDegradation, After: at(20), Duration: at(20)},
		{Device: "sim-00", Component: "Fan2", Kind: FaultFanFailure, After: at(30), Duration: at(10)},
		{Device: "sim-00", Component: "PSU1", Kind: FaultPSUDegradation, After: at(30), Duration: at(10)},
		{Device: "sim-00", Interface: "Ethernet2", Kind: FaultCounterReset, After: at(50)},
	}}
	got, f := run(t, cfg, 60)
	key := func(m, k string) []schemas.Sample {
		return got[schemas.SeriesKey{Device: "sim-00", Metric: m, Keys: k}]
	}

	status := key(schemas.MetricOperStatus, "name=Ethernet1")
	for i, want := range map[int]string{9: "UP", 10: "DOWN", 11: "UP", 12: "DOWN", 13: "UP", 14: "UP"} {
		if status[i].Str != want {
			t.Errorf("oper-status at minute %d: %s, want %s", i, status[i].Str, want)
		}
	}
	rx := key(schemas.MetricOpticInputPower, "name=Ethernet2-transceiver")
	if d := rx[19].F64 - rx[39].F64; d < 4 || d > 7 {
		t.Errorf("optic input power fell by %.2f dB over the window, want about 6", d)
	}
	if d := rx[19].F64 - rx[45].F64; d > 0.3 || d < -0.3 {
		t.Errorf("optic input power after the window differs by %.2f dB", d)
	}
	fan := key(schemas.MetricFanSpeed, "name=Fan2")
	if fan[29].F64 < 1000 || fan[30].F64 != 0 || fan[39].F64 != 0 || fan[40].F64 < 1000 {
		t.Errorf("fan speed around the failure: %v %v %v %v", fan[29].F64, fan[30].F64, fan[39].F64, fan[40].F64)
	}
	if cpu := key(schemas.MetricTemperature, "name=CPU"); cpu[35].F64 < cpu[25].F64+8 {
		t.Errorf("CPU temperature with a failed fan %.1f, before %.1f", cpu[35].F64, cpu[25].F64)
	}
	cur, out := key(schemas.MetricPSUInCurrent, "name=PSU1"), key(schemas.MetricPSUOutPower, "name=PSU1")
	if r1, r2 := cur[25].F64/out[25].F64, cur[35].F64/out[35].F64; r2 < r1*1.08 {
		t.Errorf("PSU input current per output watt %.5f before, %.5f degraded", r1, r2)
	}
	oct := key(schemas.MetricInOctets, "name=Ethernet2")
	if oct[50].U64 >= oct[49].U64 || oct[50].U64 > 1<<40 || oct[51].U64 <= oct[50].U64 {
		t.Errorf("counter reset: %d %d %d", oct[49].U64, oct[50].U64, oct[51].U64)
	}
	kinds := map[string]int{}
	for _, l := range f.Labels() {
		kinds[l.Kind]++
		if l.Device != "sim-00" || !l.End.After(l.Start) {
			t.Errorf("label %+v", l)
		}
	}
	if len(kinds) != 5 || kinds[FaultFanFailure] != 4 || kinds[FaultCounterReset] != 5 {
		t.Errorf("labels by kind: %v", kinds)
	}
}

// TestFanFailureLabelsOtherFan: when one fan stops, the chassis runs
// about 12 degrees hotter and the other fan, which follows the hottest
// sensor (80 rpm per degree), speeds up by about 960 rpm, some 20 times its
// noise; the labels name it with the failed fan and the temperatures, the
// failed fan first. Before 2026-12-07 the other fan was not labelled.
func TestFanFailureLabelsOtherFan(t *testing.T) {
	min := func(m int) time.Duration { return time.Duration(m) * time.Minute }
	for _, failed := range []string{"Fan1", "Fan2"} {
		other := map[string]string{"Fan1": "Fan2", "Fan2": "Fan1"}[failed]
		cfg := Config{Devices: 1, Interfaces: 2, Start: t0, Interval: time.Minute}
		base, _ := run(t, cfg, 20)
		cfg.Faults = []Fault{{Device: "sim-00", Component: failed, Kind: FaultFanFailure, After: min(10), Duration: min(5)}}
		with, f := run(t, cfg, 20)
		k := schemas.SeriesKey{Device: "sim-00", Metric: schemas.MetricFanSpeed, Keys: "name=" + other}
		if a, b := base[k][12].F64, with[k][12].F64; b-a < 500 {
			t.Fatalf("%s stopped: %s at %.0f rpm, %.0f without the fault; want it faster", failed, other, b, a)
		}
		var got []string
		for _, l := range f.Labels() {
			got = append(got, l.Metric+" "+l.Keys)
		}
		want := []string{
			schemas.MetricFanSpeed + " name=" + failed, schemas.MetricFanSpeed + " name=" + other,
			schemas.MetricTemperature + " name=CPU", schemas.MetricTemperature + " name=Inlet",
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s stopped: labels name\n%s\nwant\n%s", failed, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestFaultValidation(t *testing.T) {
	for _, ft := range []Fault{
		{Device: "sim-00", Component: "Fan3", Kind: FaultFanFailure, Duration: time.Minute},
		{Device: "sim-00", Component: "PSU1", Kind: FaultFanFailure, Duration: time.Minute},
		{Device: "sim-00", Interface: "Ethernet1", Kind: FaultOpticDegradation, Duration: time.Minute}, // no transceivers
		{Device: "sim-00", Kind: FaultLinkFlap, Duration: time.Minute},
	} {
		if _, err := New(Config{Devices: 1, Start: t0, Faults: []Fault{ft}}); err == nil {
			t.Errorf("%+v: want an error", ft)
		}
	}
}
