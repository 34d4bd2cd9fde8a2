package incidents

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkSmallIncidents: the memory of many small incidents, those
// that keep no tally (fewer than longFrom members): on bigFabric(4, N),
// each leaf's uplink to spine1 down two minutes after the previous
// leaf's (no far end), with the session over it and traffic moved to
// another uplink (an effect), one incident of 3 members each, all held
// open. held-B/incident is the heap the engine keeps per incident once
// they are in (its inventory's index left out).
func BenchmarkSmallIncidents(b *testing.B) {
	for _, n := range []int{500, 2000} {
		inv := bigFabric(4, n)
		var dets []schemas.Detection
		for l := 1; l <= n; l++ {
			leaf, at := fmt.Sprintf("leaf%d", l), 120*l
			dets = append(dets, fire(at, leaf, mOper, "name=e1", "link_down", 0, 1),
				fire(at, leaf, mBGP, bgp(fmt.Sprintf("10.1.%d.0", l)), "session_down", 0, 1),
				fire(at+1, leaf, mIn, "name=e2", "ewma", 2e9, 1e9))
		}
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var held uint64
			for range b.N {
				var before, after runtime.MemStats
				e, _ := New(Config{}, inv) // its inventory's index is not the incidents'
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range dets {
					e.Add(&dets[i])
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if got := e.OpenCount(); got != n {
					b.Fatalf("%d incidents open, want %d", got, n)
				}
				held = after.HeapAlloc - before.HeapAlloc
				runtime.KeepAlive(e)
			}
			b.ReportMetric(float64(held)/float64(n), "held-B/incident")
		})
	}
}
