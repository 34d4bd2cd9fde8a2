package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkObserve measures the estimator per sample on a simulated fleet
// in power mode (windows, fit and savings included).
func BenchmarkObserve(b *testing.B) {
	for _, ifaces := range []int{8, 48} {
		b.Run(map[int]string{8: "8ports", 48: "48ports"}[ifaces], func(b *testing.B) {
			f, _ := sim.New(sim.Config{Devices: 20, Interfaces: ifaces, Start: t0, Interval: time.Minute, Power: true, Faults: []sim.Fault{}})
			var samples []schemas.Sample
			for range 60 {
				f.Next(func(s *schemas.Sample) { samples = append(samples, *s) })
			}
			e, _ := New(Config{})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				shift := int64(i) * int64(time.Hour)
				for j := range samples {
					s := &samples[j]
					e.Observe(s.TS+shift, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
				}
				e.Take()
			}
			b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkModelUpdate measures one fit step of the default priors' model
// (19 coefficients).
func BenchmarkModelUpdate(b *testing.B) {
	m := mustModel(b, ModelConfig{Name: "x"})
	x := make([]float64, m.Len())
	m.Base(x)
	m.Port(x, "SPEED_100GB", true, 0.4, true)
	m.Port(x, "SPEED_10GB", true, 0.2, true)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Update(x, 150+float64(i%7))
	}
}
