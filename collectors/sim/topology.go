package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// Keys of a fleet with a topology (Config.Topology). Its series are
// OpenConfig paths (schemas.MetricCarrierTransitions,
// schemas.MetricBGPSessionState, schemas.MetricBGPPrefixesReceived, schemas.MetricBFDSessionState)
// and schemas.MetricBGPEstablished: OpenConfig has no count of established
// neighbours, so that leaf is a telekernel name (IOS-XR and others report
// such a count in their native models).
const (
	// BGPKeys are the keys of every device's BGP instance, in the
	// canonical form the collectors give them (network-instance name,
	// then protocol identifier and name).
	BGPKeys = schemas.BGPInstanceKeys
	// AFISAFI is the address family of the simulated BGP sessions.
	AFISAFI = "IPV4_UNICAST"
)

// BGP session states (OpenConfig session-state) and BFD states the
// simulator reports.
const (
	BGPEstablished = "ESTABLISHED"
	BGPIdle        = "IDLE"
	BGPActive      = "ACTIVE"
	BFDUp          = "UP"
	BFDDown        = "DOWN"
)

// Topology configures a leaf/spine fabric over the fleet.
type Topology struct {
	// Spines is how many devices, from sim-00 on, are spines; the rest are
	// leaves. Leaf uplink EthernetN (N = 1 … Spines) is cabled to spine
	// sim-(N-1); each spine has one port per leaf, which one is drawn from
	// the seed. Every link carries an eBGP session (IPv4 /31 per link) and
	// a BFD session, and a leaf's uplinks share its traffic (ECMP). Needs
	// interfaces >= max(spines, leaves). Default 0: no topology, and the
	// series of a fleet stay as they were.
	Spines int `yaml:"spines"`
}

// Link is a cable between two interfaces of the fleet, with the BGP and
// BFD sessions over it.
type Link struct {
	A Endpoint // the spine's end
	B Endpoint // the leaf's end
}

// Endpoint is one end of a Link.
type Endpoint struct {
	Device    string // e.g. "sim-00"
	Interface string // e.g. "Ethernet3"
	// Address is the interface's IPv4 address: the BGP neighbour address
	// its peer uses.
	Address string
}

// Cause names the fault that a label row is an effect of.
type Cause struct {
	Kind   string `json:"kind"`
	Device string `json:"device"`
	Keys   string `json:"keys"`
}

// link is a Link and its state at the current tick.
type link struct {
	Link
	idx      int
	dev      [2]int // device index of end A (spine), B (leaf)
	port     [2]int // interface index of each end
	prefixes [2]float64
	keys     [2]linkKeys

	down, flap, reset, reroute []*activeFault

	// State at the current tick, written by stepLinks.
	rate   [2]float64 // octets/s from A to B (leaf in) and from B to A (leaf out)
	base   [2]float64 // rate before faults
	status string     // oper-status of both ends
	zero   bool       // no traffic in the interval ending now
	bgp    string     // session-state of both ends
}

// linkKeys are the series keys of one end of a link.
type linkKeys struct {
	iface, session, prefixes, bfd string
}

// ends returns the end (0 or 1) of lk on device d and its peer end.
func (lk *link) ends(d int) (int, int) {
	if lk.dev[0] == d {
		return 0, 1
	}
	return 1, 0
}

func ifaceName(i int) string { return "Ethernet" + strconv.Itoa(i+1) }

// linked reports whether interface i of device d is cabled in the
// topology (the spines' first Leaves ports, the leaves' first Spines).
func (c Config) linked(d, i int) bool {
	s := c.Topology.Spines
	if s == 0 {
		return false
	}
	if d < s {
		return i < c.Devices-s
	}
	return i < s
}

// validateTopology checks the topology section and the faults that need it.
func (c Config) validateTopology() error {
	s := c.Topology.Spines
	if s != 0 {
		switch leaves := c.Devices - s; {
		case s < 0 || s > 255:
			return fmt.Errorf("topology.spines: %d must be between 0 and 255", s)
		case leaves < 1:
			return fmt.Errorf("topology.spines: %d spines leave no leaf among %d devices", s, c.Devices)
		case c.Interfaces < max(s, leaves):
			return fmt.Errorf("interfaces: %d cannot give each spine a port per leaf (%d) and each leaf an uplink per spine (%d): set interfaces to at least %d", c.Interfaces, leaves, s, max(s, leaves))
		}
	}
	for i, f := range c.Faults {
		if f.Flaps != 0 && f.Kind != FaultLinkFlap {
			return fmt.Errorf("faults[%d].flaps: only link_flap has flaps", i)
		}
		if f.Flaps < 0 || (f.Flaps > 0 && f.Duration/time.Duration(2*f.Flaps) < c.Interval) {
			return fmt.Errorf("faults[%d].flaps: %d down/up cycles in %v need at least one sample (%v) in each half cycle", i, f.Flaps, f.Duration, c.Interval)
		}
		switch f.Kind {
		case FaultLinkDown, FaultBGPReset, FaultReroute:
		default:
			continue
		}
		if s == 0 {
			return fmt.Errorf("faults[%d].kind: %s needs a topology (topology.spines > 0)", i, f.Kind)
		}
		d, it := deviceIndex(f.Device, c.Devices), interfaceIndex(f.Interface, c.Interfaces)
		if f.Kind == FaultBGPReset && f.Interface == "" {
			continue // every session of the device
		}
		if !c.linked(d, it) {
			return fmt.Errorf("faults[%d].interface: %s %q is not cabled (leaves: Ethernet1 … Ethernet%d; spines: Ethernet1 … Ethernet%d)", i, f.Device, f.Interface, s, c.Devices-s)
		}
		if f.Kind == FaultReroute && (d < s || s < 2) {
			return fmt.Errorf("faults[%d]: reroute needs a leaf uplink and at least 2 spines; %s is a %s of %d spines", i, f.Device, map[bool]string{true: "spine", false: "leaf"}[d < s], s)
		}
	}
	return nil
}

// initTopology cables the leaves to the spines and sets up the sessions.
// It draws from a stream of its own, so every other series of a device
// stays as it was, except the spines' linked ports, which take the speed
// and traffic of their leaf's end.
func (f *Fleet) initTopology() {
	ns := f.cfg.Topology.Spines
	nl := len(f.devices) - ns
	rng := rand.New(rand.NewPCG(f.cfg.Seed, 0x70b0_1090))
	adv := make([]float64, nl) // prefixes each leaf advertises
	total := 0.0
	for l := range adv {
		adv[l] = float64(8 + rng.IntN(40))
		total += adv[l]
	}
	// A leaf's uplinks are alike (speed, load profile), as ECMP wants.
	for l := range nl {
		up := f.devices[ns+l].ifaces
		for s := 1; s < ns; s++ {
			up[s].speed, up[s].base, up[s].phase = up[0].speed, up[0].base, up[0].phase
		}
	}
	for s := range ns {
		perm := rng.Perm(nl)
		for l := range nl {
			lk := &link{idx: len(f.links), dev: [2]int{s, ns + l}, port: [2]int{perm[l], s}}
			net := fmt.Sprintf("10.%d.%d.", s, l>>7)
			lk.A = Endpoint{Device: DeviceName(s), Interface: ifaceName(perm[l]), Address: net + strconv.Itoa(2*(l&127))}
			lk.B = Endpoint{Device: DeviceName(ns + l), Interface: ifaceName(s), Address: net + strconv.Itoa(2*(l&127)+1)}
			// The spine learns the leaf's prefixes; the leaf learns every
			// other leaf's from the spine.
			lk.prefixes = [2]float64{adv[l], total - adv[l]}
			eps := [2]Endpoint{lk.A, lk.B}
			for e := range 2 {
				it := &f.devices[lk.dev[e]].ifaces[lk.port[e]]
				it.link, it.end = lk, e
				sess := BGPKeys + ",neighbor-address=" + eps[1-e].Address
				lk.keys[e] = linkKeys{iface: it.keys, session: sess, prefixes: sess + ",afi-safi-name=" + AFISAFI,
					bfd: fmt.Sprintf("id=%s,local-discriminator=%d", eps[e].Interface, 2*lk.idx+e+1)}
			}
			f.devices[s].ifaces[perm[l]].speed = f.devices[ns+l].ifaces[s].speed
			f.links = append(f.links, lk)
		}
	}
	for d := range f.devices {
		dev := &f.devices[d]
		for i := range dev.ifaces {
			if it := &dev.ifaces[i]; it.link != nil {
				dev.sessions = append(dev.sessions, it.link)
				if f.cfg.Power {
					cablePort(dev, i)
				}
			}
		}
	}
}

// cablePort makes a cabled port of power mode what its link needs: admin
// up, an optic, a link, its link's speed, and out of any bundle (whose
// members would differ in speed).
func cablePort(dev *device, i int) {
	it := &dev.ifaces[i]
	it.inService()
	it.speedName = speedNames[it.speed]
	if it.lag != "" {
		for j := range dev.ifaces {
			if dev.ifaces[j].lag == it.lag {
				dev.ifaces[j].lag = ""
			}
		}
	}
}

// Links returns the cables of the topology (nil without one): every
// spine-leaf pair, by spine then leaf.
func (f *Fleet) Links() []Link {
	var out []Link
	for _, lk := range f.links {
		out = append(out, lk.Link)
	}
	return out
}

// addTopologyFault attaches a fault to the link(s) it hits and writes its
// labels. It reports false for a fault that is not a link's (a link flap
// on an edge port, or any kind but link_down, link_flap, reroute and
// bgp_reset), which the port's own path then applies.
func (f *Fleet) addTopologyFault(ft Fault, af *activeFault) bool {
	d := deviceIndex(ft.Device, f.cfg.Devices)
	dev := &f.devices[d]
	var lk *link
	if i := interfaceIndex(ft.Interface, f.cfg.Interfaces); i >= 0 {
		lk = dev.ifaces[i].link
	}
	if lk == nil && ft.Kind != FaultBGPReset {
		return false
	}
	switch ft.Kind {
	case FaultLinkDown:
		lk.down = append(lk.down, af)
		f.labelLink(FaultLinkDown, af, lk, true, nil)
	case FaultLinkFlap:
		lk.flap = append(lk.flap, af)
		f.labelLink(FaultLinkFlap, af, lk, true, nil)
	case FaultReroute:
		lk.down = append(lk.down, af)
		lk.reroute = append(lk.reroute, af)
		f.labelLink(FaultLinkDown, af, lk, true, nil)
		cause := &Cause{Kind: FaultLinkDown, Device: ft.Device, Keys: dev.ifaces[lk.port[1]].keys}
		for _, sib := range dev.sessions {
			if sib != lk {
				f.labelLink(FaultReroute, af, sib, false, cause)
			}
		}
	case FaultBGPReset:
		for _, s := range dev.sessions {
			if lk == nil || s == lk {
				s.reset = append(s.reset, af)
				f.labelSession(af, s)
			}
		}
	default:
		// Not a link's fault (a traffic spike, an optic decaying, rx
		// errors on a cabled port): the port's own path applies it.
		return false
	}
	return true
}

// labelLink writes the label rows of a link event on both ends: with
// state, the interface and session series; without, the traffic (octets
// and packets) only (an effect).
func (f *Fleet) labelLink(kind string, af *activeFault, lk *link, state bool, cause *Cause) {
	for e := range 2 {
		k, pk := lk.keys[e], lk.keys[1-e]
		row := Label{Device: DeviceName(lk.dev[e]), Kind: kind, Start: af.start.UTC(), End: af.end.UTC(), PeerDevice: DeviceName(lk.dev[1-e]), EffectOf: cause}
		add := func(metric, keys, peerKeys string) {
			row.Metric, row.Keys, row.PeerKeys = metric, keys, peerKeys
			f.labels = append(f.labels, row)
		}
		// The packet counters follow the octets (a link down stops both,
		// rerouted traffic raises both).
		add(schemas.MetricInOctets, k.iface, pk.iface)
		add(schemas.MetricOutOctets, k.iface, pk.iface)
		add(schemas.MetricInUnicastPkts, k.iface, pk.iface)
		add(schemas.MetricOutUnicastPkts, k.iface, pk.iface)
		if !state {
			continue
		}
		add(schemas.MetricOperStatus, k.iface, pk.iface)
		add(schemas.MetricCarrierTransitions, k.iface, pk.iface)
		add(schemas.MetricBFDSessionState, k.bfd, pk.bfd)
		add(schemas.MetricBGPSessionState, k.session, pk.session)
		add(schemas.MetricBGPPrefixesReceived, k.prefixes, pk.prefixes)
		add(schemas.MetricBGPEstablished, BGPKeys, BGPKeys)
	}
}

// labelSession writes the label rows of a BGP session reset on both ends.
func (f *Fleet) labelSession(af *activeFault, lk *link) {
	for e := range 2 {
		k, pk := lk.keys[e], lk.keys[1-e]
		row := Label{Device: DeviceName(lk.dev[e]), Kind: FaultBGPReset, Start: af.start.UTC(), End: af.end.UTC(), PeerDevice: DeviceName(lk.dev[1-e])}
		for _, m := range [...][3]string{{schemas.MetricBGPSessionState, k.session, pk.session}, {schemas.MetricBGPPrefixesReceived, k.prefixes, pk.prefixes}, {schemas.MetricBGPEstablished, BGPKeys, BGPKeys}} {
			row.Metric, row.Keys, row.PeerKeys = m[0], m[1], m[2]
			f.labels = append(f.labels, row)
		}
	}
}

// stepLinks computes every link's traffic and state at now. The leaf's
// end of a link owns its traffic profile; noise comes from the tick and
// the link, so the devices' random streams are untouched.
func (f *Fleet) stepLinks(now time.Time, hour float64) {
	ts := uint64(now.UnixNano())
	for _, lk := range f.links {
		it := &f.devices[lk.dev[1]].ifaces[lk.port[1]]
		h := ts ^ uint64(lk.idx+1)*0x9e3779b97f4a7c15 ^ 0x11c
		diurnal := 1 + 0.6*math.Sin(2*math.Pi*(hour-14+it.phase)/24)
		util := math.Min(math.Max(it.base*diurnal*(1+0.04*hashNoise(h)), 0.001), 1)
		lk.base = [2]float64{util * it.speed, 0.7 * util * it.speed * (1 + 0.04*hashNoise(h+1))}
		lk.rate, lk.status, lk.zero, lk.bgp = lk.base, "UP", false, BGPEstablished
		for _, af := range lk.down {
			// Oper-status goes DOWN at the start; the counters still
			// carry the interval before it, and stay flat until the
			// sample after the end.
			if af.active(now) {
				lk.status = "DOWN"
			}
			if now.After(af.start) && !now.After(af.end) {
				lk.zero = true
			}
		}
		for _, af := range lk.flap {
			if af.flapDown(now, f.cfg.Interval) {
				lk.status, lk.zero = "DOWN", true
			}
		}
		for _, af := range lk.reset {
			if af.active(now) {
				// Idle after the clear, then Active (connecting) for the
				// second half of the window.
				lk.bgp = BGPIdle
				if now.Sub(af.start) >= af.end.Sub(af.start)/2 {
					lk.bgp = BGPActive
				}
			}
		}
		if lk.status == "DOWN" {
			lk.bgp = BGPIdle
		}
		if lk.zero {
			lk.rate = [2]float64{}
		}
	}
	for _, lk := range f.links {
		if len(lk.reroute) == 0 || !lk.zero {
			continue
		}
		// ECMP: the leaf's other uplinks that are up share the traffic of
		// the one that went down.
		var up []*link
		for _, sib := range f.devices[lk.dev[1]].sessions {
			if sib != lk && !sib.zero {
				up = append(up, sib)
			}
		}
		for _, sib := range up {
			for k := range 2 {
				sib.rate[k] += lk.base[k] / float64(len(up))
			}
		}
	}
}

// linkRates returns an interface's traffic (octets/s) and oper-status
// from its link at the current tick.
func (it *iface) linkRates() (in, out float64, status string) {
	lk := it.link
	return lk.rate[1-it.end], lk.rate[it.end], lk.status
}

// emitTopology emits device d's BGP and BFD series.
func (f *Fleet) emitTopology(d *device, s *schemas.Sample, emit func(*schemas.Sample)) {
	established := 0
	for _, lk := range d.sessions {
		if lk.bgp == BGPEstablished {
			established++
		}
	}
	s.Kind, s.Metric, s.Keys, s.F64, s.Str = schemas.KindGauge, schemas.MetricBGPEstablished, BGPKeys, float64(established), ""
	emit(s)
	for _, lk := range d.sessions {
		e, _ := lk.ends(d.index)
		k := lk.keys[e]
		s.Kind, s.Metric, s.Keys, s.F64, s.Str = schemas.KindState, schemas.MetricBGPSessionState, k.session, 0, lk.bgp
		emit(s)
		s.Kind, s.Metric, s.Keys, s.Str = schemas.KindGauge, schemas.MetricBGPPrefixesReceived, k.prefixes, ""
		if lk.bgp == BGPEstablished {
			s.F64 = lk.prefixes[e]
		}
		emit(s)
		s.Kind, s.Metric, s.Keys, s.F64, s.Str = schemas.KindState, schemas.MetricBFDSessionState, k.bfd, 0, BFDUp
		if lk.status == "DOWN" {
			s.Str = BFDDown
		}
		emit(s)
	}
}

// topologySeries returns device d's BGP and BFD series, in the order
// emitTopology emits them.
func (f *Fleet) topologySeries(d int) []Series {
	dev := &f.devices[d]
	if f.links == nil {
		return nil
	}
	out := []Series{{schemas.MetricBGPEstablished, BGPKeys, schemas.KindGauge}}
	for _, lk := range dev.sessions {
		e, _ := lk.ends(d)
		k := lk.keys[e]
		out = append(out, Series{schemas.MetricBGPSessionState, k.session, schemas.KindState},
			Series{schemas.MetricBGPPrefixesReceived, k.prefixes, schemas.KindGauge},
			Series{schemas.MetricBFDSessionState, k.bfd, schemas.KindState})
	}
	return out
}
