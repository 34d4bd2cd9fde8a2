package incidents

import (
	"fmt"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkStormFarEnd: a storm the far-end rules read, on
// bigFabric(4, N): "down", the four spines losing power, no collector
// reporting them, every leaf's four uplinks down over 50 s; "hung", spine1
// hung, every leaf's session to it down over 10 s and its LLDP on the port
// facing it lost over 30 s; "lost", "down" with the collector reporting
// the four spines lost first (one incident before the far-end rules too).
// Compare with 20d40f4 (the far-end rules not
// there) for what they cost.
func BenchmarkStormFarEnd(b *testing.B) {
	for _, n := range []int{500, 2000} {
		inv := bigFabric(4, n)
		storms := farEndStorms(n)
		for _, name := range []string{"down", "hung", "lost"} {
			dets := storms[name]
			b.Run(fmt.Sprintf("%s/leaves=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				incs := 0
				for range b.N {
					e, _ := New(Config{}, inv)
					for i := range dets {
						e.Add(&dets[i])
					}
					incs = e.OpenCount()
				}
				b.ReportMetric(float64(b.N*len(dets))/b.Elapsed().Seconds(), "detections/s")
				b.ReportMetric(float64(incs), "incidents")
			})
		}
	}
}

// farEndStorms returns BenchmarkStormFarEnd's storms on bigFabric(4, n),
// by name.
func farEndStorms(n int) map[string][]schemas.Detection {
	storms := map[string][]schemas.Detection{}
	for l := 1; l <= n; l++ {
		leaf := fmt.Sprintf("leaf%d", l)
		for s := 1; s <= 4; s++ {
			storms["down"] = append(storms["down"], fire(l%50, leaf, mOper, fmt.Sprintf("name=e%d", s), "link_down", 0, 1))
		}
		storms["hung"] = append(storms["hung"], fire(90+l%10, leaf, mBGP, bgp(fmt.Sprintf("10.1.%d.0", l)), "session_down", 0, 1))
	}
	for s := 1; s <= 4; s++ {
		storms["lost"] = append(storms["lost"], fire(0, fmt.Sprintf("spine%d", s), mTarget, "", "target_down", 0, 1))
	}
	storms["lost"] = append(storms["lost"], storms["down"]...)
	for l := 1; l <= n; l++ {
		storms["hung"] = append(storms["hung"], lldpLost(120+l%30, fmt.Sprintf("leaf%d", l), "e1"))
	}
	return storms
}
