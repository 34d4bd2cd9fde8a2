package detect

import (
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// runningTotals returns rows of 32 running totals a router keeps outside
// any counters container, as the gNMI collector publishes them since it
// takes a whole-numbered leaf whose name reads as a count for a counter
// (collectors/gnmi, countingSuffixes): IOS-XR BGP neighbours' messages
// received and sent (a keepalive a minute, a burst of updates now and
// then), their update messages received (bursts), and a protocol's
// bytes received at about 100 kB/s, 8 of each.
func runningTotals(seed uint64) func(i int) []schemas.Sample {
	const bgp = "Cisco-IOS-XR-ipv4-bgp-oper:/bgp/instances/instance/instance-active/default-vrf/neighbors/neighbor/"
	metrics := []string{bgp + "messages-received", bgp + "messages-sent", bgp + "update-messages-received",
		"Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/protocols/protocol/bytes-received"}
	rng := rand.New(rand.NewPCG(seed, 7))
	totals := make([]uint64, 8*len(metrics))
	return func(i int) []schemas.Sample {
		out := make([]schemas.Sample, 0, len(totals))
		for m, metric := range metrics {
			for k := range 8 {
				v := &totals[m*8+k]
				switch m {
				case 0, 1:
					if i%6 == k%6 {
						*v++
					}
					if rng.IntN(20) == 0 {
						*v += uint64(rng.IntN(50))
					}
				case 2:
					if rng.IntN(10) == 0 {
						*v += uint64(1 + rng.IntN(30))
					}
				case 3:
					*v += uint64(1e6 * (1 + 0.2*rng.NormFloat64()))
				}
				out = append(out, schemas.Sample{Kind: schemas.KindCounter, Metric: metric, Keys: "neighbor-address=10.0.0." + string(rune('0'+k)), U64: *v})
			}
		}
		return out
	}
}

// TestDetectRunningTotals: running totals published as counters are
// scored as rates and fire nothing over 3 hours at 10 s on three seeds.
// Published as gauges (the gNMI collector before countingSuffixes, for
// every one of these names), the same values fired 34, 36 and 43 alerts
// (measured with a throwaway copy of this test): a running total's every
// new high is a reading beyond every level it has visited.
func TestDetectRunningTotals(t *testing.T) {
	const n = 3 * 360
	for seed := uint64(1); seed <= 3; seed++ {
		recs := sampleRecords(t, n, 6, runningTotals(seed))
		if got := summary(process(t, newTestDetect(t, Config{}), recs)); len(got) != 0 {
			t.Errorf("seed %d: %d detections, want none: %v", seed, len(got), got[:min(len(got), 6)])
		}
	}
}
