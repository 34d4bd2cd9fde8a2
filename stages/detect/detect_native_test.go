package detect

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

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
// resolved at the next.
func TestDetectIOSXRCarrierFlap(t *testing.T) {
	for _, path := range []string{xrCarrier,
		"Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/total/generic-counters/carrier-transitions",
		"/infra-statistics/interfaces/interface/cache/generic-counters/carrier-transitions"} {
		for _, withDown := range []bool{false} {
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
