package peer

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkPeerAdd measures one reading fed to a warm group: a fan's
// speed (groups of 2 and 4 fans) and one of a power supply's three
// readings (2 supplies). It reports the state bytes per member.
func BenchmarkPeerAdd(b *testing.B) {
	for _, c := range []struct {
		kind    Kind
		members int
	}{{Fan, 2}, {Fan, 4}, {PSU, 2}} {
		b.Run(fmt.Sprintf("%s-%d", c.kind, c.members), func(b *testing.B) {
			r, err := New(Config{})
			if err != nil {
				b.Fatal(err)
			}
			g := r.Group(c.kind)
			rng := rand.New(rand.NewPCG(1, 2))
			names := make([]string, c.members)
			for i := range names {
				names[i] = fmt.Sprintf("name=%s%d", c.kind, i+1)
			}
			metrics := []string{schemas.MetricFanSpeed}
			if c.kind == PSU {
				metrics = []string{schemas.MetricPSUOutPower, schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent}
			}
			base := map[string]float64{schemas.MetricFanSpeed: 5000, schemas.MetricPSUOutPower: 150, schemas.MetricPSUInVoltage: 230, schemas.MetricPSUInCurrent: 0.72}
			noise := make([]float64, 1<<12) // drawn up front: the loop times the rule
			for i := range noise {
				noise[i] = 1 + 0.005*rng.NormFloat64()
			}
			var out []Change
			ts, k := int64(0), 0
			add := func() {
				for _, n := range names {
					for _, m := range metrics {
						out = g.Add(n, m, ts, base[m]*noise[k&(len(noise)-1)], out[:0])
						k++
					}
				}
				ts++
			}
			for range 2 * DefaultWarmup {
				add()
			}
			per := len(names) * len(metrics)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += per {
				add()
			}
			rec, _ := g.AppendBinary(nil)
			b.ReportMetric(float64(MemberBytes), "B/member")
			b.ReportMetric(float64(len(rec))/float64(c.members), "changelog-B/member")
		})
	}
}
