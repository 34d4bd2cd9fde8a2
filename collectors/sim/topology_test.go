package sim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// fabric is a fleet of 3 spines and 4 leaves at a 10 s interval.
func fabric(faults ...Fault) Config {
	return Config{Devices: 7, Interfaces: 5, Start: t0, Interval: 10 * time.Second, Topology: Topology{Spines: 3}, Faults: faults}
}

// trace is the samples of a run, by series.
type trace map[schemas.SeriesKey][]schemas.Sample

func (tr trace) get(t *testing.T, dev, metric, keys string) []schemas.Sample {
	t.Helper()
	s := tr[schemas.SeriesKey{Device: dev, Metric: metric, Keys: keys}]
	if len(s) == 0 {
		t.Fatalf("no series %s %s %s", dev, metric, keys)
	}
	return s
}

func runTrace(t *testing.T, cfg Config, ticks int) (trace, *Fleet) {
	t.Helper()
	got, f := run(t, cfg, ticks)
	return trace(got), f
}

// delta returns a counter's increase into sample i.
func delta(s []schemas.Sample, i int) uint64 { return s[i].U64 - s[i-1].U64 }

// peerOf returns the link with end B (leaf) at dev/ifc.
func peerOf(t *testing.T, f *Fleet, dev, ifc string) Link {
	t.Helper()
	for _, l := range f.Links() {
		if l.B.Device == dev && l.B.Interface == ifc {
			return l
		}
	}
	t.Fatalf("no link at %s %s", dev, ifc)
	return Link{}
}

func session(addr string) string { return BGPKeys + ",neighbor-address=" + addr }

func TestTopologyLinks(t *testing.T) {
	got, f := runTrace(t, fabric(), 30)
	links := f.Links()
	if len(links) != 12 {
		t.Fatalf("%d links, want 3 spines × 4 leaves", len(links))
	}
	spinePorts := map[string]bool{}
	for _, l := range links {
		si, li := deviceIndex(l.A.Device, 7), deviceIndex(l.B.Device, 7)
		if si > 2 || li < 3 || l.B.Interface != fmt.Sprintf("Ethernet%d", si+1) {
			t.Errorf("link %+v: want leaf uplink EthernetN to spine N-1", l)
		}
		if p := l.A.Device + l.A.Interface; spinePorts[p] {
			t.Errorf("spine port %s cabled twice", p)
		} else {
			spinePorts[p] = true
		}
		a, b := strings.Split(l.A.Address, "."), strings.Split(l.B.Address, ".")
		if a[0] != "10" || a[3]+"x" == b[3]+"x" || strings.Join(a[:3], ".") != strings.Join(b[:3], ".") {
			t.Errorf("link %+v: want a /31 of 10/8", l)
		}
		// What one end sends, the other receives.
		out := got.get(t, l.B.Device, schemas.MetricOutOctets, "name="+l.B.Interface)
		in := got.get(t, l.A.Device, schemas.MetricInOctets, "name="+l.A.Interface)
		for i := 1; i < len(in); i++ {
			if d1, d2 := delta(out, i), delta(in, i); d1 == 0 || max(d1, d2)-min(d1, d2) > 1 {
				t.Fatalf("link %+v tick %d: leaf sent %d octets, spine received %d", l, i, d1, d2)
			}
		}
	}
	// Deterministic from the seed, and the seed matters.
	_, g := runTrace(t, fabric(), 1)
	if !slices.Equal(links, g.Links()) {
		t.Error("the same seed gave another topology")
	}
	differs := false
	for seed := uint64(2); seed < 6 && !differs; seed++ {
		c := fabric()
		c.Seed = seed
		_, h := runTrace(t, c, 1)
		differs = !slices.Equal(links, h.Links())
	}
	if !differs {
		t.Error("four other seeds gave the same spine ports")
	}
	// Sessions: a leaf has one per spine, a spine one per leaf.
	if n := got.get(t, "sim-03", schemas.MetricBGPEstablished, BGPKeys)[0].F64; n != 3 {
		t.Errorf("leaf established-neighbors %v, want 3", n)
	}
	if n := got.get(t, "sim-00", schemas.MetricBGPEstablished, BGPKeys)[0].F64; n != 4 {
		t.Errorf("spine established-neighbors %v, want 4", n)
	}
}

func TestTopologySeriesOrder(t *testing.T) {
	for _, power := range []bool{false, true} {
		cfg := fabric()
		cfg.Power, cfg.Transceivers = power, power
		testSeriesOrder(t, cfg)
	}
}

func testSeriesOrder(t *testing.T, cfg Config) {
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n, dev, i := 0, -1, 0
	var series []Series
	f.Next(func(s *schemas.Sample) {
		if d := deviceIndex(s.Device, 7); d != dev {
			if dev >= 0 && i != len(series) {
				t.Fatalf("device %d: %d samples, DeviceSeries has %d", dev, i, len(series))
			}
			dev, i, series = d, 0, f.DeviceSeries(d)
		}
		if want := series[i]; s.Metric != want.Metric || s.Keys != want.Keys || s.Kind != want.Kind {
			t.Fatalf("%s sample %d is %s %s %v, DeviceSeries says %+v", s.Device, i, s.Metric, s.Keys, s.Kind, want)
		}
		i++
		n++
	})
	if n != f.SamplesPerTick() {
		t.Fatalf("%d samples, SamplesPerTick %d", n, f.SamplesPerTick())
	}
	// Per session: BGP state, prefixes, BFD state, then 2 LLDP leaves and
	// the port's LLDP neighbour count (not a leaf of the device).
	if len(f.DeviceSeries(0)) != f.SeriesPerDevice()+1+6*4 || len(f.DeviceSeries(3)) != f.SeriesPerDevice()+1+6*3 {
		t.Fatalf("spine %d and leaf %d series", len(f.DeviceSeries(0)), len(f.DeviceSeries(3)))
	}
	if len(f.DeviceLeaves(0)) != f.SeriesPerDevice()+1+5*4 || len(f.DeviceLeaves(3)) != f.SeriesPerDevice()+1+5*3 {
		t.Fatalf("spine %d and leaf %d leaves", len(f.DeviceLeaves(0)), len(f.DeviceLeaves(3)))
	}
}

// checkStates checks a state series against want, by tick index.
func checkStates(t *testing.T, what string, s []schemas.Sample, want map[int]string) {
	t.Helper()
	for i, w := range want {
		if s[i].Str != w {
			t.Errorf("%s at tick %d: %s, want %s", what, i, s[i].Str, w)
		}
	}
}

func TestLinkDown(t *testing.T) {
	// Ticks 60 … 71 are the fault's window [10m, 12m).
	got, f := runTrace(t, fabric(Fault{Device: "sim-04", Interface: "Ethernet2", Kind: FaultLinkDown, After: 10 * time.Minute, Duration: 2 * time.Minute}), 90)
	l := peerOf(t, f, "sim-04", "Ethernet2")
	for _, end := range []struct{ self, peer Endpoint }{{l.B, l.A}, {l.A, l.B}} {
		dev, k := end.self.Device, "name="+end.self.Interface
		checkStates(t, dev+" oper-status", got.get(t, dev, schemas.MetricOperStatus, k), map[int]string{59: "UP", 60: "DOWN", 71: "DOWN", 72: "UP"})
		checkStates(t, dev+" admin-status", got.get(t, dev, schemas.MetricAdminStatus, k), map[int]string{60: "UP", 65: "UP"})
		for _, m := range []string{schemas.MetricInOctets, schemas.MetricOutOctets} {
			s := got.get(t, dev, m, k)
			// The sample that shows DOWN still counts the interval before.
			if delta(s, 60) == 0 || delta(s, 73) == 0 {
				t.Errorf("%s %s: no traffic at the start (%d) or after the end (%d)", dev, m, delta(s, 60), delta(s, 73))
			}
			for i := 61; i <= 72; i++ {
				if delta(s, i) != 0 {
					t.Errorf("%s %s: %d octets at tick %d, link down", dev, m, delta(s, i), i)
				}
			}
		}
		ct := got.get(t, dev, schemas.MetricCarrierTransitions, k)
		if ct[59].U64 != 0 || ct[60].U64 != 1 || ct[71].U64 != 1 || ct[72].U64 != 2 {
			t.Errorf("%s carrier-transitions %d %d %d %d, want 0 1 1 2", dev, ct[59].U64, ct[60].U64, ct[71].U64, ct[72].U64)
		}
		sess := session(end.peer.Address)
		checkStates(t, dev+" bgp", got.get(t, dev, schemas.MetricBGPSessionState, sess), map[int]string{59: BGPEstablished, 60: BGPIdle, 71: BGPIdle, 72: BGPEstablished})
		est := got.get(t, dev, schemas.MetricBGPEstablished, BGPKeys)
		if est[65].F64 != est[59].F64-1 || est[72].F64 != est[59].F64 {
			t.Errorf("%s established-neighbors %v %v %v", dev, est[59].F64, est[65].F64, est[72].F64)
		}
		pfx := got.get(t, dev, schemas.MetricBGPPrefixesReceived, sess+",afi-safi-name="+AFISAFI)
		if pfx[59].F64 < 8 || pfx[65].F64 != 0 || pfx[72].F64 != pfx[59].F64 {
			t.Errorf("%s prefixes received %v %v %v", dev, pfx[59].F64, pfx[65].F64, pfx[72].F64)
		}
	}
	rows := map[string]int{}
	for _, r := range f.Labels() {
		if r.Kind != FaultLinkDown || !r.Start.Equal(t0.Add(10*time.Minute)) || !r.End.Equal(t0.Add(12*time.Minute)) || r.EffectOf != nil {
			t.Errorf("label %+v", r)
		}
		if (r.Device == l.B.Device) == (r.PeerDevice == l.B.Device) || r.PeerDevice == "" {
			t.Errorf("label %+v: peer is not the other end", r)
		}
		if r.Metric == schemas.MetricOperStatus && r.PeerKeys != "name="+map[bool]string{true: l.A.Interface, false: l.B.Interface}[r.Device == l.B.Device] {
			t.Errorf("label %+v: peer keys", r)
		}
		rows[r.Device]++
	}
	if len(rows) != 2 || rows[l.A.Device] != 10 || rows[l.B.Device] != 10 {
		t.Errorf("label rows by device %v, want 10 on each end", rows)
	}
}

func TestLinkFlapBothEnds(t *testing.T) {
	// 3 down/up cycles in 6 minutes: down in minutes 0, 2 and 4.
	cfg := fabric(Fault{Device: "sim-05", Interface: "Ethernet3", Kind: FaultLinkFlap, After: 10 * time.Minute, Duration: 6 * time.Minute, Flaps: 3})
	cfg.Interval = time.Minute
	got, f := runTrace(t, cfg, 20)
	l := peerOf(t, f, "sim-05", "Ethernet3")
	for _, e := range []Endpoint{l.A, l.B} {
		k := "name=" + e.Interface
		st := got.get(t, e.Device, schemas.MetricOperStatus, k)
		checkStates(t, e.Device+" oper-status", st, map[int]string{9: "UP", 10: "DOWN", 11: "UP", 12: "DOWN", 13: "UP", 14: "DOWN", 15: "UP", 16: "UP"})
		if ct := got.get(t, e.Device, schemas.MetricCarrierTransitions, k); ct[19].U64 != 6 {
			t.Errorf("%s: %d carrier transitions, want 6", e.Device, ct[19].U64)
		}
		if in := got.get(t, e.Device, schemas.MetricInOctets, k); delta(in, 12) != 0 || delta(in, 13) == 0 {
			t.Errorf("%s: traffic while down %d, up %d", e.Device, delta(in, 12), delta(in, 13))
		}
		checkStates(t, e.Device+" bfd", got.get(t, e.Device, schemas.MetricBFDSessionState, bfdKeys(f, e)), map[int]string{10: BFDDown, 11: BFDUp})
	}
	n := 0
	for _, r := range f.Labels() {
		if r.Kind == FaultLinkFlap && r.PeerDevice != "" {
			n++
		}
	}
	if n != 20 {
		t.Errorf("%d link_flap rows with a peer, want 20", n)
	}
	// Without flaps, the old behaviour: down on every other tick.
	cfg.Faults[0].Flaps = 0
	got, _ = runTrace(t, cfg, 20)
	checkStates(t, "every other tick", got.get(t, l.A.Device, schemas.MetricOperStatus, "name="+l.A.Interface), map[int]string{10: "DOWN", 11: "UP", 12: "DOWN", 13: "UP", 14: "DOWN", 15: "UP"})
}

// bfdKeys returns the BFD session keys of an endpoint.
func bfdKeys(f *Fleet, e Endpoint) string {
	for _, lk := range f.links {
		for i, ep := range []Endpoint{lk.A, lk.B} {
			if ep == e {
				return lk.keys[i].bfd
			}
		}
	}
	return ""
}

func TestBGPReset(t *testing.T) {
	// One session, then every session of a spine (a "clear bgp *").
	got, f := runTrace(t, fabric(
		Fault{Device: "sim-06", Interface: "Ethernet2", Kind: FaultBGPReset, After: 10 * time.Minute},
		Fault{Device: "sim-02", Kind: FaultBGPReset, After: 20 * time.Minute, Duration: 2 * time.Minute},
	), 140)
	l := peerOf(t, f, "sim-06", "Ethernet2")
	for _, end := range []struct{ self, peer Endpoint }{{l.B, l.A}, {l.A, l.B}} {
		dev, sess := end.self.Device, session(end.peer.Address)
		// 1 minute by default: Idle for 30 s, Active for 30 s.
		checkStates(t, dev+" bgp", got.get(t, dev, schemas.MetricBGPSessionState, sess), map[int]string{59: BGPEstablished, 60: BGPIdle, 62: BGPIdle, 63: BGPActive, 65: BGPActive, 66: BGPEstablished})
		est := got.get(t, dev, schemas.MetricBGPEstablished, BGPKeys)
		if est[60].F64 != est[59].F64-1 || est[66].F64 != est[59].F64 {
			t.Errorf("%s established-neighbors %v %v %v", dev, est[59].F64, est[60].F64, est[66].F64)
		}
		pfx := got.get(t, dev, schemas.MetricBGPPrefixesReceived, sess+",afi-safi-name="+AFISAFI)
		if pfx[60].F64 != 0 || pfx[66].F64 != pfx[59].F64 || pfx[59].F64 == 0 {
			t.Errorf("%s prefixes %v %v %v", dev, pfx[59].F64, pfx[60].F64, pfx[66].F64)
		}
		// The link itself stays up and carries traffic.
		k := "name=" + end.self.Interface
		checkStates(t, dev+" oper-status", got.get(t, dev, schemas.MetricOperStatus, k), map[int]string{61: "UP", 64: "UP"})
		if in := got.get(t, dev, schemas.MetricInOctets, k); delta(in, 62) == 0 {
			t.Errorf("%s: no traffic during a BGP reset", dev)
		}
	}
	est := got.get(t, "sim-02", schemas.MetricBGPEstablished, BGPKeys)
	if est[119].F64 != 4 || est[120].F64 != 0 || est[131].F64 != 0 || est[132].F64 != 4 {
		t.Errorf("spine clear: established-neighbors %v %v %v %v, want 4 0 0 4", est[119].F64, est[120].F64, est[131].F64, est[132].F64)
	}
	for leaf := 3; leaf < 7; leaf++ {
		if e := got.get(t, DeviceName(leaf), schemas.MetricBGPEstablished, BGPKeys); e[125].F64 != 2 {
			t.Errorf("leaf %d during the spine's clear: %v established, want 2", leaf, e[125].F64)
		}
	}
	rows := map[string]int{}
	for _, r := range f.Labels() {
		if r.Kind != FaultBGPReset || r.PeerDevice == "" || r.PeerKeys == "" {
			t.Errorf("label %+v", r)
		}
		rows[r.Metric]++
	}
	// 1 + 4 sessions, 2 ends each.
	if rows[schemas.MetricBGPSessionState] != 10 || rows[schemas.MetricBGPPrefixesReceived] != 10 || rows[schemas.MetricBGPEstablished] != 10 || len(rows) != 3 {
		t.Errorf("label rows by metric %v", rows)
	}
}

func TestReroute(t *testing.T) {
	ft := Fault{Device: "sim-03", Interface: "Ethernet1", Kind: FaultReroute, After: 10 * time.Minute, Duration: 5 * time.Minute}
	got, f := runTrace(t, fabric(ft), 100)
	base, _ := runTrace(t, fabric(), 100)
	failed := peerOf(t, f, "sim-03", "Ethernet1")
	for _, up := range []string{"Ethernet2", "Ethernet3"} {
		l := peerOf(t, f, "sim-03", up)
		for _, e := range []Endpoint{l.A, l.B} {
			for _, m := range []string{schemas.MetricInOctets, schemas.MetricOutOctets} {
				k := "name=" + e.Interface
				s, b := got.get(t, e.Device, m, k), base.get(t, e.Device, m, k)
				// After the window, only the carried fraction of an octet
				// may differ.
				if d0, d1 := int64(delta(s, 60)-delta(b, 60)), int64(delta(s, 91)-delta(b, 91)); d0 != 0 || d1 < -1 || d1 > 1 {
					t.Errorf("%s %s %s: traffic changed outside the window", e.Device, k, m)
				}
				for i := 61; i <= 90; i++ {
					// Each of the 2 other uplinks takes half of the lost
					// traffic: a rise, not a jump.
					r := float64(delta(s, i)) / float64(delta(b, i))
					if r < 1.3 || r > 1.7 {
						t.Fatalf("%s %s %s tick %d: %.2f × the undisturbed traffic", e.Device, k, m, i, r)
					}
				}
			}
		}
	}
	// The leaf's total out-traffic is conserved.
	var sum, sumBase uint64
	for _, ifc := range []string{"Ethernet1", "Ethernet2", "Ethernet3"} {
		sum += delta(got.get(t, "sim-03", schemas.MetricOutOctets, "name="+ifc), 70)
		sumBase += delta(base.get(t, "sim-03", schemas.MetricOutOctets, "name="+ifc), 70)
	}
	if math.Abs(float64(sum)/float64(sumBase)-1) > 1e-6 {
		t.Errorf("leaf out-traffic %d during the reroute, %d without", sum, sumBase)
	}
	checkStates(t, "failed uplink", got.get(t, failed.A.Device, schemas.MetricOperStatus, "name="+failed.A.Interface), map[int]string{60: "DOWN"})
	kinds := map[string]int{}
	for _, r := range f.Labels() {
		kinds[r.Kind]++
		if r.Kind == FaultReroute && (r.EffectOf == nil || *r.EffectOf != Cause{Kind: FaultLinkDown, Device: "sim-03", Keys: "name=Ethernet1"}) {
			t.Errorf("reroute row %+v: want effect_of the link_down", r)
		}
	}
	if kinds[FaultLinkDown] != 20 || kinds[FaultReroute] != 16 {
		t.Errorf("label rows by kind %v, want 20 link_down and 16 reroute (2 uplinks × 2 ends × in/out octets and packets)", kinds)
	}
}

// TestTopologyWithPower checks that power mode keeps every cabled port
// up at its link's speed, and its ground truth holds.
func TestTopologyWithPower(t *testing.T) {
	cfg := fabric()
	cfg.Power, cfg.Transceivers, cfg.Interval = true, true, time.Minute
	got, f := runTrace(t, cfg, 5)
	for _, l := range f.Links() {
		for _, e := range []Endpoint{l.A, l.B} {
			k := "name=" + e.Interface
			if st := got.get(t, e.Device, schemas.MetricOperStatus, k); st[4].Str != "UP" {
				t.Errorf("%s %s: oper-status %s", e.Device, k, st[4].Str)
			}
			if ad := got.get(t, e.Device, schemas.MetricAdminStatus, k); ad[4].Str != "UP" {
				t.Errorf("%s %s: admin-status %s", e.Device, k, ad[4].Str)
			}
		}
		a := got.get(t, l.A.Device, schemas.MetricPortSpeed, "name="+l.A.Interface)[0].Str
		if b := got.get(t, l.B.Device, schemas.MetricPortSpeed, "name="+l.B.Interface)[0].Str; a != b || a == "" {
			t.Errorf("link %+v: speeds %q and %q", l, a, b)
		}
	}
	for d := range 7 {
		var w float64
		for _, psu := range []string{"PSU1", "PSU2"} {
			k := "name=" + psu
			w += got.get(t, DeviceName(d), schemas.MetricPSUInVoltage, k)[4].F64 * got.get(t, DeviceName(d), schemas.MetricPSUInCurrent, k)[4].F64
		}
		if r := w / f.TruePower(d); r < 0.97 || r > 1.03 {
			t.Errorf("device %d: measured %.1f W, truth %.1f W", d, w, f.TruePower(d))
		}
	}
}

func TestTopologyValidation(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Devices: 4, Start: t0, Faults: []Fault{{Device: "sim-01", Interface: "Ethernet1", Kind: FaultLinkDown, Duration: time.Minute}}}, "faults[0].kind: link_down needs a topology"},
		{fabric(Fault{Device: "sim-03", Interface: "Ethernet5", Kind: FaultLinkDown, Duration: time.Minute}), "faults[0].interface"},
		{fabric(Fault{Device: "sim-00", Interface: "Ethernet1", Kind: FaultReroute, Duration: time.Minute}), "reroute needs a leaf uplink"},
		{fabric(Fault{Device: "sim-03", Interface: "Ethernet1", Kind: FaultLinkFlap, Duration: time.Minute, Flaps: 4}), "faults[0].flaps"},
		{fabric(Fault{Device: "sim-03", Interface: "Ethernet1", Kind: FaultLinkDown, Duration: time.Minute, Flaps: 1}), "only link_flap"},
		{Config{Devices: 7, Interfaces: 3, Start: t0, Topology: Topology{Spines: 3}}, "interfaces: 3 cannot"},
		{Config{Devices: 3, Start: t0, Topology: Topology{Spines: 3}}, "topology.spines: 3 spines leave no leaf"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg.Faults, err, c.want)
		}
	}
	// A link flap on an edge port of a fabric keeps its one-ended form.
	got, f := runTrace(t, fabric(Fault{Device: "sim-03", Interface: "Ethernet5", Kind: FaultLinkFlap, After: time.Minute, Duration: time.Minute}), 8)
	checkStates(t, "edge flap", got.get(t, "sim-03", schemas.MetricOperStatus, "name=Ethernet5"), map[int]string{6: "DOWN", 7: "UP"})
	if l := f.Labels(); len(l) != 5 || l[0].PeerDevice != "" {
		t.Errorf("edge flap labels %+v", l)
	}
}

// TestFleetInventory checks the fleet's inventory: every device with its
// role, every link, and per link end a BGP and a BFD session to the peer's
// address; it validates and the index finds each link's peer.
func TestFleetInventory(t *testing.T) {
	f, err := New(Config{Devices: 6, Interfaces: 4, Topology: Topology{Spines: 2}, Start: time.Unix(0, 0), Faults: []Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	inv := f.Inventory()
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(inv.Devices) != 6 || inv.Devices[1].Role != "spine" || inv.Devices[2].Role != "leaf" {
		t.Errorf("devices %+v", inv.Devices)
	}
	links := f.Links()
	if len(inv.Links) != 8 || len(links) != 8 || len(inv.Sessions) != 4*len(links) {
		t.Fatalf("%d links, %d sessions", len(inv.Links), len(inv.Sessions))
	}
	x := inv.Index()
	for _, lk := range links {
		p, ok := x.Peer(schemas.Port{Device: lk.B.Device, Interface: lk.B.Interface})
		if !ok || p.Device != lk.A.Device || p.Interface != lk.A.Interface {
			t.Errorf("peer of %v = %v", lk.B, p)
		}
		s, ok := x.Session(lk.A.Device, lk.B.Address)
		if !ok || s.Protocol != schemas.ProtocolBGP || s.Interface != lk.A.Interface || s.PeerDevice != lk.B.Device {
			t.Errorf("session of %v to %s = %+v", lk.A, lk.B.Address, s)
		}
	}
}

// TestPortFaultOnCabledPort: a fault that is not a link's (here a traffic
// spike) on a cabled port is applied and labelled like on an edge port;
// it was once swallowed by the topology and silently dropped.
func TestPortFaultOnCabledPort(t *testing.T) {
	cfg := fabric(Fault{Device: "sim-04", Interface: "Ethernet2", Kind: FaultTrafficSpike, After: 10 * time.Minute, Duration: 2 * time.Minute, Factor: 5})
	got, f := runTrace(t, cfg, 90)
	_ = peerOf(t, f, "sim-04", "Ethernet2") // the port is cabled
	s := got.get(t, "sim-04", schemas.MetricInOctets, "name=Ethernet2")
	if before, during := delta(s, 55), delta(s, 65); during < 3*before {
		t.Errorf("in-octets per tick %d before and %d during the spike, want ≥ 3×", before, during)
	}
	found := false
	for _, l := range f.Labels() {
		found = found || (l.Device == "sim-04" && l.Kind == FaultTrafficSpike && l.Keys == "name=Ethernet2")
	}
	if !found {
		t.Errorf("no traffic_spike label on sim-04 Ethernet2: %+v", f.Labels())
	}
}

// TestLinkFaultLabelsPackets: a link fault stops a port's traffic, so its
// packet counters stall as its octet counters do (they follow the same
// rates), and the labels name both, as a traffic_spike's name
// in-unicast-pkts: a flap on an edge port, and a link_down, link_flap,
// reroute or target_unreachable in a topology at both ends of the link.
// Before 2026-12-07 only the octet counters were labelled.
func TestLinkFaultLabelsPackets(t *testing.T) {
	min := func(m int) time.Duration { return time.Duration(m) * time.Minute }
	edge := Config{Devices: 2, Interfaces: 2, Start: t0, Interval: time.Minute,
		Faults: []Fault{{Device: "sim-00", Interface: "Ethernet1", Kind: FaultLinkFlap, After: min(10), Duration: min(5)}}}
	fab := func(kind string) Config {
		cfg := fabric(Fault{Device: "sim-04", Interface: "Ethernet1", Kind: kind, After: min(10), Duration: min(5)})
		cfg.Interval = time.Minute
		return cfg
	}
	tgt := fab(FaultTargetUnreachable)
	tgt.Faults[0].Interface = ""
	for _, cfg := range []Config{edge, fab(FaultLinkDown), fab(FaultLinkFlap), fab(FaultReroute), tgt} {
		ft := cfg.Faults[0]
		got, f := runTrace(t, cfg, 20)
		ends := []Endpoint{{Device: ft.Device, Interface: ft.Interface}}
		if ft.Kind == FaultTargetUnreachable {
			ends = ends[:0]
			for _, lk := range f.Links() {
				if lk.B.Device == ft.Device {
					ends = append(ends, lk.A, lk.B)
				}
			}
		} else if cfg.Topology.Spines > 0 {
			lk := peerOf(t, f, ft.Device, ft.Interface)
			ends = []Endpoint{lk.A, lk.B}
		}
		labelled := map[schemas.SeriesKey]bool{}
		for _, l := range f.Labels() {
			labelled[schemas.SeriesKey{Device: l.Device, Metric: l.Metric, Keys: l.Keys}] = true
		}
		for _, e := range ends {
			for _, m := range []string{schemas.MetricInUnicastPkts, schemas.MetricOutUnicastPkts} {
				k := schemas.SeriesKey{Device: e.Device, Metric: m, Keys: "name=" + e.Interface}
				if ft.Kind != FaultTargetUnreachable { // an unreachable device sends no samples
					if s := got.get(t, k.Device, k.Metric, k.Keys); delta(s, 9) == 0 || delta(s, 12) != 0 {
						t.Fatalf("%s: %v increase before %d, during %d: not what the fault does", ft.Kind, k, delta(s, 9), delta(s, 12))
					}
				}
				if !labelled[k] {
					t.Errorf("%s on %s %s: %v stalls during the window but no label names it", ft.Kind, ft.Device, ft.Interface, k)
				}
			}
		}
	}
}
