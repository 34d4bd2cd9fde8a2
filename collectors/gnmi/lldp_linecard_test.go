package gnmi

import (
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestLLDPNotAgedByLineCardAhead: a target samples spine-01 on Ethernet1
// and the interface counters every 10 s, and never loses the neighbour.
// The counters are stamped by a line card whose clock is a minute ahead
// of the one that stamps the LLDP leaves (the line card's clock ahead,
// the mirror of a line card behind, which ages nothing). The neighbour
// is sampled every cycle, so it must not age out, nor its port's count
// go to 0 and back. When it goes after its sample at 50 s, it ages out at
// the first counters more than 3 × 10 s after that on the LLDP clock,
// one cycle later (150 s on the counters' clock, 100 s on the LLDP's):
// the first counters, 60 s after the first LLDP sample and before the lag
// is known, start the hold over as a jump would (at 60 s).
func TestLLDPNotAgedByLineCardAhead(t *testing.T) {
	for _, gone := range []bool{false, true} {
		checkLineCardAhead(t, gone)
	}
}

func checkLineCardAhead(t *testing.T, gone bool) {
	const sec = int64(1e9)
	d, b, decode := sampledStream(t)
	for i := range int64(30) {
		ts := ts1 + i*10*sec
		if !gone || i <= 5 {
			decode(sampled(t, ts, "Ethernet1", "spine-01"))
		}
		decode(counters(t, ts+60*sec, "Ethernet1", uint64(i)))
	}
	rec := b.NewRecord()
	out, err := schemas.Samples(rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	var got []lldpCount
	for _, s := range out {
		if s.Metric == schemas.MetricLLDPNeighbors {
			got = append(got, lldpCount{(s.TS - ts1) / sec, s.Keys, s.F64})
		}
	}
	want, aged := []lldpCount{{0, "name=Ethernet1", 1}}, uint64(0)
	if gone {
		want, aged = append(want, lldpCount{150, "name=Ethernet1", 0}), 1
	}
	if !slices.Equal(got, want) || d.Stats().LLDPAged != aged {
		t.Errorf("gone %v: counts (seconds, port, count) %v, %d aged out; want %v, %d", gone, got, d.Stats().LLDPAged, want, aged)
	}
}
