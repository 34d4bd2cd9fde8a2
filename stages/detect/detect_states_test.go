package detect

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// tick is one timestamp of synthetic interface telemetry: the traffic
// counter and the state leaves (empty: not sent).
type tick struct {
	octets       uint64
	oper, admin  string
	carrier      uint64 // sent when > 0
	stateFirst   bool   // the state rows come before the counter row
	neighbors    float64
	hasNeighbors bool
	bgp          string // a BGP neighbour's session-state (empty: not sent)
	lldp         float64
	hasLLDP      bool // the interface's LLDP neighbour count is sent
}

const (
	dev   = "r1"
	iface = "name=Hu0/0/0/10"
	// neighborsMetric is the simulator's established-neighbours gauge.
	neighborsMetric = "/network-instances/network-instance/protocols/protocol/bgp/global/state/established-neighbors"
	bgpKeys         = "name=default,neighbor-address=192.0.2.1"
)

// records encodes ticks 10 s apart, per ticks-per-record.
func records(t *testing.T, ticks []tick, perRecord int) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i, tk := range ticks {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		s := schemas.Sample{TS: ts, Device: dev, Keys: iface, Source: schemas.SourceSim}
		states := func() {
			s.Kind = schemas.KindState
			for _, m := range []struct{ metric, v string }{{stateevents.MetricAdminStatus, tk.admin}, {stateevents.MetricOperStatus, tk.oper}} {
				if m.v != "" {
					s.Metric, s.Str = m.metric, m.v
					sb.Append(&s)
				}
			}
		}
		if tk.stateFirst {
			states()
		}
		s.Kind, s.Metric, s.U64 = schemas.KindCounter, schemas.MetricInOctets, tk.octets
		sb.Append(&s)
		if tk.carrier > 0 {
			s.Metric, s.U64 = stateevents.MetricCarrier, tk.carrier
			sb.Append(&s)
		}
		if !tk.stateFirst {
			states()
		}
		if tk.hasNeighbors {
			s.Kind, s.Keys, s.Metric, s.F64 = schemas.KindGauge, "", neighborsMetric, tk.neighbors
			sb.Append(&s)
		}
		if tk.bgp != "" {
			s.Kind, s.Keys, s.Metric, s.Str = schemas.KindState, bgpKeys, stateevents.MetricBGPSession, tk.bgp
			sb.Append(&s)
		}
		if tk.hasLLDP {
			s.Kind, s.Keys, s.Metric, s.F64 = schemas.KindGauge, iface, schemas.MetricLLDPNeighbors, tk.lldp
			sb.Append(&s)
		}
		if (i+1)%perRecord == 0 || i == len(ticks)-1 {
			recs = append(recs, recordOf(t, sb))
		}
	}
	return recs
}

// traffic makes n ticks of about 1 MB/s with the oper-status given by
// down(i) (admin UP throughout, unless adminDown(i)).
func traffic(n int, down, adminDown func(i int) bool) []tick {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []tick
	octets := uint64(1 << 30)
	for i := range n {
		tk := tick{oper: "UP", admin: "UP", stateFirst: i%2 == 0}
		switch {
		case adminDown(i):
			tk.oper, tk.admin = "DOWN", "DOWN"
		case down(i):
			tk.oper = "LOWER_LAYER_DOWN"
		default:
			octets += uint64(10e6 * (1 + 0.05*rng.NormFloat64()))
		}
		tk.octets = octets
		out = append(out, tk)
	}
	return out
}

// summary is "STATE DETECTOR METRIC@TICK" of each detection.
func summary(dets []*schemas.Detection) []string {
	var out []string
	for _, d := range dets {
		i := d.EventTime.Sub(t0) / (10 * time.Second)
		m := d.Metric[strings.LastIndexByte(d.Metric, '/')+1:]
		out = append(out, fmt.Sprintf("%s %s %s@%d", d.State, d.Detector, m, i))
	}
	return out
}

// TestDetectLinkDown: an interface whose oper-status leaves UP is one
// critical link_down detection at the state sample's time and one resolved
// when it is back, whatever the order of the state and counter rows and
// however many ticks a record holds (its carrier-transitions increments,
// explained by the oper-status, fire nothing of their own); its traffic is neither learned nor
// alerted on while down (a control without the state leaves shows the
// traffic drop does fire).
func TestDetectLinkDown(t *testing.T) {
	down := func(i int) bool { return i >= 400 && i < 460 }
	never := func(int) bool { return false }
	ticks := traffic(600, down, never)
	for i := range ticks {
		// carrier-transitions counts the change at the oper-status's own
		// timestamps: explained by it, so no carrier_flap of its own.
		ticks[i].carrier = 5 + uint64(min(max(i-399, 0), 1)) + uint64(min(max(i-459, 0), 1))
	}
	for _, c := range []struct {
		per  int
		flip bool // the state rows of the transitions' ticks come after their counters
	}{{1, false}, {1, true}, {7, false}, {60, false}, {60, true}} {
		per := c.per
		for i := range ticks {
			ticks[i].stateFirst = (i%2 == 0) != c.flip
		}
		d := newTestDetect(t, Config{})
		dets := process(t, d, records(t, ticks, per))
		want := []string{"firing link_down oper-status@400", "resolved link_down oper-status@460"}
		if got := summary(dets); !slices.Equal(got, want) {
			t.Errorf("%d ticks per record (states after counters at the transitions: %v): %v, want %v", per, c.flip, got, want)
		}
		for _, det := range dets {
			if det.Severity != schemas.SeverityCritical || det.Keys != iface || !strings.Contains(det.Annotations["description"], "admin-status UP") {
				t.Errorf("%d ticks per record: %s: severity %s, keys %s, %q", per, det.State, det.Severity, det.Keys, det.Annotations["description"])
			}
		}
		k := schemas.SeriesKey{Device: dev, Metric: schemas.MetricInOctets, Keys: iface}
		// 599 rates, of which ticks 400..460 are down or straddle it, and
		// 461 follows the carrier-transitions increment at 460: 62.
		if st := d.parts[0].series[k]; st == nil || st.points != 599-62 {
			t.Errorf("%d ticks per record: in-octets scored %v points, want %d", per, st.points, 599-62)
		}
	}
	// The control: the same traffic without state leaves fires on the drop.
	var bare []tick
	for _, tk := range traffic(600, down, never) {
		tk.oper, tk.admin = "", ""
		bare = append(bare, tk)
	}
	got := summary(process(t, newTestDetect(t, Config{}), records(t, bare, 60)))
	if len(got) == 0 || !strings.HasPrefix(got[0], "firing") || !(strings.HasSuffix(got[0], "in-octets@401") || strings.HasSuffix(got[0], "in-octets@402")) {
		t.Errorf("control without states: %v, want the drop to fire at 401 or 402 (confirm 2)", got)
	}
}

// TestDetectAdminDown: a shut interface is one informational admin_down
// detection (oper-status going down with it is no link_down, whichever
// leaf comes first), resolved when it is enabled again.
func TestDetectAdminDown(t *testing.T) {
	shut := func(i int) bool { return i >= 300 && i < 320 }
	never := func(int) bool { return false }
	d := newTestDetect(t, Config{})
	dets := process(t, d, records(t, traffic(400, never, shut), 60))
	want := []string{"firing admin_down admin-status@300", "resolved admin_down admin-status@320"}
	if got := summary(dets); !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
	if dets[0].Severity != schemas.SeverityInfo || dets[0].Score != 0 {
		t.Errorf("admin down: severity %s, score %v; want info, 0", dets[0].Severity, dets[0].Score)
	}
}

// TestDetectAdminBounces: an interface shut and enabled again four times
// in two minutes (the enable's admin-status UP applied before its
// oper-status UP, as at one timestamp) is four admin_down detections,
// no flapping: a link back from a shut is no flap.
func TestDetectAdminBounces(t *testing.T) {
	shut := func(i int) bool { return i >= 100 && i < 108 && i%2 == 0 }
	never := func(int) bool { return false }
	var want []string
	for i := 100; i < 108; i += 2 {
		want = append(want, fmt.Sprintf("firing admin_down admin-status@%d", i), fmt.Sprintf("resolved admin_down admin-status@%d", i+1))
	}
	for _, per := range []int{1, 60} {
		d := newTestDetect(t, Config{})
		if got := summary(process(t, d, records(t, traffic(200, never, shut), per))); !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
		}
	}
}

// TestDetectEnabledStillDown: an interface shut and enabled again whose
// link stays down is a link_down once the enable grace (1 minute) has
// passed, fired on the interface's next sample, and resolved when the
// link comes up; one that comes up within the grace is none. The same
// holds through a checkpoint taken during the grace.
func TestDetectEnabledStillDown(t *testing.T) {
	shut := func(i int) bool { return i >= 100 && i < 131 } // enabled inside a 60-tick record
	for _, c := range []struct {
		upAt int
		want []string
	}{
		{300, []string{"firing admin_down admin-status@100", "resolved admin_down admin-status@131",
			"firing link_down oper-status@137", "resolved link_down oper-status@300"}},
		{135, []string{"firing admin_down admin-status@100", "resolved admin_down admin-status@131"}},
	} {
		down := func(i int) bool { return i >= 131 && i < c.upAt }
		for _, per := range []int{60, 1} { // 60: the grace ends inside the record that enabled it
			recs := records(t, traffic(400, down, shut), per)
			d := newTestDetect(t, Config{})
			if got := summary(process(t, d, recs)); !slices.Equal(got, c.want) {
				t.Errorf("up at %d, %d ticks per record: %v, want %v", c.upAt, per, got, c.want)
			}
		}
		recs := records(t, traffic(400, down, shut), 1)
		a, b := newTestDetect(t, Config{}), newTestDetect(t, Config{})
		process(t, a, recs[:134])
		for k, v := range checkpoint(a) {
			if err := b.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		if da, db := summary(process(t, a, recs[123:])), summary(process(t, b, recs[123:])); !slices.Equal(da, db) {
			t.Errorf("up at %d: restored during the grace %v, without %v", c.upAt, db, da)
		}
	}
}

// TestDetectSessionFlappingResolves: a BGP session sent only on change
// that flaps is one flapping alert, which resolves on the device's other
// samples once it has been quiet for flap_quiet; a session left down after
// flapping becomes session_down instead. A restored stage does the same.
func TestDetectSessionFlappingResolves(t *testing.T) {
	never := func(int) bool { return false }
	for _, c := range []struct {
		last string // the session's state after its flaps
		want []string
	}{
		{"ESTABLISHED", []string{"firing session_down session-state@100", "resolved session_down session-state@101",
			"firing session_down session-state@102", "firing flapping session-state@103", "resolved flapping session-state@133"}},
		{"IDLE", []string{"firing session_down session-state@100", "resolved session_down session-state@101",
			"firing session_down session-state@102", "firing flapping session-state@103", "firing session_down session-state@134"}},
	} {
		ticks := traffic(300, never, never)
		ticks[0].bgp = "ESTABLISHED"
		for i, v := range []string{"IDLE", "ESTABLISHED", "IDLE", "ESTABLISHED", c.last} {
			ticks[100+i].bgp = v
		}
		for _, per := range []int{60, 1} {
			d := newTestDetect(t, Config{})
			if got := summary(process(t, d, records(t, ticks, per))); !slices.Equal(got, c.want) {
				t.Errorf("last %s, %d ticks per record: %v, want %v", c.last, per, got, c.want)
			}
		}
		recs := records(t, ticks, 1)
		a, b := newTestDetect(t, Config{}), newTestDetect(t, Config{})
		process(t, a, recs[:110])
		for k, v := range checkpoint(a) {
			if err := b.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		if da, db := summary(process(t, a, recs[110:])), summary(process(t, b, recs[110:])); !slices.Equal(da, db) || len(da) == 0 {
			t.Errorf("last %s: restored while flapping %v, without %v", c.last, db, da)
		}
	}
}

// TestDetectFlappingCarrierNeighbors: the simulator-like toggle is two
// link_down alerts then one flapping alert that resolves after the quiet
// period; a carrier-transitions increment is a carrier_flap at its sample
// (and keeps that sample's rate out of the baseline); a drop of the
// established-neighbours count fires and resolves when it is back; an
// unknown oper-status value is counted, not an error.
func TestDetectFlappingCarrierNeighbors(t *testing.T) {
	flap := func(i int) bool { return i >= 100 && i < 110 && i%2 == 0 }
	ticks := traffic(200, flap, func(int) bool { return false })
	for i := range ticks {
		ticks[i].carrier = 5
		if i >= 150 {
			ticks[i].carrier = 6
		}
		ticks[i].neighbors, ticks[i].hasNeighbors = 4, true
		if i >= 160 && i < 165 {
			ticks[i].neighbors = float64(i - 160) // 0, 1, 2, 3, 4
		}
	}
	ticks[170].oper = "vendor-foo"
	d := newTestDetect(t, Config{})
	got := summary(process(t, d, records(t, ticks, 60)))
	want := []string{
		"firing link_down oper-status@100", "resolved link_down oper-status@101", "firing link_down oper-status@102",
		"firing flapping oper-status@103", "firing carrier_flap carrier-transitions@150", "resolved carrier_flap carrier-transitions@151",
		"firing neighbors_down established-neighbors@160", "resolved neighbors_down established-neighbors@164",
		"resolved flapping oper-status@139", // 5 minutes after the last transition (109)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
	if n := testutil.ToFloat64(d.unknownStates[stateevents.ReasonUnknownValue]); n != 1 {
		t.Errorf("unknown state values counted %v, want 1", n)
	}
}

// TestDetectLLDPNeighborLost: an interface's LLDP neighbour count that
// drops while the link stays up is one lldp_neighbor_lost warning at the
// count's sample, naming the port and the counts, resolved when the
// neighbour is back. A drop while the port is down, or within the flap
// window after it went down (the device's hold time), is no alert of its
// own: the link_down is. A drop just before the link goes down fires and
// is resolved by the link_down. The same holds through a checkpoint.
func TestDetectLLDPNeighborLost(t *testing.T) {
	never := func(int) bool { return false }
	for _, c := range []struct {
		name       string
		down       func(i int) bool
		lost, back int // the count is 0 in [lost, back)
		want       []string
	}{
		{"link up", never, 200, 260, []string{"firing lldp_neighbor_lost neighbors@200", "resolved lldp_neighbor_lost neighbors@260"}},
		{"with the link", func(i int) bool { return i >= 200 && i < 260 }, 200, 260,
			[]string{"firing link_down oper-status@200", "resolved link_down oper-status@260"}},
		{"after the hold time", func(i int) bool { return i >= 200 && i < 260 }, 212, 261,
			[]string{"firing link_down oper-status@200", "resolved link_down oper-status@260"}},
		{"after a flap", func(i int) bool { return i == 200 }, 212, 214,
			[]string{"firing link_down oper-status@200", "resolved link_down oper-status@201"}},
		{"before the link", func(i int) bool { return i >= 200 && i < 260 }, 199, 260,
			[]string{"firing lldp_neighbor_lost neighbors@199", "firing link_down oper-status@200",
				"resolved lldp_neighbor_lost neighbors@200", "resolved link_down oper-status@260"}},
	} {
		ticks := traffic(400, c.down, never)
		for i := range ticks {
			ticks[i].hasLLDP, ticks[i].lldp = true, 1
			if i >= c.lost && i < c.back {
				ticks[i].lldp = 0
			}
		}
		for _, per := range []int{1, 60} {
			d := newTestDetect(t, Config{})
			dets := process(t, d, records(t, ticks, per))
			got := summary(dets)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Errorf("%s, %d ticks per record: %v, want %v", c.name, per, got, want)
				continue
			}
			for _, det := range dets {
				if det.Detector != "lldp_neighbor_lost" {
					continue
				}
				desc := det.Annotations["description"]
				if det.Severity != schemas.SeverityWarning || det.Keys != iface || det.Metric != schemas.MetricLLDPNeighbors ||
					!strings.Contains(desc, "LLDP neighbours on Hu0/0/0/10") {
					t.Errorf("%s: %s: severity %s, keys %s, metric %s, %q", c.name, det.State, det.Severity, det.Keys, det.Metric, desc)
				}
				if c.name == "link up" && det.State == schemas.StateFiring &&
					(det.Observed != 0 || det.Expected != 1 || !strings.Contains(desc, "0 at 2026-11-01T00:33:20Z (1 before the drop)")) {
					t.Errorf("%s: observed %v, expected %v, %q", c.name, det.Observed, det.Expected, desc)
				}
			}
		}
		recs := records(t, ticks, 1)
		a, b := newTestDetect(t, Config{}), newTestDetect(t, Config{})
		process(t, a, recs[:205])
		for k, v := range checkpoint(a) {
			if err := b.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		if da, db := summary(process(t, a, recs[205:])), summary(process(t, b, recs[205:])); !slices.Equal(da, db) {
			t.Errorf("%s: restored %v, without %v", c.name, db, da)
		}
	}
}

// TestDetectLinkFlapSim: the simulator's link_flap fault (oper-status DOWN
// every other tick for 5 minutes, no traffic while down) is detected at its
// first sample and is at most two link_down alerts and one flapping alert,
// which resolves after the quiet period; nothing else fires, and a stage
// restored from the changelog halfway through the flapping continues
// exactly.
func TestDetectLinkFlapSim(t *testing.T) {
	start := 35 * time.Minute
	faults := []sim.Fault{{Device: "sim-01", Interface: "Ethernet1", Kind: sim.FaultLinkFlap, After: start, Duration: 5 * time.Minute}}
	recs, _, _ := simMessages(t, 2, 360, faults)
	d := newTestDetect(t, Config{})
	dets := process(t, d, recs)
	got := summary(dets)
	t.Logf("%v", got)
	if len(dets) == 0 || dets[0].EventTime.Sub(t0) != start || dets[0].Detector != "link_down" {
		t.Fatalf("first detection %v, want link_down at the fault's start", got)
	}
	flapping, downs := 0, 0
	for _, det := range dets {
		if det.Device != "sim-01" || det.Keys != "name=Ethernet1" || det.Metric != schemas.MetricOperStatus {
			t.Errorf("unexpected detection %s %s %s %s %s", det.Device, det.Metric, det.Keys, det.State, det.Annotations)
		}
		if det.State == schemas.StateFiring && det.Detector == "flapping" {
			flapping++
		}
		if det.State == schemas.StateFiring && det.Detector == "link_down" {
			downs++
		}
	}
	last := dets[len(dets)-1]
	end := start + 5*time.Minute + stateevents.DefaultFlapQuiet
	if flapping != 1 || downs > 2 || last.State != schemas.StateResolved || last.Detector != "flapping" ||
		last.EventTime.Sub(t0) < end-10*time.Second || last.EventTime.Sub(t0) > end+10*time.Second {
		t.Errorf("%d flapping, %d link_down alerts, last %s %s at %v; want 1, at most 2, resolved flapping near %v",
			flapping, downs, last.State, last.Detector, last.EventTime.Sub(t0), end)
	}
	// Hand off while the flapping alert fires (records hold 60 ticks: cut
	// after the ones that end at 00:40).
	cut := 4 * 2
	a, b := newTestDetect(t, Config{}), newTestDetect(t, Config{})
	process(t, a, recs[:cut])
	for k, v := range checkpoint(a) {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	da, db := summary(process(t, a, recs[cut:])), summary(process(t, b, recs[cut:]))
	if !slices.Equal(da, db) || len(da) == 0 {
		t.Errorf("after the handoff %v, without %v", db, da)
	}
	if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Error("final states differ after the handoff")
	}
}

// TestDetectStateRecordStartsCold: a state series' changelog record of
// another version, or one that does not decode, restores as a series that
// starts cold with a warning, as an ensemble's does; it does not stop the
// stage.
func TestDetectStateRecordStartsCold(t *testing.T) {
	never := func(int) bool { return false }
	a := newTestDetect(t, Config{})
	process(t, a, records(t, traffic(50, never, never), 10))
	key := pipeline.StateKey(nil, schemas.SeriesKey{Device: dev, Metric: stateevents.MetricOperStatus, Keys: iface})
	rec := checkpoint(a)[string(key)]
	if rec == nil {
		t.Fatal("no oper-status record")
	}
	newer := slices.Clone(rec)
	newer[4]++ // the tracker's version byte, after the series header and its tag
	for name, v := range map[string][]byte{"newer": newer, "truncated": rec[:len(rec)-2], "bad status": append(slices.Clone(rec[:6]), append([]byte{9}, rec[7:]...)...)} {
		b := newTestDetect(t, Config{})
		if err := b.Restore(0, key, v); err != nil {
			t.Errorf("%s record: %v; want it to start cold", name, err)
		}
		if len(b.SeriesStates()) != 0 {
			t.Errorf("%s record: restored a series", name)
		}
	}
}

// TestDetectReadsStateV2: a version 2 record (the ensemble's, before the
// class byte) restores, and re-encodes as version 3 with the same
// ensemble state.
func TestDetectReadsStateV2(t *testing.T) {
	recs, _, _ := simMessages(t, 1, 120, nil)
	a := newTestDetect(t, Config{})
	process(t, a, recs)
	b := newTestDetect(t, Config{})
	n := 0
	for k, v := range checkpoint(a) {
		if v[0] == stateVersion && v[2] == 0 { // an ensemble series: write it as version 2 did
			v = append([]byte{2, v[1]}, v[3:]...)
			n++
		}
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 || !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Errorf("%d version 2 records restored; states equal: %v", n, maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal))
	}
	// A state record whose metric is no longer of its class starts cold.
	for k, v := range checkpoint(a) {
		_ = k
		if v[0] == stateVersion && v[2] != 0 {
			bad := pipeline.StateKey(nil, schemas.SeriesKey{Device: dev, Metric: schemas.MetricInOctets, Keys: iface})
			if err := b.Restore(0, bad, v); err != nil {
				t.Errorf("a state record on a counter metric: %v, want a cold start", err)
			}
			break
		}
	}
}

// TestDetectStateNoAlloc: following the interface's state allocates
// nothing per row: a steady record of 1000 ticks (counter, admin-status,
// oper-status) allocates about as much as the same record without the
// state rows (the record's decoding, about 250 allocations).
func TestDetectStateNoAlloc(t *testing.T) {
	never := func(int) bool { return false }
	var allocs [2]float64
	for i, withState := range []bool{false, true} {
		ticks := traffic(2000, never, never)
		for j := range ticks {
			if !withState {
				ticks[j].oper, ticks[j].admin = "", ""
			}
		}
		recs := records(t, ticks, 1000)
		d := newTestDetect(t, Config{})
		process(t, d, recs[:1])
		allocs[i] = testing.AllocsPerRun(5, func() { process(t, d, recs[1:]) })
	}
	t.Logf("allocations per record of 1000 ticks: %v without state rows, %v with 2000 more", allocs[0], allocs[1])
	if allocs[1] > allocs[0]+10 || math.IsNaN(allocs[1]) {
		t.Errorf("2000 state rows cost %v allocations", allocs[1]-allocs[0])
	}
}

// TestDetectStateLate: when an interface's state arrives three samples
// after the traffic stopped (the device stamps it late), the traffic drop
// fires first; the incident ends when traffic returns, with no new alert
// when the interface is UP again, and link_down carries the state
// sample's time. With carrier-transitions only (no oper-status, as in the
// bigdama18 capture), a drop that outlasts the flap's gate fires, and its
// description names the flap that explains it.
func TestDetectStateLate(t *testing.T) {
	down := func(i int) bool { return i >= 400 && i < 460 }
	never := func(int) bool { return false }
	ticks := traffic(600, down, never)
	// One record per tick; the state of tick i is stamped and sent with
	// tick i+3.
	for i := len(ticks) - 1; i > 2; i-- {
		ticks[i].oper, ticks[i].admin = ticks[i-3].oper, ticks[i-3].admin
	}
	d := newTestDetect(t, Config{})
	dets := process(t, d, records(t, ticks, 1))
	got := summary(dets)
	t.Logf("late states: %v", got)
	firing := 0
	for _, s := range got {
		if strings.HasPrefix(s, "firing") {
			firing++
		}
	}
	want := []string{"firing link_down oper-status@403", "resolved link_down oper-status@463"}
	if !slices.Contains(got, want[0]) || !slices.Contains(got, want[1]) || firing != 2 {
		t.Errorf("late states: %v; want %v and one traffic alert", got, want)
	}
	for _, det := range dets {
		if det.Metric == schemas.MetricInOctets && det.State == schemas.StateResolved {
			if at := det.EventTime.Sub(t0) / (10 * time.Second); at < 460 || at > 470 {
				t.Errorf("traffic alert resolved at tick %d, want when traffic returned (460)", at)
			}
		}
	}

	ticks = traffic(600, down, never)
	for i := range ticks {
		ticks[i].oper, ticks[i].admin, ticks[i].carrier = "", "", 5
		if i >= 400 {
			ticks[i].carrier = 6
		}
	}
	dets = process(t, newTestDetect(t, Config{}), records(t, ticks, 60))
	explained := false
	for _, det := range dets {
		if det.Metric == schemas.MetricInOctets && det.State == schemas.StateFiring {
			explained = strings.Contains(det.Annotations["description"], "; Hu0/0/0/10 carrier-transitions 6 at 2026-11-01T01:06:40Z")
			t.Logf("%s", det.Annotations["description"])
		}
	}
	if got := summary(dets); len(got) < 2 || got[0] != "firing carrier_flap carrier-transitions@400" || !explained {
		t.Errorf("carrier only: %v (traffic alert explained: %v)", got, explained)
	}
}

// TestDetectStatesConfigYAML: detect.states decodes strictly, durations as
// Go durations, and a bad value names its field.
func TestDetectStatesConfigYAML(t *testing.T) {
	f := func(src, wantErr string, want stateevents.Config) {
		t.Helper()
		var c Config
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		err := dec.Decode(&c)
		if err == nil {
			c = c.WithDefaults()
			err = c.Validate()
		}
		switch {
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: error %v, want %q", src, err, wantErr)
		case wantErr == "" && err != nil:
			t.Errorf("%q: %v", src, err)
		case wantErr == "" && c.States != want:
			t.Errorf("%q: %+v, want %+v", src, c.States, want)
		}
	}
	f("states: {flap_count: 6, flap_window: 10m, flap_quiet: 2m, enable_grace: 30s}", "",
		stateevents.Config{FlapCount: 6, FlapWindow: 10 * time.Minute, FlapQuiet: 2 * time.Minute, EnableGrace: 30 * time.Second, ShutGrace: 5 * time.Second})
	f("alert: {fire_z: 8}", "", stateevents.Config{FlapCount: 4, FlapWindow: 5 * time.Minute, FlapQuiet: 5 * time.Minute, EnableGrace: time.Minute, ShutGrace: 5 * time.Second})
	f("states: {enable_grace: -1s}", "states.enable_grace", stateevents.Config{})
	f("states: {flap_count: 1}", "states.flap_count: 1 is not in [2, 16]", stateevents.Config{})
	f("states: {flap_window: -1m}", "states.flap_window", stateevents.Config{})
	f("states: {flap: 3}", "field flap not found", stateevents.Config{})
}
