package sim

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func collect(t *testing.T, cfg Config, ticks int) []schemas.Sample {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []schemas.Sample
	for i := 0; i < ticks; i++ {
		f.Next(func(s *schemas.Sample) { out = append(out, *s) })
	}
	return out
}

func TestDeterministicAndCounted(t *testing.T) {
	cfg := Config{Devices: 3, Interfaces: 2, Start: t0}
	a, b := collect(t, cfg, 50), collect(t, cfg, 50)
	f, _ := New(cfg)
	if want := 3 * f.SeriesPerDevice() * 50; len(a) != want {
		t.Fatalf("got %d samples, want %d", len(a), want)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sample %d differs between runs: %+v vs %+v", i, a[i], b[i])
		}
	}
	if c := collect(t, Config{Devices: 3, Interfaces: 2, Start: t0, Seed: 2}, 1); c[0] == a[0] {
		t.Fatalf("another seed gave the same first sample")
	}
}

func TestCountersMonotonicAndSpike(t *testing.T) {
	cfg := Config{Devices: 2, Interfaces: 2, Start: t0, Interval: 10 * time.Second}
	f, _ := New(cfg)
	labels := f.Labels()
	if len(labels) != 2 || labels[0].Device != "sim-01" || labels[0].Keys != "name=Ethernet1" || !labels[0].Start.Equal(t0.Add(45*time.Minute)) {
		t.Fatalf("labels: %+v", labels)
	}
	last := map[schemas.SeriesKey]schemas.Sample{}
	var before, during float64
	for i := 0; i < 360; i++ { // one hour
		f.Next(func(s *schemas.Sample) {
			k := s.Series()
			if p, ok := last[k]; ok && s.Kind == schemas.KindCounter {
				if s.U64 < p.U64 {
					t.Fatalf("%v went down: %d -> %d", k, p.U64, s.U64)
				}
				if k.Device == "sim-01" && k.Metric == schemas.MetricInOctets && k.Keys == "name=Ethernet1" {
					rate := float64(s.U64-p.U64) / 10
					ts := time.Unix(0, s.TS)
					switch {
					case ts.Before(labels[0].Start):
						before = rate
					case ts.After(labels[0].Start.Add(time.Minute)) && ts.Before(labels[0].End):
						during = rate
					}
				}
			}
			last[k] = *s
		})
	}
	if during < 3*before {
		t.Fatalf("spike not visible: rate before %v, during %v", before, during)
	}
	if v := last[schemas.SeriesKey{Device: "sim-00", Metric: schemas.MetricInOctets, Keys: "name=Ethernet1"}].U64; v < 1<<62 {
		t.Fatalf("sim-00 Ethernet1 counter %d should start above 2^62", v)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{Devices: -1, Start: t0},
		{Start: t0, Interval: time.Microsecond},
		{},
		{Start: t0, Faults: []Fault{{Device: "sim-99", Interface: "Ethernet1", Kind: FaultTrafficSpike, Duration: time.Minute}}},
		{Start: t0, Faults: []Fault{{Device: "sim-01", Interface: "Ethernet1", Kind: "boom", Duration: time.Minute}}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	f, _ := New(Config{Devices: 100, Start: t0})
	n := 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f.Next(func(*schemas.Sample) { n++ })
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}
