package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/telekernel/telekernel/schemas"
)

// slowCounterRecords returns n ticks of an in-octets counter (10 Gb/s with
// 5 % noise) read every 10 s (± 1.5 s of jitter) whose device refreshes
// it every period seconds, offset by phase, one tick per record; the
// traffic drops to level times its rate over ticks [from, to), and over
// each more [from, to) of more.
func slowCounterRecords(t *testing.T, n int, period, phase float64, from, to int, level float64, more ...[2]int) []*kgo.Record {
	rng := rand.New(rand.NewPCG(uint64(period), uint64(phase)))
	const rate = 1.25e9 // bytes/s
	// total[i]: bytes up to second i.
	total := make([]float64, n*10+1)
	for i := 1; i < len(total); i++ {
		r := rate * (1 + 0.05*rng.NormFloat64())
		tick := (i - 1) / 10
		for _, w := range append(more, [2]int{from, to}) {
			if tick >= w[0] && tick < w[1] {
				r *= level
			}
		}
		total[i] = total[i-1] + r
	}
	return sampleRecords(t, n, 1, func(i int) []schemas.Sample {
		at := float64(i*10) + rng.Float64()*3 - 1.5
		refreshed := math.Max(0, math.Floor((at-phase)/period)*period+phase)
		return []schemas.Sample{counterSample(schemas.MetricInOctets, "name=Ethernet1", uint64(total[int(refreshed)]))}
	})
}

// TestDetectSlowRefreshLinkDrop: a link whose device refreshes its counter
// every 20, 30 or 60 s, read every 10 s, that drops to 0.01 % of its
// traffic (or to none) fires within two refresh periods and a poll, and
// resolves when traffic is back; 6 hours of its healthy traffic fire
// nothing. Before rate.Refresh, two of three rates at 30 s were 0, a link
// carrying nothing looked like the series' usual self, and none of these
// drops fired. A refresh of 20 s in step with the polls (phase 0 or 1:
// the jitter moves changes a poll early or late, gaps of 1, 2 and 3) did
// not hold until the grid rule (rate.Refresh's gridHold): its drops did
// not fire either (and at phase 1 robust_z fired twice on healthy
// traffic); now they fire within two periods and two polls.
func TestDetectSlowRefreshLinkDrop(t *testing.T) {
	const n, from, to = 2160 + 60, 2160, 2190 // 6 h, then 5 minutes down
	for _, c := range []struct {
		period, phase, level float64
		late                 int // polls more: in step at 20 s, 3 still samples are held (a refresh a poll late after one a poll early)
	}{
		{20, 5, 1e-4, 0}, {30, 0, 1e-4, 0}, {30, 4, 0, 0}, {60, 0, 1e-4, 0}, {25, 0, 0, 0},
		{20, 0, 1e-4, 1}, {20, 0, 0, 1}, {20, 1, 0, 1},
	} {
		recs := slowCounterRecords(t, n, c.period, c.phase, from, to, c.level)
		d := newTestDetect(t, Config{})
		dets := process(t, d, recs)
		var fired, resolved []int
		for _, det := range dets {
			i := int(det.EventTime.Sub(t0) / (10 * time.Second))
			switch det.State {
			case schemas.StateFiring:
				fired = append(fired, i)
			case schemas.StateResolved:
				resolved = append(resolved, i)
			}
		}
		within := from + int(2*c.period/10) + 1 + c.late
		if len(fired) != 1 || fired[0] < from || fired[0] > within || len(resolved) != 1 || resolved[0] < to {
			t.Errorf("refresh every %v s (phase %v), drop to %v: fired at %v (want one in [%d, %d]), resolved at %v (want one from %d): %v",
				c.period, c.phase, c.level, fired, from, within, resolved, to, summary(dets))
		}
	}
	// The stage's state for such a counter carries its refresh (version 6)
	// and restores to the same bytes.
	d := newTestDetect(t, Config{})
	process(t, d, slowCounterRecords(t, 100, 30, 0, 1000, 1000, 1))
	cp := checkpoint(d)
	if len(cp) != 1 {
		t.Fatalf("%d records, want 1", len(cp))
	}
	b := newTestDetect(t, Config{})
	for k, v := range cp {
		if v[0] != stateVersionRefresh {
			t.Errorf("record version %d, want %d", v[0], stateVersionRefresh)
		}
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
		for _, got := range b.SeriesStates() {
			if !slices.Equal(got, v) {
				t.Errorf("restored state re-encodes differently")
			}
		}
	}
}

// TestDetectSlowRefreshTwoOutages: two 2-minute outages close together on
// a counter refreshed every 30 s and read every 10 s each fire within
// three refreshes of the stop and resolve within two of traffic coming
// back. Before, the
// second long gap made the counter's gaps irregular, it stopped holding,
// its rates went back to 0, 0 and three times the rate, and the second
// outage's alert resolved 200 s after the traffic was back.
func TestDetectSlowRefreshTwoOutages(t *testing.T) {
	const n = 1100
	recs := slowCounterRecords(t, n, 30, 0, 1000, 1012, 0, [2]int{1018, 1030})
	got := summary(process(t, newTestDetect(t, Config{}), recs))
	want := func(s string, lo, hi int) bool {
		for _, g := range got {
			var at int
			if _, err := fmt.Sscanf(g[strings.LastIndexByte(g, '@')+1:], "%d", &at); err == nil && strings.HasPrefix(g, s) && at >= lo && at <= hi {
				return true
			}
		}
		return false
	}
	// The last refresh before each outage carries its first 10 s of
	// traffic; the hold learned is 4 (gaps of 3 and 4: jitter), so the
	// first rate of 0 comes 8 ticks after the stop.
	if len(got) != 4 || !want("firing", 1000, 1009) || !want("resolved", 1012, 1019) || !want("firing", 1018, 1027) || !want("resolved", 1030, 1037) {
		t.Errorf("got %v, want a firing within 9 ticks of 1000 and 1018 and its resolution within 7 of 1012 and 1030", got)
	}
}

// TestDetectSparsePort: a port that carries about three packets every 10 s
// (its control traffic: LLDP, hellos) and some 100 bytes each shows
// intervals without a packet by chance; before the counters' event sizes
// (rate.CounterEventSize, levelshift EventSize), two of them in a row fired
// level_shift, 18 and 15 times in this day on its packet and byte counters
// (measured once with the event size off). Now a day of
// it fires nothing, and the port going dead for 10 minutes fires on its
// packet counter, once zero packets is improbable (the fifth interval),
// not on the byte counter (a few hundred bytes an interval tell nothing
// at that scale), and resolves when the packets are back.
func TestDetectSparsePort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	packets := distuv.Poisson{Lambda: 3, Src: rand.NewPCG(9, 10)}
	const n, dead, back = 8640 + 90, 8640, 8640 + 60
	var pkts, bytes uint64
	recs := sampleRecords(t, n, 60, func(i int) []schemas.Sample {
		if i < dead || i >= back {
			k := int(packets.Rand())
			pkts += uint64(k)
			bytes += uint64(k) * (64 + rng.Uint64N(100))
		}
		return []schemas.Sample{counterSample(schemas.MetricInPkts, "name=Ethernet1", pkts), counterSample(schemas.MetricInOctets, "name=Ethernet1", bytes)}
	})
	got := summary(process(t, newTestDetect(t, Config{}), recs))
	want := []string{"firing level_shift in-pkts@8645", "resolved level_shift in-pkts@8701"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
