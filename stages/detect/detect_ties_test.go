package detect

import (
	"fmt"
	"slices"
	"strings"
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
	checkTies(t, ps)

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

	checkTies(t, ps)

	// A series whose kind changes (a gauge now sent as a counter) is
	// replaced: the interface stays tied, once.
	kc := newTestDetect(t, cfg)
	process(t, kc, sampleRecords(t, 2, 1, func(i int) []schemas.Sample {
		if i == 0 {
			return []schemas.Sample{{Kind: schemas.KindGauge, Metric: schemas.MetricInOctets, Keys: back, F64: 1}}
		}
		return []schemas.Sample{counterSample(schemas.MetricInOctets, back, 1)}
	}))
	if f := kc.parts[0].ifaces[schemas.SeriesKey{Device: dev, Keys: back}]; f == nil || f.n != 1 {
		t.Errorf("after a kind change: %+v, want the interface tied once", f)
	}
	checkTies(t, kc.parts[0])

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
	checkTies(t, r.parts[0])
}

// checkTies checks that ps's interfaces are those its series are tied to,
// each counting its series.
func checkTies(t *testing.T, ps *partState) {
	t.Helper()
	n := map[*ifaceState]int{}
	for k, st := range ps.series {
		if st.iface == nil {
			continue
		}
		n[st.iface]++
		if ps.ifaces[schemas.SeriesKey{Device: k.Device, Keys: ifaceKeys(k.Keys)}] != st.iface {
			t.Errorf("%s is tied to an interface not in ifaces", k)
		}
	}
	for k, f := range ps.ifaces {
		if f.n != n[f] || f.key != k {
			t.Errorf("interface %s: counts %d series, key %s; %d are tied to it", k, f.n, f.key, n[f])
		}
	}
}

// TestDetectStaleAdminDown: an IOS-XE interface with two admin-status
// series (the native one and OpenConfig's) is shut at 100; OpenConfig's
// says DOWN until its last sample at 109 and then stops (a subscription
// dropped) while the native one says the interface is enabled again at
// 120 and the link is up at 121. The native admin-status coming up after
// the other's last sample is newer evidence: the stopped series no longer
// holds the interface down, so the link failing at 200 (oper-status
// DOWN, the native admin-status up) is a critical link_down, resolved at
// 250, whose description reads the admin-status that is current; the
// interface's in-octets is scored again once the link is up. The same at
// 1 and 60 ticks per record and through a checkpoint taken after the
// series stopped, restored in either key order.
func TestDetectStaleAdminDown(t *testing.T) {
	down := func(i int) bool { return i >= 100 && i <= 120 || i >= 200 && i < 250 }
	counts := byteCounts(300, down)
	rows := func(i int) []schemas.Sample {
		xeA, ocOper := "if-state-up", "UP"
		if i >= 100 && i < 120 {
			xeA = "if-state-down"
		}
		if down(i) {
			ocOper = "DOWN"
		}
		r := []schemas.Sample{counterSample(xeInOctets, xeIfKeys, counts[i]), stateSample(xeAdmin, xeIfKeys, xeA)}
		switch {
		case i < 100:
			r = append(r, stateSample(stateevents.MetricAdminStatus, xeIfKeys, "UP"))
		case i < 110:
			r = append(r, stateSample(stateevents.MetricAdminStatus, xeIfKeys, "DOWN"))
		}
		return append(r, stateSample(stateevents.MetricOperStatus, xeIfKeys, ocOper))
	}
	want := []string{"firing admin_down admin-status@100", "firing admin_down admin-status@100",
		"resolved admin_down admin-status@120",
		"firing link_down oper-status@200", "resolved link_down oper-status@250"}
	for _, per := range []int{1, 60} {
		d := newTestDetect(t, Config{})
		dets := process(t, d, sampleRecords(t, 300, per, rows))
		if got := summary(dets); !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
		}
		for _, det := range dets {
			if det.Detector == "link_down" && (det.Severity != schemas.SeverityCritical ||
				!strings.Contains(det.Annotations["description"], "(admin-status if-state-up)")) {
				t.Errorf("%d ticks per record: %s link_down: severity %s, %q", per, det.State, det.Severity, det.Annotations["description"])
			}
		}
		// 299 rates, of which 22 + 51 are down or straddle it.
		k := schemas.SeriesKey{Device: dev, Metric: xeInOctets, Keys: xeIfKeys}
		if st := d.parts[0].series[k]; st.points != 299-22-51 {
			t.Errorf("%d ticks per record: in-octets scored %d points, want %d", per, st.points, 299-22-51)
		}
	}
	recs := sampleRecords(t, 300, 1, rows)
	for _, c := range []struct{ at, from int }{{115, 2}, {150, 3}} {
		if got := summary(checkRestored(t, recs, c.at)); !slices.Equal(got, want[c.from:]) {
			t.Errorf("after %d: %v, want %v", c.at, got, want[c.from:])
		}
	}
}

// TestDetectStaleIOSXRAdminDown: the same with IOS-XR's native states,
// whose values carry the shut: interface-briefs' state says
// im-state-admin-down until its last sample at 109, then stops, while
// interface-xr's state and line-state leave im-state-admin-down for
// im-state-up at 120. Their going down at 200 (im-state-down) is a
// link_down on each.
func TestDetectStaleIOSXRAdminDown(t *testing.T) {
	const briefState = "/interfaces/interface-briefs/interface-brief/state"
	rows := func(i int) []schemas.Sample {
		v := "im-state-up"
		switch {
		case i >= 100 && i < 120:
			v = "im-state-admin-down"
		case i >= 200 && i < 250:
			v = "im-state-down"
		}
		r := []schemas.Sample{stateSample(xrIfState, xrIfKeys, v), stateSample(xrLineState, xrIfKeys, v)}
		if i < 110 {
			r = append(r, stateSample(briefState, xrIfKeys, v))
		}
		return r
	}
	want := []string{"firing admin_down state@100", "firing admin_down line-state@100", "firing admin_down state@100",
		"resolved admin_down state@120", "resolved admin_down line-state@120",
		"firing link_down state@200", "firing link_down line-state@200",
		"resolved link_down state@250", "resolved link_down line-state@250"}
	for _, per := range []int{1, 60} {
		got := summary(process(t, newTestDetect(t, Config{}), sampleRecords(t, 300, per, rows)))
		if !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
		}
	}
	checkRestored(t, sampleRecords(t, 300, 1, rows), 150)
}

// TestDetectLaggingAdminStatus: an admin-status series that is merely
// late to follow the other (OpenConfig's sampled a couple of seconds
// after the native one and saying DOWN two ticks after it, UP two ticks
// after it) is no newer evidence: its samples that still say UP after
// the native one said down do not end the shut, so the shut at 100 is no
// link_down, and the enable at 120 is one (the link still down) only once
// enable_grace has passed after the later of the two enables. This passes
// before and after the stale-series rule; it is why that rule reads when
// a series came up, not merely its latest sample.
func TestDetectLaggingAdminStatus(t *testing.T) {
	rows := func(i int) []schemas.Sample {
		ocAdmin, oper, xeA := "UP", "UP", "if-state-up"
		if i >= 100 && i < 120 {
			xeA = "if-state-down"
		}
		if i >= 102 && i < 122 {
			ocAdmin = "DOWN"
		}
		if i >= 100 && i < 140 {
			oper = "DOWN"
		}
		// Offsets in ns within the tick: native, then OpenConfig's
		// admin-status, then oper-status.
		return []schemas.Sample{
			{Kind: schemas.KindState, Metric: xeAdmin, Keys: xeIfKeys, Str: xeA},
			{Kind: schemas.KindState, Metric: stateevents.MetricAdminStatus, Keys: xeIfKeys, Str: ocAdmin, TS: int64(2 * time.Second)},
			{Kind: schemas.KindState, Metric: stateevents.MetricOperStatus, Keys: xeIfKeys, Str: oper, TS: int64(3 * time.Second)},
		}
	}
	want := []string{"firing admin_down admin-status@100", "firing admin_down admin-status@102",
		"resolved admin_down admin-status@120", "resolved admin_down admin-status@122",
		"firing link_down oper-status@128", "resolved link_down oper-status@140"}
	for _, per := range []int{1, 60} {
		got := summary(process(t, newTestDetect(t, Config{}), sampleRecords(t, 300, per, rows)))
		if !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
		}
	}
}
