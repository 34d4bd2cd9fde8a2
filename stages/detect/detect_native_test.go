package detect

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Native state paths as the gNMI collector writes them (origin in front).
const (
	xrIfState   = "Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/interface-xr/interface/state"
	xrIfKeys    = "interface-name=HundredGigE0/0/0/10"
	xrBGPState  = "Cisco-IOS-XR-ipv4-bgp-oper:/bgp/instances/instance/instance-active/default-vrf/neighbors/neighbor/connection-state"
	xrBGPKeys   = "instance-name=default,neighbor-address=192.0.2.1"
	srlOper     = "/interface/oper-state"
	srlAdmin    = "/interface/admin-state"
	srlIfKeys   = "name=ethernet-1/1"
	nativeClock = "Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/bytes-received"
)

// stateRow is one state sample of a tick (empty value: not sent).
type stateRow struct{ metric, keys, value string }

// nativeRecords encodes n ticks 10 s apart, per ticks-per-record: a
// steady byte counter of the device (its clock for state sent only on
// change) and the state rows rows(i), in their order.
func nativeRecords(t *testing.T, n, perRecord int, rows func(i int) []stateRow) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := range n {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		s := schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Kind: schemas.KindCounter,
			Metric: nativeClock, Keys: xrIfKeys, U64: uint64(i) * 10_000_000}
		sb.Append(&s)
		for _, r := range rows(i) {
			if r.value == "" {
				continue
			}
			s = schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Kind: schemas.KindState, Metric: r.metric, Keys: r.keys, Str: r.value}
			sb.Append(&s)
		}
		if (i+1)%perRecord == 0 || i == n-1 {
			recs = append(recs, recordOf(t, sb))
		}
	}
	return recs
}

// TestDetectIOSXRInterfaceState: IOS-XR's native interface state
// (Cisco-IOS-XR-pfi-im-cmd-oper, keys interface-name=IF) going from
// im-state-up to im-state-down is a critical link_down at the DOWN
// sample, resolved when it is up again; im-state-admin-down is an
// informational admin_down and no link_down, and the link back from the
// shut is no flap; a link enabled again that stays down is a link_down
// once the enable grace (1 minute) has passed. The same through a
// checkpoint taken during the grace.
func TestDetectIOSXRInterfaceState(t *testing.T) {
	value := func(i int) string {
		switch {
		case i >= 100 && i < 160:
			return "im-state-down"
		case i >= 200 && i < 240, i >= 300 && i < 310:
			return "im-state-admin-down"
		case i >= 310 && i < 400:
			return "im-state-down" // enabled again, still down
		}
		return "im-state-up"
	}
	rows := func(i int) []stateRow { return []stateRow{{xrIfState, xrIfKeys, value(i)}} }
	want := []string{"firing link_down state@100", "resolved link_down state@160",
		"firing admin_down state@200", "resolved admin_down state@240",
		"firing admin_down state@300", "resolved admin_down state@310",
		"firing link_down state@316", "resolved link_down state@400"}
	for _, per := range []int{1, 60} {
		d := newTestDetect(t, Config{})
		dets := process(t, d, nativeRecords(t, 500, per, rows))
		if got := summary(dets); !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
			continue
		}
		for _, det := range dets {
			sev := schemas.SeverityCritical
			if det.Detector == "admin_down" {
				sev = schemas.SeverityInfo
			}
			if det.Severity != sev || det.Keys != xrIfKeys || det.Metric != xrIfState ||
				!strings.Contains(det.Annotations["description"], "oper-status im-state-") {
				t.Errorf("%d ticks per record: %s %s: severity %s, keys %s, %q", per, det.State, det.Detector, det.Severity, det.Keys, det.Annotations["description"])
			}
		}
	}
	recs := nativeRecords(t, 500, 1, rows)
	a, b := newTestDetect(t, Config{}), newTestDetect(t, Config{})
	process(t, a, recs[:313])
	for k, v := range checkpoint(a) {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if da, db := summary(process(t, a, recs[313:])), summary(process(t, b, recs[313:])); !slices.Equal(da, db) || len(da) == 0 {
		t.Errorf("restored during the grace %v, without %v", db, da)
	}
}

// TestDetectIOSXRBGPState: IOS-XR's native BGP connection-state
// (Cisco-IOS-XR-ipv4-bgp-oper) leaving bgp-st-estab is a session_down,
// resolved when it is established again.
func TestDetectIOSXRBGPState(t *testing.T) {
	rows := func(i int) []stateRow {
		v := "bgp-st-estab"
		switch {
		case i >= 100 && i < 120:
			v = "bgp-st-idle"
		case i >= 120 && i < 150:
			v = "bgp-st-active"
		case i == 150:
			v = "bgp-st-open-sent"
		}
		return []stateRow{{xrBGPState, xrBGPKeys, v}}
	}
	want := []string{"firing session_down connection-state@100", "resolved session_down connection-state@151"}
	for _, per := range []int{1, 60} {
		dets := process(t, newTestDetect(t, Config{}), nativeRecords(t, 300, per, rows))
		if got := summary(dets); !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
			continue
		}
		if dets[0].Severity != schemas.SeverityCritical || dets[0].Keys != xrBGPKeys {
			t.Errorf("%d ticks per record: severity %s, keys %s", per, dets[0].Severity, dets[0].Keys)
		}
	}
}

// TestDetectSRLinuxAdminDisable: an SR Linux interface disabled
// (/interface/admin-state disable, its oper-state down at the same
// timestamp, whichever leaf comes first) is one admin_down and no
// link_down, as for OpenConfig's admin-status and oper-status: the two
// native leaves are tied by their keys (name=IF). Its oper-state going
// down while enabled is a link_down.
func TestDetectSRLinuxAdminDisable(t *testing.T) {
	for _, operFirst := range []bool{false, true} {
		rows := func(i int) []stateRow {
			admin, oper := "enable", "up"
			switch {
			case i >= 100 && i < 120:
				admin, oper = "disable", "down"
			case i >= 200 && i < 210:
				oper = "down"
			}
			r := []stateRow{{srlAdmin, srlIfKeys, admin}, {srlOper, srlIfKeys, oper}}
			if operFirst {
				r[0], r[1] = r[1], r[0]
			}
			return r
		}
		want := []string{"firing admin_down admin-state@100", "resolved admin_down admin-state@120",
			"firing link_down oper-state@200", "resolved link_down oper-state@210"}
		for _, per := range []int{1, 60} {
			got := summary(process(t, newTestDetect(t, Config{}), nativeRecords(t, 300, per, rows)))
			if !slices.Equal(got, want) {
				t.Errorf("oper-state first %v, %d ticks per record: %v, want %v", operFirst, per, got, want)
			}
		}
	}
}

// IOS-XR native interface series (Cisco-IOS-XR-infra-statsd-oper, keys
// interface-name=IF like the interface's state).
const (
	xrStatsd    = "Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/"
	xrBytesIn   = xrStatsd + "generic-counters/bytes-received"
	xrRateIn    = xrStatsd + "data-rate/input-data-rate"
	xrCarrier   = xrStatsd + "generic-counters/carrier-transitions"
	xrLineState = "Cisco-IOS-XR-pfi-im-cmd-oper:/interfaces/interface-xr/interface/line-state"
)

// TestDetectIOSXRCarrierFlap: an increment of IOS-XR's native
// carrier-transitions (generic-counters of latest, total or cache) while
// the interface's state stays up is a carrier_flap at its sample,
// resolved at the next; the same increment at the sample where the
// interface's state goes down is explained by it (the counter and the
// state are tied by their keys, interface-name=IF): link_down only.
func TestDetectIOSXRCarrierFlap(t *testing.T) {
	for _, path := range []string{xrCarrier,
		"Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/total/generic-counters/carrier-transitions",
		"/infra-statistics/interfaces/interface/cache/generic-counters/carrier-transitions"} {
		for _, withDown := range []bool{false, true} {
			var recs []*kgo.Record
			sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
			for i := range 300 {
				ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
				c := uint64(5)
				if i >= 150 {
					c = 6
				}
				state := "im-state-up"
				if withDown && i >= 150 && i < 200 {
					state = "im-state-down"
				}
				sb.Append(&schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Kind: schemas.KindCounter, Metric: path, Keys: xrIfKeys, U64: c})
				sb.Append(&schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Kind: schemas.KindState, Metric: xrIfState, Keys: xrIfKeys, Str: state})
				if (i+1)%60 == 0 {
					recs = append(recs, recordOf(t, sb))
				}
			}
			sb.Release()
			want := []string{"firing carrier_flap carrier-transitions@150", "resolved carrier_flap carrier-transitions@151"}
			if withDown {
				want = []string{"firing link_down state@150", "resolved link_down state@200"}
			}
			dets := process(t, newTestDetect(t, Config{}), recs)
			if got := summary(dets); !slices.Equal(got, want) {
				t.Errorf("%s (state down with it: %v): %v, want %v", path, withDown, got, want)
				continue
			}
			if !withDown && (dets[0].Severity != schemas.SeverityWarning || dets[0].Keys != xrIfKeys ||
				!strings.Contains(dets[0].Annotations["description"], "carrier-transitions 6 at 2026-11-01T00:25:00Z")) {
				t.Errorf("%s: severity %s, %q", path, dets[0].Severity, dets[0].Annotations["description"])
			}
		}
	}
}

// TestDetectRestoresEnsembleOfStateMetricCold: a changelog record of an
// ensemble series (a counter's rate) whose metric is now followed as a
// state (IOS-XR's native carrier-transitions, written by a build that did
// not classify it) starts cold, as a record of another class does: the
// series becomes a state series at its next sample and an increment is a
// carrier_flap.
func TestDetectRestoresEnsembleOfStateMetricCold(t *testing.T) {
	d := newTestDetect(t, Config{})
	sh, err := d.ensembleOf(schemas.KindCounter, xrCarrier)
	if err != nil {
		t.Fatal(err)
	}
	old := &seriesState{kind: schemas.KindCounter, e: sh.New(), points: 100}
	old.counter.LastTS, old.counter.Last = t0.UnixNano(), 5
	k := schemas.SeriesKey{Device: dev, Metric: xrCarrier, Keys: xrIfKeys}
	if err := d.Restore(0, pipeline.StateKey(nil, k), appendState(nil, old)); err != nil {
		t.Fatal(err)
	}
	if st := d.parts[0].series[k]; st != nil {
		t.Errorf("restored as a series (state events %v), want it to start cold", st.se != nil)
	}
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := 1; i < 20; i++ {
		c := uint64(5)
		if i >= 10 {
			c = 6
		}
		sb.Append(&schemas.Sample{TS: t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(), Device: dev, Source: schemas.SourceGNMI,
			Kind: schemas.KindCounter, Metric: xrCarrier, Keys: xrIfKeys, U64: c})
	}
	got := summary(process(t, d, []*kgo.Record{recordOf(t, sb)}))
	if want := []string{"firing carrier_flap carrier-transitions@10", "resolved carrier_flap carrier-transitions@11"}; !slices.Equal(got, want) {
		t.Errorf("after the restore: %v, want %v", got, want)
	}
}

// xrTick is one tick of an IOS-XR interface's native telemetry: its
// bytes-received counter, its input-data-rate gauge (kbit/s), its
// carrier-transitions (sent when > 0) and its state and line-state
// (empty: not sent).
type xrTick struct {
	bytes       uint64
	rate        float64
	carrier     uint64
	state, line string
	stateFirst  bool // the state rows come before the counters
}

// xrTraffic makes n ticks of about 10 MB/s (80 000 kbit/s) whose state
// and line-state are im-state-down, and traffic 0, while down(i);
// carrier-transitions counts each change of down.
func xrTraffic(n int, down func(i int) bool) []xrTick {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []xrTick
	b, c := uint64(1<<30), uint64(5)
	for i := range n {
		tk := xrTick{state: "im-state-up", line: "im-state-up", stateFirst: i%2 == 0}
		if i > 0 && down(i) != down(i-1) {
			c++
		}
		if down(i) {
			tk.state, tk.line = "im-state-down", "im-state-down"
		} else {
			d := 10e6 * (1 + 0.05*rng.NormFloat64())
			b += uint64(d)
			tk.rate = d * 8 / 1000
		}
		tk.bytes, tk.carrier = b, c
		out = append(out, tk)
	}
	return out
}

// xrRecords encodes ticks 10 s apart, per ticks-per-record.
func xrRecords(t *testing.T, ticks []xrTick, perRecord int) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i, tk := range ticks {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		s := schemas.Sample{TS: ts, Device: dev, Keys: xrIfKeys, Source: schemas.SourceGNMI}
		states := func() {
			s.Kind = schemas.KindState
			for _, m := range []struct{ metric, v string }{{xrIfState, tk.state}, {xrLineState, tk.line}} {
				if m.v != "" {
					s.Metric, s.Str = m.metric, m.v
					sb.Append(&s)
				}
			}
		}
		if tk.stateFirst {
			states()
		}
		s.Kind, s.Metric, s.U64 = schemas.KindCounter, xrBytesIn, tk.bytes
		sb.Append(&s)
		if tk.carrier > 0 {
			s.Metric, s.U64 = xrCarrier, tk.carrier
			sb.Append(&s)
		}
		s.Kind, s.Metric, s.F64 = schemas.KindGauge, xrRateIn, tk.rate
		sb.Append(&s)
		if !tk.stateFirst {
			states()
		}
		if (i+1)%perRecord == 0 || i == len(ticks)-1 {
			recs = append(recs, recordOf(t, sb))
		}
	}
	return recs
}

// TestDetectIOSXRLinkDownTraffic: an IOS-XR interface whose state and
// line-state go im-state-down while its traffic stops (generic-counters
// bytes-received flat, data-rate input-data-rate 0, carrier-transitions
// counting the change) is one link_down per state series at the DOWN
// sample, resolved when they are up again: its rates are neither learned
// nor alerted on while it is down, traffic returning is no new alert, and
// the carrier-transitions increments are explained by the states; the
// same with the line protocol down alone (state up throughout). The
// native series of one device and interface-name are one interface, as
// OpenConfig's are (TestDetectLinkDown), whatever the order of the rows,
// the ticks per record, and through a checkpoint taken while the link is
// down restored in either key order (a counter before its state series,
// and the reverse). A control without the state leaves fires on the
// drop.
func TestDetectIOSXRLinkDownTraffic(t *testing.T) {
	down := func(i int) bool { return i >= 400 && i < 460 }
	ticks := xrTraffic(600, down)
	want := []string{"firing link_down line-state@400", "firing link_down state@400",
		"resolved link_down line-state@460", "resolved link_down state@460"}
	for _, c := range []struct {
		per  int
		flip bool
	}{{1, false}, {1, true}, {60, false}, {60, true}} {
		for i := range ticks {
			ticks[i].stateFirst = (i%2 == 0) != c.flip
		}
		d := newTestDetect(t, Config{})
		dets := process(t, d, xrRecords(t, ticks, c.per))
		got := summary(dets)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d ticks per record (flipped %v): %v, want %v", c.per, c.flip, got, want)
			continue
		}
		for _, det := range dets {
			if det.Severity != schemas.SeverityCritical || det.Keys != xrIfKeys || !strings.Contains(det.Annotations["description"], "oper-status im-state-") {
				t.Errorf("%d ticks per record: %s: severity %s, keys %s, %q", c.per, det.State, det.Severity, det.Keys, det.Annotations["description"])
			}
		}
		// As TestDetectLinkDown: 599 rates, of which ticks 400..460 are
		// down or straddle it and 461 follows the carrier-transitions
		// increment at 460.
		k := schemas.SeriesKey{Device: dev, Metric: xrBytesIn, Keys: xrIfKeys}
		if st := d.parts[0].series[k]; st == nil || st.points != 599-62 {
			t.Errorf("%d ticks per record (flipped %v): bytes-received scored %v points, want %d", c.per, c.flip, st.points, 599-62)
		}
	}
	// The line protocol down alone (state up): the interface is down
	// when any of its oper-status series is.
	line := slices.Clone(ticks)
	for i := range line {
		line[i].state = "im-state-up"
	}
	for _, per := range []int{1, 60} {
		d := newTestDetect(t, Config{})
		want := []string{"firing link_down line-state@400", "resolved link_down line-state@460"}
		if got := summary(process(t, d, xrRecords(t, line, per))); !slices.Equal(got, want) {
			t.Errorf("line-state alone, %d ticks per record: %v, want %v", per, got, want)
		}
	}
	// Handoff while down, the records restored in key order and in
	// reverse.
	recs := xrRecords(t, ticks, 1)
	a := newTestDetect(t, Config{})
	process(t, a, recs[:430])
	ckpt := checkpoint(a)
	keys := slices.Sorted(maps.Keys(ckpt))
	da := process(t, a, recs[430:])
	for _, reverse := range []bool{false, true} {
		b := newTestDetect(t, Config{})
		order := slices.Clone(keys)
		if reverse {
			slices.Reverse(order)
		}
		for _, k := range order {
			if err := b.Restore(0, []byte(k), ckpt[k]); err != nil {
				t.Fatal(err)
			}
		}
		db := process(t, b, recs[430:])
		if got, want := summary(db), summary(da); !slices.Equal(got, want) || len(got) != 2 {
			t.Errorf("restored (reverse key order %v): %v, without %v", reverse, got, want)
		}
		for i := range min(len(da), len(db)) {
			if da[i].Annotations["description"] != db[i].Annotations["description"] {
				t.Errorf("restored (reverse key order %v): %q, without %q", reverse, db[i].Annotations["description"], da[i].Annotations["description"])
			}
		}
		if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
			t.Errorf("restored (reverse key order %v): final states differ", reverse)
		}
	}
	// The control: the same traffic without state leaves fires on the drop.
	for i := range ticks {
		ticks[i].state, ticks[i].line, ticks[i].carrier = "", "", 0
	}
	got := summary(process(t, newTestDetect(t, Config{}), xrRecords(t, ticks, 60)))
	if len(got) == 0 || !strings.HasPrefix(got[0], "firing") {
		t.Errorf("control without states: %v, want the drop to fire", got)
	}
	t.Logf("control without states: %v", got)
}

// TestDetectSRLinuxStatisticsDown: an SR Linux interface whose oper-state
// goes down while its /interface/statistics/in-octets stops is one
// link_down: the counter is tied to the oper-state by their keys
// (name=IF), so its rates are neither learned nor alerted on while the
// interface is down, and traffic returning is no new alert.
func TestDetectSRLinuxStatisticsDown(t *testing.T) {
	const inOctets = "/interface/statistics/in-octets"
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	b := uint64(1 << 30)
	for i := range 600 {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		oper := "up"
		if i >= 400 && i < 460 {
			oper = "down"
		} else {
			b += uint64(10e6 * (1 + 0.05*rng.NormFloat64()))
		}
		sb.Append(&schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Kind: schemas.KindState, Metric: srlAdmin, Keys: srlIfKeys, Str: "enable"})
		sb.Append(&schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Kind: schemas.KindCounter, Metric: inOctets, Keys: srlIfKeys, U64: b})
		sb.Append(&schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Kind: schemas.KindState, Metric: srlOper, Keys: srlIfKeys, Str: oper})
		if (i+1)%60 == 0 {
			recs = append(recs, recordOf(t, sb))
		}
	}
	d := newTestDetect(t, Config{})
	want := []string{"firing link_down oper-state@400", "resolved link_down oper-state@460"}
	if got := summary(process(t, d, recs)); !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	// 599 rates, of which ticks 400..460 are down or straddle it.
	k := schemas.SeriesKey{Device: dev, Metric: inOctets, Keys: srlIfKeys}
	if st := d.parts[0].series[k]; st == nil || st.points != 599-61 {
		t.Errorf("in-octets scored %v points, want %d", st.points, 599-61)
	}
}

// TestDetectIOSXRExplained: a traffic drop that outlasts a short outage
// of an IOS-XR interface (state and line-state im-state-down for two
// ticks, traffic gone for 40) fires once the interface is up, and its
// description names the interface and the state change that explains it
// ("; HundredGigE0/0/0/10 oper-status im-state-up at …"), as it does for
// OpenConfig's oper-status; the same through a stage restored from a
// checkpoint taken during the outage.
func TestDetectIOSXRExplained(t *testing.T) {
	ticks := xrTraffic(600, func(i int) bool { return i >= 400 && i < 402 })
	b, gone := ticks[399].bytes, ticks[439].bytes-ticks[399].bytes
	for i := 400; i < len(ticks); i++ {
		if i < 440 {
			ticks[i].bytes, ticks[i].rate = b, 0
		} else {
			ticks[i].bytes -= gone
		}
	}
	recs := xrRecords(t, ticks, 1)
	a := newTestDetect(t, Config{})
	dets := process(t, a, recs)
	const want = "; HundredGigE0/0/0/10 oper-status im-state-up at 2026-11-01T01:07:00Z"
	n := 0
	for _, det := range dets {
		if det.Metric != xrBytesIn && det.Metric != xrRateIn || det.State != schemas.StateFiring {
			continue
		}
		n++
		if at := det.EventTime.Sub(t0) / (10 * time.Second); at < 402 || at > 410 || !strings.Contains(det.Annotations["description"], want) {
			t.Errorf("%s fired at tick %d: %q, want after 402 with %q", det.Metric, at, det.Annotations["description"], want)
		}
	}
	if n == 0 {
		t.Errorf("no traffic alert: %v", summary(dets))
	}
	a, b2 := newTestDetect(t, Config{}), newTestDetect(t, Config{})
	process(t, a, recs[:401])
	for k, v := range checkpoint(a) {
		if err := b2.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	da, db := process(t, a, recs[401:]), process(t, b2, recs[401:])
	if len(da) != len(db) || len(da) == 0 {
		t.Fatalf("restored %v, without %v", summary(db), summary(da))
	}
	for i := range da {
		if da[i].Annotations["description"] != db[i].Annotations["description"] {
			t.Errorf("restored: %q, without %q", db[i].Annotations["description"], da[i].Annotations["description"])
		}
	}
}

// sampleRecords encodes n ticks 10 s apart, per ticks-per-record: the
// samples rows(i) of device dev, their time tick i's plus their own TS
// (0 in most rows: an offset within the tick).
func sampleRecords(t *testing.T, n, perRecord int, rows func(i int) []schemas.Sample) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := range n {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		for _, s := range rows(i) {
			s.TS, s.Device, s.Source = ts+s.TS, dev, schemas.SourceGNMI
			sb.Append(&s)
		}
		if (i+1)%perRecord == 0 || i == n-1 {
			recs = append(recs, recordOf(t, sb))
		}
	}
	return recs
}

// stateSample and counterSample are samples of sampleRecords' rows.
func stateSample(metric, keys, v string) schemas.Sample {
	return schemas.Sample{Kind: schemas.KindState, Metric: metric, Keys: keys, Str: v}
}

func counterSample(metric, keys string, v uint64) schemas.Sample {
	return schemas.Sample{Kind: schemas.KindCounter, Metric: metric, Keys: keys, U64: v}
}

// byteCounts returns n values of a byte counter of about 10 MB/s that
// stays flat while down(i).
func byteCounts(n int, down func(i int) bool) []uint64 {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]uint64, n)
	b := uint64(1 << 30)
	for i := range out {
		if !down(i) {
			b += uint64(10e6 * (1 + 0.05*rng.NormFloat64()))
		}
		out[i] = b
	}
	return out
}

// checkRestored runs recs[:at] through a stage, checkpoints it, restores
// the checkpoint into new stages in key order and in reverse, and checks
// that each continues with recs[at:] as the first does: same detections,
// descriptions and final states. It returns the detections after at.
func checkRestored(t *testing.T, recs []*kgo.Record, at int) []*schemas.Detection {
	t.Helper()
	a := newTestDetect(t, Config{})
	process(t, a, recs[:at])
	ckpt := checkpoint(a)
	keys := slices.Sorted(maps.Keys(ckpt))
	da := process(t, a, recs[at:])
	for _, reverse := range []bool{false, true} {
		b := newTestDetect(t, Config{})
		order := slices.Clone(keys)
		if reverse {
			slices.Reverse(order)
		}
		for _, k := range order {
			if err := b.Restore(0, []byte(k), ckpt[k]); err != nil {
				t.Fatal(err)
			}
		}
		db := process(t, b, recs[at:])
		if got, want := summary(db), summary(da); !slices.Equal(got, want) {
			t.Errorf("restored at %d (reverse key order %v): %v, without %v", at, reverse, got, want)
			continue
		}
		for i := range da {
			if da[i].Annotations["description"] != db[i].Annotations["description"] {
				t.Errorf("restored (reverse key order %v): %q, without %q", reverse, db[i].Annotations["description"], da[i].Annotations["description"])
			}
		}
		if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
			t.Errorf("restored (reverse key order %v): final states differ", reverse)
		}
	}
	return da
}

// TestDetectMixedModelsLinkDown: a device that streams an interface's
// OpenConfig state (keys name=IF) beside its IOS-XR native counters (keys
// interface-name=IF), or the reverse, has one interface: device and
// interface name. Its oper-status going down 400..460 while the counter
// stops is one link_down at the DOWN sample, resolved when it is up
// again, and the counter's rates are neither learned nor alerted on while
// it is down; the same whatever the order of the rows, the ticks per
// record, and through a checkpoint taken while down restored in either
// key order. A subinterface (name=IF,index=0) with no state series of
// its own follows its interface the same way (partState.stateOf).
func TestDetectMixedModelsLinkDown(t *testing.T) {
	const (
		ocKeys = "name=HundredGigE0/0/0/10"
		subIf  = "name=HundredGigE0/0/0/10,index=0"
	)
	down := func(i int) bool { return i >= 400 && i < 460 }
	counts := byteCounts(600, down)
	for _, c := range []struct {
		name           string
		state          func(i int) []schemas.Sample
		counter, ckeys string
		want           []string
	}{
		{"OpenConfig state, IOS-XR counters", func(i int) []schemas.Sample {
			oper := "UP"
			if down(i) {
				oper = "LOWER_LAYER_DOWN"
			}
			return []schemas.Sample{stateSample(stateevents.MetricAdminStatus, ocKeys, "UP"), stateSample(stateevents.MetricOperStatus, ocKeys, oper)}
		}, xrBytesIn, xrIfKeys, []string{"firing link_down oper-status@400", "resolved link_down oper-status@460"}},
		{"IOS-XR state, OpenConfig counters", func(i int) []schemas.Sample {
			v := "im-state-up"
			if down(i) {
				v = "im-state-down"
			}
			return []schemas.Sample{stateSample(xrIfState, xrIfKeys, v), stateSample(xrLineState, xrIfKeys, v)}
		}, schemas.MetricInOctets, ocKeys, []string{"firing link_down line-state@400", "firing link_down state@400",
			"resolved link_down line-state@460", "resolved link_down state@460"}},
		{"IOS-XR state, OpenConfig subinterface counters", func(i int) []schemas.Sample {
			v := "im-state-up"
			if down(i) {
				v = "im-state-down"
			}
			return []schemas.Sample{stateSample(xrIfState, xrIfKeys, v)}
		}, subifCounters, subIf, []string{"firing link_down state@400", "resolved link_down state@460"}},
	} {
		for _, o := range []struct {
			per  int
			flip bool
		}{{1, false}, {1, true}, {60, false}, {60, true}} {
			rows := func(i int) []schemas.Sample {
				r := append(c.state(i), counterSample(c.counter, c.ckeys, counts[i]))
				if (i%2 == 0) != o.flip {
					slices.Reverse(r)
				}
				return r
			}
			d := newTestDetect(t, Config{})
			dets := process(t, d, sampleRecords(t, 600, o.per, rows))
			var states, rates []string
			for i, s := range summary(dets) {
				if dets[i].Metric == c.counter {
					rates = append(rates, s)
				} else {
					states = append(states, s)
				}
			}
			slices.Sort(states)
			k := schemas.SeriesKey{Device: dev, Metric: c.counter, Keys: c.ckeys}
			st := d.parts[0].series[k]
			wantStates := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(states, wantStates) || len(rates) > 0 {
				t.Errorf("%s, %d ticks per record (flipped %v): states %v, rates %v; want %v and no rate detection", c.name, o.per, o.flip, states, rates, wantStates)
			}
			// 599 rates, of which ticks 400..460 are down or straddle it.
			if st == nil || st.points != 599-61 {
				t.Errorf("%s, %d ticks per record (flipped %v): %s scored %v points, want %d", c.name, o.per, o.flip, c.counter, st.points, 599-61)
			}
		}
		rows := func(i int) []schemas.Sample { return append(c.state(i), counterSample(c.counter, c.ckeys, counts[i])) }
		da := checkRestored(t, sampleRecords(t, 600, 1, rows), 430)
		if got := summary(da); len(got) != len(c.want)/2 {
			t.Errorf("%s: after the restore %v, want the resolutions", c.name, got)
		}
	}
}

// TestDetectLLDPIOSXR: the LLDP neighbour count of a port (keys
// name=PORT) is tied to the IOS-XR native interface of that name (keys
// interface-name=PORT): a drop with the interface's state going down is
// explained by it (the link_down is the alert), a drop while it stays up
// is an lldp_neighbor_lost whose description reads the interface's
// oper-status; the same through a checkpoint taken while down.
func TestDetectLLDPIOSXR(t *testing.T) {
	lldpKeys := schemas.LLDPPortKeys("HundredGigE0/0/0/10")
	for _, c := range []struct {
		name       string
		down       func(i int) bool
		lost, back int
		want       []string
	}{
		{"link up", func(int) bool { return false }, 200, 260,
			[]string{"firing lldp_neighbor_lost neighbors@200", "resolved lldp_neighbor_lost neighbors@260"}},
		{"with the link", func(i int) bool { return i >= 200 && i < 260 }, 200, 260,
			[]string{"firing link_down state@200", "resolved link_down state@260"}},
		{"after the hold time", func(i int) bool { return i >= 200 && i < 260 }, 212, 261,
			[]string{"firing link_down state@200", "resolved link_down state@260"}},
	} {
		rows := func(i int) []schemas.Sample {
			v, n := "im-state-up", 1.0
			if c.down(i) {
				v = "im-state-down"
			}
			if i >= c.lost && i < c.back {
				n = 0
			}
			return []schemas.Sample{stateSample(xrIfState, xrIfKeys, v),
				{Kind: schemas.KindGauge, Metric: schemas.MetricLLDPNeighbors, Keys: lldpKeys, F64: n}}
		}
		for _, per := range []int{1, 60} {
			dets := process(t, newTestDetect(t, Config{}), sampleRecords(t, 400, per, rows))
			if got := summary(dets); !slices.Equal(got, c.want) {
				t.Errorf("%s, %d ticks per record: %v, want %v", c.name, per, got, c.want)
				continue
			}
			if d := dets[0]; d.Detector == "lldp_neighbor_lost" && !strings.Contains(d.Annotations["description"], "(oper-status im-state-up)") {
				t.Errorf("%s: %q, want the interface's oper-status", c.name, d.Annotations["description"])
			}
		}
		checkRestored(t, sampleRecords(t, 400, 1, rows), 205)
	}
}

// TestIfaceKeys: the keys naming an interface of its device.
func TestIfaceKeys(t *testing.T) {
	f := func(keys, want string) {
		t.Helper()
		if got := ifaceKeys(keys); got != want {
			t.Errorf("ifaceKeys(%q) = %q, want %q", keys, got, want)
		}
	}
	f("name=Hu0/0/0/10", "name=Hu0/0/0/10")
	f("interface-name=Hu0/0/0/10", "name=Hu0/0/0/10")
	f(`interface-name=a\,b`, `name=a\,b`)
	f(`interface-name=a\\,b=c`, `interface-name=a\\,b=c`)
	f("name=Hu0/0/0/10,index=0", "name=Hu0/0/0/10,index=0")
	f("interface-name=Hu0/0/0/10,index=0", "interface-name=Hu0/0/0/10,index=0")
	f("name=default,neighbor-address=192.0.2.1", "name=default,neighbor-address=192.0.2.1")
}

// IOS-XE native interface series (Cisco-IOS-XE-interfaces-oper, keys
// name=IF like OpenConfig's).
const (
	xeIf       = "Cisco-IOS-XE-interfaces-oper:/interfaces/interface/"
	xeOper     = xeIf + "oper-status"
	xeAdmin    = xeIf + "admin-status"
	xeInOctets = xeIf + "statistics/in-octets"
	xeRxKbps   = xeIf + "statistics/rx-kbps"
	xeIfKeys   = "name=GigabitEthernet1/0/1"
)

// TestDetectIOSXEInterface: IOS-XE's native interface oper-status leaving
// if-oper-state-ready (no-pass, lower-layer-down) while its admin-status
// is if-state-up is a critical link_down at the DOWN sample, resolved when
// it is ready again; admin-status if-state-down (oper-status no-pass with
// it, whichever leaf comes first) is an informational admin_down and no
// link_down. The interface's statistics (in-octets, rx-kbps; keys name=IF)
// are tied to it: neither learned nor alerted on while it is down. The same
// at 1 and 60 ticks per record and through checkpoints taken while down,
// restored in either key order. A control without the state leaves fires
// on the drop.
func TestDetectIOSXEInterface(t *testing.T) {
	oper := func(i int) string {
		switch {
		case i >= 100 && i < 160:
			return "if-oper-state-no-pass"
		case i >= 400 && i < 420:
			return "if-oper-state-lower-layer-down"
		case i >= 300 && i < 320:
			return "if-oper-state-no-pass"
		}
		return "if-oper-state-ready"
	}
	shut := func(i int) bool { return i >= 300 && i < 320 }
	down := func(i int) bool { return oper(i) != "if-oper-state-ready" }
	counts := byteCounts(600, down)
	rows := func(states bool) func(i int) []schemas.Sample {
		return func(i int) []schemas.Sample {
			admin, kbps := "if-state-up", 80_000.0
			if shut(i) {
				admin = "if-state-down"
			}
			if down(i) {
				kbps = 0
			}
			r := []schemas.Sample{counterSample(xeInOctets, xeIfKeys, counts[i]),
				{Kind: schemas.KindGauge, Metric: xeRxKbps, Keys: xeIfKeys, F64: kbps + float64(i%7)*100}}
			if states {
				r = append(r, stateSample(xeAdmin, xeIfKeys, admin), stateSample(xeOper, xeIfKeys, oper(i)))
			}
			if i%2 == 0 {
				slices.Reverse(r)
			}
			return r
		}
	}
	want := []string{"firing link_down oper-status@100", "resolved link_down oper-status@160",
		"firing admin_down admin-status@300", "resolved admin_down admin-status@320",
		"firing link_down oper-status@400", "resolved link_down oper-status@420"}
	for _, per := range []int{1, 60} {
		d := newTestDetect(t, Config{})
		dets := process(t, d, sampleRecords(t, 600, per, rows(true)))
		if got := summary(dets); !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
			continue
		}
		for _, det := range dets {
			sev := schemas.SeverityCritical
			if det.Detector == "admin_down" {
				sev = schemas.SeverityInfo
			}
			if det.Severity != sev || det.Keys != xeIfKeys || det.Detector == "link_down" &&
				!strings.Contains(det.Annotations["description"], "(admin-status if-state-up)") {
				t.Errorf("%d ticks per record: %s %s: severity %s, keys %s, %q", per, det.State, det.Detector, det.Severity, det.Keys, det.Annotations["description"])
			}
		}
		// 599 rates, of which 61 + 21 + 21 are down or straddle it.
		k := schemas.SeriesKey{Device: dev, Metric: xeInOctets, Keys: xeIfKeys}
		if st := d.parts[0].series[k]; st == nil || st.points != 599-103 {
			t.Errorf("%d ticks per record: in-octets scored %v points, want %d", per, st.points, 599-103)
		}
	}
	recs := sampleRecords(t, 600, 1, rows(true))
	for _, c := range []struct{ at, from int }{{130, 1}, {310, 3}} {
		if got := summary(checkRestored(t, recs, c.at)); !slices.Equal(got, want[c.from:]) {
			t.Errorf("after %d: %v, want %v", c.at, got, want[c.from:])
		}
	}
	got := summary(process(t, newTestDetect(t, Config{}), sampleRecords(t, 600, 60, rows(false))))
	if len(got) == 0 || !strings.HasPrefix(got[0], "firing") {
		t.Errorf("control without states: %v, want the drop to fire", got)
	}
	t.Logf("control without states: %v", got)
}

// TestDetectIOSXEWithOpenConfigAdmin: an IOS-XE device streaming both
// OpenConfig's admin-status and oper-status and the native ones (keys
// name=IF on both) has two admin-status series on one interface. Shut at
// 100, the native admin-status says if-state-down at once and OpenConfig's
// (sampled later) DOWN from 102, while both oper-statuses go down at 100:
// the interface is shut while either admin-status says so, so it is two
// admin_down and no link_down, whatever order the series were made in
// (the rows' order) or restored in (a checkpoint at 101, in either key
// order). Enabled again at 120 (OpenConfig's admin-status UP from 122)
// with the oper-statuses still down until 140, it is a link_down on each
// once enable_grace (1 minute) has passed after the later enable.
func TestDetectIOSXEWithOpenConfigAdmin(t *testing.T) {
	rows := func(nativeFirst bool) func(i int) []schemas.Sample {
		return func(i int) []schemas.Sample {
			ocAdmin, ocOper, xeA, xeO := "UP", "UP", "if-state-up", "if-oper-state-ready"
			if i >= 100 && i < 120 {
				xeA = "if-state-down"
			}
			if i >= 102 && i < 122 {
				ocAdmin = "DOWN"
			}
			if i >= 100 && i < 140 {
				ocOper, xeO = "DOWN", "if-oper-state-no-pass"
			}
			oc := []schemas.Sample{stateSample(stateevents.MetricAdminStatus, xeIfKeys, ocAdmin), stateSample(stateevents.MetricOperStatus, xeIfKeys, ocOper)}
			xe := []schemas.Sample{stateSample(xeAdmin, xeIfKeys, xeA), stateSample(xeOper, xeIfKeys, xeO)}
			if nativeFirst {
				return append(xe, oc...)
			}
			return append(oc, xe...)
		}
	}
	want := []string{"firing admin_down admin-status@100", "firing admin_down admin-status@102",
		"resolved admin_down admin-status@120", "resolved admin_down admin-status@122",
		"firing link_down oper-status@128", "firing link_down oper-status@128",
		"resolved link_down oper-status@140", "resolved link_down oper-status@140"}
	for _, nativeFirst := range []bool{false, true} {
		for _, per := range []int{1, 60} {
			dets := process(t, newTestDetect(t, Config{}), sampleRecords(t, 300, per, rows(nativeFirst)))
			if got := summary(dets); !slices.Equal(got, want) {
				t.Errorf("native rows first %v, %d ticks per record: %v, want %v", nativeFirst, per, got, want)
			}
		}
		checkRestored(t, sampleRecords(t, 300, 1, rows(nativeFirst)), 101)
	}
}
