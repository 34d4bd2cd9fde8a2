package incidents

import (
	"fmt"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkStormDevices: a storm of link downs, 8 ports on each of N
// devices (one incident each), into one engine; with reach detections per
// second should not fall with N (each is checked against the incidents of
// its own device), where checking every incident held (scan: as the
// engine did before reach, though the index is still kept; 500 and 2 000
// devices only) falls as 1/N.
func BenchmarkStormDevices(b *testing.B) {
	for _, c := range []struct {
		n    int
		scan bool
	}{{500, true}, {500, false}, {2000, true}, {2000, false}, {8000, false}} {
		mode := "reach"
		if c.scan {
			mode = "scan"
		}
		b.Run(fmt.Sprintf("devices=%d/%s", c.n, mode), func(b *testing.B) {
			dets := make([]schemas.Detection, 0, 8*c.n)
			for d := range c.n {
				for p := range 8 {
					dets = append(dets, fire(d%50, fmt.Sprintf("leaf%04d", d), mOper, fmt.Sprintf("name=Ethernet%d", p), "link_down", 0, 1))
				}
			}
			b.ReportAllocs()
			for range b.N {
				e, _ := New(Config{}, testInventory())
				e.scanAll = c.scan
				for i := range dets {
					e.Add(&dets[i])
				}
				if got := e.OpenCount(); got != c.n {
					b.Fatalf("%d incidents open, want %d", got, c.n)
				}
			}
			b.ReportMetric(float64(b.N*len(dets))/b.Elapsed().Seconds(), "detections/s")
		})
	}
}

// BenchmarkLongIncident: per op, one more detection joins a flapping
// link's incident that holds N members (its alert firing and resolving
// for days, never quiet for reopen); the incident is cut back to N
// members after each op, untimed, so every op measures N.
func BenchmarkLongIncident(b *testing.B) {
	for _, n := range []int{500, 5000, 20000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			e, _ := New(Config{}, testInventory())
			state := []string{schemas.StateFiring, schemas.StateResolved}
			for i := range n {
				e.Add(ptr(det(i*10, state[i%2], "leaf1", mOper, "name=e1", "link_down", 0, 1)))
			}
			if len(e.incs) != 1 || len(e.incs[0].Members) != n {
				b.Fatalf("%d incidents, want one of %d members", len(e.incs), n)
			}
			in := e.incs[0]
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				e.Add(ptr(det((n+i)*10, state[n%2], "leaf1", mOper, "name=e1", "link_down", 0, 1)))
				b.StopTimer()
				// Every member has the same device and alert: the memo
				// (its entities too) and the index stay those of the
				// first n.
				in.Members = in.Members[:n]
				in.memo.devN, in.memo.clsN, in.memo.ents.n, in.memo.tal.n = n, n, n, n
				if l := in.memo.links; l != nil {
					l.n = n
				}
				b.StartTimer()
			}
		})
	}
}
