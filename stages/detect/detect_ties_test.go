package detect

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectIfacesFreed: the interface ties (partState.ifaces) of n
// interfaces whose counter and gauge series all expire go with them, so
// interface churn (subinterfaces, tunnels, renamed ports) does not grow
// the stage; an interface whose series are all state series keeps its tie
// (a state series, sent only on change, does not expire). One whose series
// come back is tied again: its oper-status going down is a link_down, and
// its counter is not scored while down. A restored stage frees the tie
// of a series whose tombstone it restores.
func TestDetectIfacesFreed(t *testing.T) {
	const n = 50
	const (
		kept = "name=Kept0"
		back = "name=Port0" // its series come back at tick 400
	)
	ifKeys := func(j int) string { return fmt.Sprintf("name=Port%d", j) }
	xrKeys := func(j int) string { return fmt.Sprintf("interface-name=Port%d", j) }
	rate := func(i int) uint64 { return uint64(1<<30) + uint64(i)*10_000_000 }
	rows := func(i int) []schemas.Sample {
		var r []schemas.Sample
		// A gauge that keeps the partition's clock going.
		r = append(r, schemas.Sample{Kind: schemas.KindGauge, Metric: "/system/cpu", F64: 40 + float64(i%5)})
		if i == 0 {
			r = append(r, stateSample(stateevents.MetricOperStatus, kept, "UP"))
		}
		switch {
		case i < 30:
			for j := range n {
				// OpenConfig's counter and IOS-XR's native one (keys
				// interface-name=IF), and a gauge: one interface.
				r = append(r, counterSample(schemas.MetricInOctets, ifKeys(j), rate(i)),
					counterSample("/infra-statistics/interfaces/interface/latest/generic-counters/bytes-received", xrKeys(j), rate(i)),
					schemas.Sample{Kind: schemas.KindGauge, Metric: "/interfaces/interface/state/counters/in-util", Keys: ifKeys(j), F64: 50})
			}
		case i >= 400:
			oper := "UP"
			if i >= 450 && i < 470 {
				oper = "DOWN"
			}
			r = append(r, counterSample(schemas.MetricInOctets, back, rate(i)), stateSample(stateevents.MetricOperStatus, back, oper))
		}
		return r
	}
	recs := sampleRecords(t, 600, 1, rows)
	cfg := Config{SeriesExpiry: time.Minute}
	d := newTestDetect(t, cfg)
	process(t, d, recs[:30])
	ps := d.parts[0]
	if got := len(ps.ifaces); got != n+1 {
		t.Fatalf("after 30 ticks: %d interfaces tied, want %d", got, n+1)
	}
	process(t, d, recs[30:400])
	if got := len(ps.ifaces); got != 1 || ps.ifaces[schemas.SeriesKey{Device: dev, Keys: kept}] == nil {
		t.Errorf("after the series of %d interfaces expired: %d interfaces tied, want 1 (%s, a state series')", n, got, kept)
	}
	for k, st := range ps.series {
		if st.iface != nil && ps.ifaces[schemas.SeriesKey{Device: k.Device, Keys: ifaceKeys(k.Keys)}] != st.iface {
			t.Errorf("%s is tied to an interface not in ifaces", k)
		}
	}

	dets := process(t, d, recs[400:])
	want := []string{"firing link_down oper-status@450", "resolved link_down oper-status@470"}
	if got := summary(dets); !slices.Equal(got, want) {
		t.Errorf("the interface that came back: %v, want %v", got, want)
	}
	f := ps.ifaces[schemas.SeriesKey{Device: dev, Keys: back}]
	if f == nil || len(f.opers) != 1 {
		t.Fatalf("the interface that came back: %+v, want its counter and oper-status tied", f)
	}
	// 199 rates, of which 21 are down or straddle it.
	if st := ps.series[schemas.SeriesKey{Device: dev, Metric: schemas.MetricInOctets, Keys: back}]; st.points != 199-21 || st.iface != f {
		t.Errorf("the counter that came back: %d points scored, tied %v; want %d, tied", st.points, st.iface == f, 199-21)
	}

	// A stage restored from a changelog that holds the series and then
	// their tombstones (as a topic not yet compacted does) ties only what
	// it holds.
	a := newTestDetect(t, cfg)
	process(t, a, recs[:30])
	live := checkpoint(a)
	r := newTestDetect(t, cfg)
	for k, v := range live {
		if err := r.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(r.parts[0].ifaces); got != n+1 {
		t.Errorf("restored: %d interfaces tied, want %d", got, n+1)
	}
	for k := range live {
		if pk, err := pipeline.ParseStateKey([]byte(k)); err == nil && pk.Keys != kept {
			if err := r.Restore(0, []byte(k), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := len(r.parts[0].ifaces); got != 1 {
		t.Errorf("restored, then the tombstones: %d interfaces tied, want 1", got)
	}
}
