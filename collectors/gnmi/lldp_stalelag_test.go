package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestLLDPAgedAfterOldStampedLLDP: a target on one clock samples spine-01
// on Ethernet1 and the interface counters every 10 s. At 60 s it resends
// the neighbour's leaves stamped an hour back (an ON_CHANGE leaf resent
// with its last-change time, as at a resync), then the neighbour goes:
// no LLDP leaves come any more, the counters go on. The neighbour must age
// out a hold time (3 × 10 s) after its last sample on the stream's clock,
// as it did before the line-card lag fix: one LLDP notification stamped
// in the past is not a line card running behind for good.
func TestLLDPAgedAfterOldStampedLLDP(t *testing.T) {
	for _, back := range []int64{30, 300, 3600} {
		checkOldStampedLLDP(t, back)
	}
}

func checkOldStampedLLDP(t *testing.T, back int64) {
	const sec = int64(1e9)
	d, b, decode := sampledStream(t)
	for i := range int64(30) {
		ts := ts1 + i*10*sec
		switch {
		case i <= 5:
			decode(sampled(t, ts, "Ethernet1", "spine-01"))
		case i == 6:
			decode(sampled(t, ts-back*sec, "Ethernet1", "spine-01"))
		}
		decode(counters(t, ts, "Ethernet1", uint64(i)))
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
	t.Logf("stamped %d s back: counts (seconds, port, count): %v; %d aged out", back, got, d.Stats().LLDPAged)
	if d.Stats().LLDPAged != 1 {
		t.Errorf("stamped %d s back: the neighbour gone after 50 s was not aged out by 290 s: counts %v, %d aged out", back, got, d.Stats().LLDPAged)
	}
}
