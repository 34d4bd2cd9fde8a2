// Package sim simulates a fleet of network devices: interfaces with diurnal
// traffic counters, optional transceivers, temperatures, fans and power
// supplies whose power follows the traffic load, and injected faults (link
// flap, traffic spike or drop, optic degradation, fan failure, PSU
// degradation, counter reset) with ground-truth labels. With a topology
// (Config.Topology) the devices are cabled as leaves and spines, with BGP
// and BFD sessions and LLDP neighbours over the links (lldp.go).
//
// A Fleet is deterministic: the same Config gives the same samples, tick by
// tick, so tests can compare runs and count rows exactly. The agent
// subpackage serves a fleet over gNMI and SNMP.
package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/schemas"
)

// Defaults of Config.
const (
	DefaultDevices    = 20
	DefaultInterfaces = 4
	DefaultInterval   = 10 * time.Second
	DefaultSeed       = 1
)

// Counts of the simulated series, and how optics react to heat.
const (
	componentsPerDevice = 2 + 2 + 2*3 // temperature sensors, fans, PSU power/voltage/current
	powerPerInterface   = 4           // admin-status, port-speed, aggregate-id, transceiver present
	// opticBiasPerDegree is how much more laser bias current an optic
	// needs per °C above 40 °C (power mode with transceivers).
	opticBiasPerDegree = 0.015
	powerPerDevice     = 1 // chassis part number
	opticsPerInterface = 3 // input power, output power, laser bias
)

// Fault kinds.
const (
	FaultTrafficSpike     = "traffic_spike"     // inbound traffic × factor (default 5)
	FaultTrafficDrop      = "traffic_drop"      // inbound traffic × factor (default 0.05)
	FaultLinkFlap         = "link_flap"         // oper-status toggles DOWN/UP every tick, no traffic while down
	FaultOpticDegradation = "optic_degradation" // transceiver input power falls by factor dB (default 6) over the window, laser bias rises
	FaultFanFailure       = "fan_failure"       // the fan stops (0 rpm); the chassis runs hotter and the other fan faster; with a precursor its speed first falls by half (a worn bearing)
	FaultPSUDegradation   = "psu_degradation"   // PSU efficiency falls by factor (default 0.1): more input current for the same output; with a precursor it falls gradually
	FaultCounterReset     = "counter_reset"     // the interface counters restart from 0 at the start (as after a line-card reload)
	FaultRxErrors         = "rx_errors"         // inbound frame errors (FCS) rise linearly to factor per second (default 2) over the window: a dirty connector or decaying transmitter; back to normal at the end
	// Faults of a topology (Config.Topology), on both ends of a link.
	FaultLinkDown = "link_down" // oper-status DOWN on both ends (admin-status stays UP), no traffic from the next sample, BGP Idle and BFD DOWN over the link, carrier-transitions +1; back up at the end
	FaultBGPReset = "bgp_reset" // the BGP session over the link (every session of the device when no interface is given) goes Idle, then Active, and is Established again at the end (default duration 1m); established-neighbors and received prefixes drop and recover
	FaultReroute  = "reroute"   // a leaf uplink goes down as with link_down, and its traffic moves to the leaf's other uplinks (ECMP); those rows are labelled reroute, effect_of the link_down
)

// FaultKinds lists the fault kinds.
var FaultKinds = []string{FaultTrafficSpike, FaultTrafficDrop, FaultLinkFlap, FaultOpticDegradation, FaultFanFailure, FaultPSUDegradation, FaultCounterReset, FaultRxErrors,
	FaultLinkDown, FaultBGPReset, FaultReroute, FaultTargetUnreachable}

// Fault is an injected anomaly.
type Fault struct {
	Device string `yaml:"device"` // e.g. "sim-01"
	// Interface is the interface of traffic, link, optic and counter faults,
	// e.g. "Ethernet1". In power mode it is a port in service (admin up,
	// a link and an optic), whatever power mode would have drawn for it.
	Interface string `yaml:"interface"`
	// Component is the fan ("Fan1", "Fan2") or power supply ("PSU1",
	// "PSU2") of fan and PSU faults.
	Component string        `yaml:"component"`
	Kind      string        `yaml:"kind"`  // one of FaultKinds
	After     time.Duration `yaml:"after"` // start, relative to Config.Start
	// Duration of the fault; a counter reset happens once, at the start.
	Duration time.Duration `yaml:"duration"`
	Factor   float64       `yaml:"factor"` // strength; defaults by kind (see the kinds)
	// Precursor is, for fan failures and PSU degradations, how long before
	// After the component starts to wear: a fan's speed falls linearly to
	// half, a PSU's efficiency falls linearly by Factor, reaching it at
	// After. Default 0: the fault starts abruptly. Labels keep the fault's
	// start and end.
	Precursor time.Duration `yaml:"precursor"`
	// Flaps is, for link_flap, how many down/up cycles the window holds,
	// evenly spread (each half a cycle long, so 2·Flaps oper-status
	// transitions); default 0: down on every other sample of the window.
	Flaps int `yaml:"flaps"`
}

// target of a fault: what it needs.
func faultNeeds(kind string) (iface, component bool) {
	switch kind {
	case FaultFanFailure, FaultPSUDegradation:
		return false, true
	case FaultBGPReset:
		return false, false // optional: every session of the device
	case FaultTargetUnreachable:
		return false, false // the whole device (targetloss.go)
	}
	return true, false
}

// Label is the ground truth of one injected fault on one series, written
// as a JSON line. One fault gives a row per series it affects.
type Label struct {
	Device string    `json:"device"`
	Metric string    `json:"metric"`
	Keys   string    `json:"keys"`
	Kind   string    `json:"kind"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// PeerDevice and PeerKeys name the same series at the other end of the
	// link or BGP session, on the rows of topology faults; omitted
	// otherwise.
	PeerDevice string `json:"peer_device,omitempty"`
	PeerKeys   string `json:"peer_keys,omitempty"`
	// EffectOf names the fault a row is a consequence of (the link_down
	// behind a reroute); omitted on root causes.
	EffectOf *Cause `json:"effect_of,omitempty"`
}

// Config configures a Fleet.
type Config struct {
	Devices    int           `yaml:"devices"`    // default DefaultDevices
	Interfaces int           `yaml:"interfaces"` // per device; default DefaultInterfaces
	Interval   time.Duration `yaml:"interval"`   // sample interval; default DefaultInterval
	Seed       uint64        `yaml:"seed"`       // default DefaultSeed
	Start      time.Time     `yaml:"start"`      // time of the first tick; required (the caller picks a clock)
	// Transceivers adds an optic per interface (input and output power in
	// dBm, laser bias current in mA); default false, so the series of a
	// fleet stay as they were.
	Transceivers bool `yaml:"transceivers"`
	// Faults to inject. Nil means DefaultFaults; an empty list means none.
	Faults []Fault `yaml:"faults"`
	// Power gives every device a ground-truth power model (PowerModel):
	// PSU power follows chassis, per-port and traffic-proportional power
	// instead of the default load curve, ports get an admin state, a
	// speed, a transceiver (or none) and link bundles, and those are
	// emitted as series. With Transceivers, each optic also reports its
	// temperature, and its laser bias follows it (+1.5 % per °C above
	// 40 °C), so a hot chassis raises every bias. Default false, so the
	// series of a fleet stay as they were.
	Power bool `yaml:"power"`
	// PowerModel is the ground truth of power mode; nil means
	// DefaultPowerModel.
	PowerModel *PowerModel `yaml:"power_model"`
	// Changes are configuration changes applied during the run (power
	// mode only).
	Changes []Change `yaml:"changes"`
	// Topology cables the fleet as leaves and spines, with BGP and BFD
	// sessions over the links; default none.
	Topology Topology `yaml:"topology"`
}

// DefaultFaults returns the faults injected when Config.Faults is nil: one
// traffic spike on sim-01's Ethernet1, 45 minutes in, lasting 10 minutes.
func DefaultFaults() []Fault {
	return []Fault{{Device: DeviceName(1), Interface: "Ethernet1", Kind: FaultTrafficSpike, After: 45 * time.Minute, Duration: 10 * time.Minute}}
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Devices, DefaultDevices)
	cfgcheck.Default(&c.Interfaces, DefaultInterfaces)
	cfgcheck.Default(&c.Interval, DefaultInterval)
	cfgcheck.Default(&c.Seed, DefaultSeed)
	if c.Faults == nil {
		c.Faults = DefaultFaults()
		if c.Devices == 1 {
			c.Faults[0].Device = DeviceName(0)
		}
	}
	c.Faults = slices.Clone(c.Faults)
	for i := range c.Faults {
		if c.Faults[i].Factor == 0 {
			c.Faults[i].Factor = map[string]float64{FaultTrafficSpike: 5, FaultTrafficDrop: 0.05, FaultOpticDegradation: 6, FaultPSUDegradation: 0.1, FaultRxErrors: 2}[c.Faults[i].Kind]
		}
		if c.Faults[i].Kind == FaultCounterReset && c.Faults[i].Duration == 0 {
			c.Faults[i].Duration = c.Interval
		}
		if c.Faults[i].Kind == FaultBGPReset && c.Faults[i].Duration == 0 {
			c.Faults[i].Duration = time.Minute
		}
	}
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Devices < 1 || c.Devices > 100000:
		return fmt.Errorf("devices: %d must be between 1 and 100000", c.Devices)
	case c.Interfaces < 1 || c.Interfaces > 1024:
		return fmt.Errorf("interfaces: %d must be between 1 and 1024", c.Interfaces)
	case c.Interval < time.Millisecond:
		return fmt.Errorf("interval: %v is below 1ms", c.Interval)
	case c.Start.IsZero():
		return errors.New("start: must be set")
	}
	for i, f := range c.Faults {
		if !slices.Contains(FaultKinds, f.Kind) {
			return fmt.Errorf("faults[%d].kind: %q is not one of %s", i, f.Kind, strings.Join(FaultKinds, ", "))
		}
		if f.Duration <= 0 || f.After < 0 {
			return fmt.Errorf("faults[%d]: after must be >= 0 and duration > 0", i)
		}
		if f.Precursor < 0 || (f.Precursor > 0 && f.Kind != FaultFanFailure && f.Kind != FaultPSUDegradation) {
			return fmt.Errorf("faults[%d].precursor: only fan_failure and psu_degradation have one, and it must be >= 0", i)
		}
		if deviceIndex(f.Device, c.Devices) < 0 {
			return fmt.Errorf("faults[%d].device: %q is not one of sim-00 … %s", i, f.Device, DeviceName(c.Devices-1))
		}
		needIface, needComp := faultNeeds(f.Kind)
		if needIface && interfaceIndex(f.Interface, c.Interfaces) < 0 {
			return fmt.Errorf("faults[%d].interface: %q is not one of Ethernet1 … Ethernet%d", i, f.Interface, c.Interfaces)
		}
		if needComp {
			want := []string{"Fan1", "Fan2"}
			if f.Kind == FaultPSUDegradation {
				want = []string{"PSU1", "PSU2"}
			}
			if !slices.Contains(want, f.Component) {
				return fmt.Errorf("faults[%d].component: %q is not one of %s", i, f.Component, strings.Join(want, ", "))
			}
		}
		if f.Kind == FaultOpticDegradation && !c.Transceivers {
			return fmt.Errorf("faults[%d].kind: %s needs transceivers: true", i, f.Kind)
		}
	}
	if err := c.validateTopology(); err != nil {
		return err
	}
	if len(c.Changes) > 0 && !c.Power {
		return errors.New("changes: need power: true")
	}
	for i, ch := range c.Changes {
		switch {
		case deviceIndex(ch.Device, c.Devices) < 0:
			return fmt.Errorf("changes[%d].device: %q is not one of sim-00 … %s", i, ch.Device, DeviceName(c.Devices-1))
		case interfaceIndex(ch.Interface, c.Interfaces) < 0:
			return fmt.Errorf("changes[%d].interface: %q is not one of Ethernet1 … Ethernet%d", i, ch.Interface, c.Interfaces)
		case ch.After < 0:
			return fmt.Errorf("changes[%d].after: must be >= 0", i)
		case ch.Admin != "" && ch.Admin != "up" && ch.Admin != "down":
			return fmt.Errorf("changes[%d].admin: %q is not up or down", i, ch.Admin)
		case ch.Speed != "" && speedBytes[ch.Speed] == 0:
			return fmt.Errorf("changes[%d].speed: %q is not %s, %s or %s", i, ch.Speed, Speed10G, Speed100G, Speed400G)
		case ch.Optic != "" && ch.Optic != "insert" && ch.Optic != "remove":
			return fmt.Errorf("changes[%d].optic: %q is not insert or remove", i, ch.Optic)
		}
	}
	if c.PowerModel != nil {
		if err := c.PowerModel.validate(); err != nil {
			return err
		}
	}
	return nil
}

// DeviceName returns the name of device i.
func DeviceName(i int) string { return fmt.Sprintf("sim-%02d", i) }

func deviceIndex(name string, n int) int {
	for i := 0; i < n; i++ {
		if DeviceName(i) == name {
			return i
		}
	}
	return -1
}

func interfaceIndex(name string, n int) int {
	for i := 0; i < n; i++ {
		if fmt.Sprintf("Ethernet%d", i+1) == name {
			return i
		}
	}
	return -1
}

type iface struct {
	keys                 string
	opticKeys            string  // keys of its transceiver component
	speed                float64 // octets/s at full load
	base                 float64 // share of speed at the diurnal mean
	phase                float64 // hours
	inOct, outOct        uint64
	inPkts, outPkts      uint64
	inErr                uint64
	spike                []*activeFault // traffic spikes and drops
	flap, degrade, reset []*activeFault
	rxErrors             []*activeFault
	inErrRem             float64 // fractional errors carried between ticks
	inOctRem, outOctRem  float64 // fractional octets carried between ticks
	rxBase, txBase       float64 // dBm of a healthy optic
	biasBase             float64 // mA

	// Power mode.
	speedName string // Speed10G …
	adminDown bool
	noLink    bool    // admin up but no link (no cable or far end down)
	optic     bool    // a transceiver is present
	lag       string  // aggregate id, "" when not bundled
	optTemp   float64 // °C of its transceiver (with transceivers)

	// Topology.
	link       *link  // the cable on this port, nil when none
	end        int    // which end of link this port is
	carrier    uint64 // carrier-transitions
	lastStatus string // oper-status of the previous tick
}

// inService makes a port of power mode one in service, whatever the mode
// drew for it: admin up, with a link and an optic.
func (it *iface) inService() { it.adminDown, it.noLink, it.optic = false, false, true }

type activeFault struct {
	start, end time.Time
	wear       time.Time // start of the precursor; equal to start when none
	factor     float64
	done       bool // a counter reset that happened
	flaps      int  // link flap: down/up cycles in the window, 0 for every other tick
}

func (a *activeFault) active(now time.Time) bool { return !now.Before(a.start) && now.Before(a.end) }

// flapDown reports whether a link flap holds the link down at now.
func (a *activeFault) flapDown(now time.Time, interval time.Duration) bool {
	if !a.active(now) {
		return false
	}
	if a.flaps == 0 {
		return (now.Sub(a.start)/interval)%2 == 0
	}
	period := a.end.Sub(a.start) / time.Duration(a.flaps)
	return now.Sub(a.start)%period < period/2
}

// wearing returns how far into its precursor the fault is at now, in
// [0,1); 0 outside it.
func (a *activeFault) wearing(now time.Time) float64 {
	if now.Before(a.wear) || !now.Before(a.start) {
		return 0
	}
	return float64(now.Sub(a.wear)) / float64(a.start.Sub(a.wear))
}

type device struct {
	name   string
	ifaces []iface
	rng    *rand.Rand
	tempHW float64 // °C offset of this chassis
	fans   [2][]*activeFault
	psus   [2][]*activeFault
	// Power mode, at the last tick: noise-free PSU input power, DC power
	// and the fans' part of it.
	truthW, truthDC, fanW float64
	index                 int
	// sessions are the links of its cabled ports, in port order
	// (topology).
	sessions []*link
	// unreachable are its target_unreachable faults (targetloss.go).
	unreachable []*activeFault
}

// Fleet generates the samples of all simulated devices. It is not safe for
// concurrent use.
type Fleet struct {
	cfg     Config
	devices []device
	labels  []Label
	tick    int64
	model   PowerModel
	changes []change // power mode: pending, by time
	links   []*link  // topology: by spine, then leaf
	// lldpFixed makes Next emit vanished LLDP neighbours too (NextFixed).
	lldpFixed bool
}

// New returns a fleet whose first Next call yields the samples at cfg.Start.
func New(cfg Config) (*Fleet, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	f := &Fleet{cfg: cfg}
	for d := 0; d < cfg.Devices; d++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%d", cfg.Seed, d)
		rng := rand.New(rand.NewPCG(cfg.Seed, h.Sum64()))
		dev := device{name: DeviceName(d), index: d, rng: rng, tempHW: rng.Float64() * 6}
		for i := 0; i < cfg.Interfaces; i++ {
			speeds := []float64{1.25e9, 12.5e9, 50e9} // 10, 100, 400 Gb/s in octets/s
			it := iface{
				keys:  fmt.Sprintf("name=Ethernet%d", i+1),
				speed: speeds[rng.IntN(len(speeds))],
				base:  0.1 + 0.4*rng.Float64(),
				phase: rng.Float64() * 3,
			}
			start := uint64(rng.Int64N(1 << 40))
			if d == 0 && i == 0 {
				// Exercise full 64-bit precision: beyond 2^53 a float64
				// cannot hold every integer.
				start = 1<<62 + start
			}
			it.inOct, it.outOct = start, start/2
			it.inPkts, it.outPkts = start/800, start/1600
			dev.ifaces = append(dev.ifaces, it)
		}
		f.devices = append(f.devices, dev)
	}
	if cfg.Transceivers {
		// Drawn from a stream of their own, so turning optics on leaves
		// every other series as it was.
		for d := range f.devices {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(d)<<32|0x0971c5))
			for i := range f.devices[d].ifaces {
				it := &f.devices[d].ifaces[i]
				it.opticKeys = fmt.Sprintf("name=Ethernet%d-transceiver", i+1)
				it.rxBase = -2 - 3*rng.Float64()
				it.txBase = 0.5 + rng.Float64()
				it.biasBase = 6 + 2*rng.Float64()
			}
		}
	}
	if cfg.Power {
		f.initPower()
	}
	if cfg.Topology.Spines > 0 {
		f.initTopology()
	}
	for _, ft := range cfg.Faults {
		d := deviceIndex(ft.Device, cfg.Devices)
		dev := &f.devices[d]
		af := &activeFault{start: cfg.Start.Add(ft.After), end: cfg.Start.Add(ft.After + ft.Duration), factor: ft.Factor}
		af.wear = af.start.Add(-ft.Precursor)
		af.flaps = ft.Flaps
		if f.addTargetFault(ft, af) || f.links != nil && f.addTopologyFault(ft, af) {
			continue
		}
		label := func(keys string, metrics ...string) {
			for _, m := range metrics {
				f.labels = append(f.labels, Label{Device: ft.Device, Metric: m, Keys: keys, Kind: ft.Kind, Start: af.start.UTC(), End: af.end.UTC()})
			}
		}
		var it *iface
		if i := interfaceIndex(ft.Interface, cfg.Interfaces); i >= 0 {
			it = &dev.ifaces[i]
			if cfg.Power {
				// A fault named on a port is a fault of a port in
				// service: power mode's draw may have left it shut, without
				// a link or without an optic, where a traffic drop, a flap
				// or a degrading optic would change nothing its labels say.
				it.inService()
			}
		}
		switch ft.Kind {
		case FaultTrafficSpike, FaultTrafficDrop:
			it.spike = append(it.spike, af)
			label(it.keys, schemas.MetricInOctets, schemas.MetricInUnicastPkts)
		case FaultLinkFlap:
			it.flap = append(it.flap, af)
			label(it.keys, schemas.MetricOperStatus, schemas.MetricInOctets, schemas.MetricOutOctets, schemas.MetricInUnicastPkts, schemas.MetricOutUnicastPkts)
		case FaultOpticDegradation:
			it.degrade = append(it.degrade, af)
			label(it.opticKeys, schemas.MetricOpticInputPower, schemas.MetricOpticLaserBias)
		case FaultRxErrors:
			it.rxErrors = append(it.rxErrors, af)
			label(it.keys, schemas.MetricInErrors)
		case FaultCounterReset:
			it.reset = append(it.reset, af)
			label(it.keys, schemas.MetricInOctets, schemas.MetricOutOctets, schemas.MetricInUnicastPkts, schemas.MetricOutUnicastPkts, schemas.MetricInErrors)
		case FaultFanFailure:
			n := int(ft.Component[len(ft.Component)-1] - '1')
			dev.fans[n] = append(dev.fans[n], af)
			label("name="+ft.Component, schemas.MetricFanSpeed)
			// The chassis runs hotter, so the other fans, which follow the
			// hottest sensor, speed up.
			for o := range dev.fans {
				if o != n {
					label(fmt.Sprintf("name=Fan%d", o+1), schemas.MetricFanSpeed)
				}
			}
			label("name=CPU", schemas.MetricTemperature)
			label("name=Inlet", schemas.MetricTemperature)
		case FaultPSUDegradation:
			n := int(ft.Component[len(ft.Component)-1] - '1')
			dev.psus[n] = append(dev.psus[n], af)
			label("name="+ft.Component, schemas.MetricPSUInCurrent)
		}
	}
	return f, nil
}

// Config returns the fleet's configuration with defaults applied.
func (f *Fleet) Config() Config { return f.cfg }

// Labels returns the ground truth of the injected faults.
func (f *Fleet) Labels() []Label { return f.labels }

// SeriesPerDevice returns how many samples each device yields per tick
// before its topology series: len(Series()). With a topology, devices
// differ (a spine has a BGP session per leaf): see DeviceSeries and
// SamplesPerTick.
func (f *Fleet) SeriesPerDevice() int {
	n := f.cfg.Interfaces*6 + componentsPerDevice
	if f.cfg.Topology.Spines > 0 {
		n += f.cfg.Interfaces // carrier transitions
		if !f.cfg.Power {
			n += f.cfg.Interfaces // admin-status
		}
	}
	if f.cfg.Transceivers {
		n += f.cfg.Interfaces * opticsPerInterface
	}
	if f.cfg.Power {
		n += f.cfg.Interfaces*powerPerInterface + powerPerDevice
		if f.cfg.Transceivers {
			n += f.cfg.Interfaces // transceiver temperatures
		}
	}
	return n
}

// Series describes one series of a device.
type Series struct {
	Metric, Keys string
	Kind         schemas.Kind
}

// Series returns the series every device yields per tick, in the order Next
// emits them for each device (the same for all devices); with a topology,
// each device then has series of its own (DeviceSeries).
func (f *Fleet) Series() []Series {
	var out []Series
	for i := 1; i <= f.cfg.Interfaces; i++ {
		k := fmt.Sprintf("name=Ethernet%d", i)
		for _, m := range []string{schemas.MetricInOctets, schemas.MetricOutOctets, schemas.MetricInUnicastPkts, schemas.MetricOutUnicastPkts, schemas.MetricInErrors} {
			out = append(out, Series{m, k, schemas.KindCounter})
		}
		out = append(out, Series{schemas.MetricOperStatus, k, schemas.KindState})
		if f.cfg.Topology.Spines > 0 {
			out = append(out, Series{schemas.MetricCarrierTransitions, k, schemas.KindCounter})
			if !f.cfg.Power {
				out = append(out, Series{schemas.MetricAdminStatus, k, schemas.KindState})
			}
		}
	}
	for _, n := range []string{"CPU", "Inlet"} {
		out = append(out, Series{schemas.MetricTemperature, "name=" + n, schemas.KindGauge})
	}
	for _, n := range []string{"Fan1", "Fan2"} {
		out = append(out, Series{schemas.MetricFanSpeed, "name=" + n, schemas.KindGauge})
	}
	for _, n := range []string{"PSU1", "PSU2"} {
		for _, m := range []string{schemas.MetricPSUOutPower, schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent} {
			out = append(out, Series{m, "name=" + n, schemas.KindGauge})
		}
	}
	if f.cfg.Transceivers {
		for i := 1; i <= f.cfg.Interfaces; i++ {
			k := fmt.Sprintf("name=Ethernet%d-transceiver", i)
			for _, m := range []string{schemas.MetricOpticInputPower, schemas.MetricOpticOutputPower, schemas.MetricOpticLaserBias} {
				out = append(out, Series{m, k, schemas.KindGauge})
			}
		}
	}
	if f.cfg.Power {
		for i := 1; i <= f.cfg.Interfaces; i++ {
			k := fmt.Sprintf("name=Ethernet%d", i)
			for _, m := range []string{schemas.MetricAdminStatus, schemas.MetricPortSpeed, schemas.MetricAggregateID} {
				out = append(out, Series{m, k, schemas.KindState})
			}
			out = append(out, Series{schemas.MetricOpticPresent, k + "-transceiver", schemas.KindState})
			if f.cfg.Transceivers {
				out = append(out, Series{schemas.MetricTemperature, k + "-transceiver", schemas.KindGauge})
			}
		}
		out = append(out, Series{schemas.MetricPartNo, "name=Chassis", schemas.KindState})
	}
	return out
}

// DeviceSeries returns the series device i yields per tick, in the order
// Next emits them: Series(), then with a topology its BGP instance's
// established-neighbors and, per session in port order, the session
// state, received prefixes and BFD session state, and last, per cabled
// port in port order, its LLDP neighbour's system-name and port-id (which
// Next leaves out while the link is down: see NextFixed) and the port's
// LLDP neighbour count.
func (f *Fleet) DeviceSeries(i int) []Series {
	return append(append(f.Series(), f.topologySeries(i)...), f.lldpSeries(i, false)...)
}

// DeviceLeaves returns the series device i has as a device, in the order
// NextFixed emits them: DeviceSeries without the LLDP neighbour counts,
// which the collectors derive.
func (f *Fleet) DeviceLeaves(i int) []Series {
	return append(append(f.Series(), f.topologySeries(i)...), f.lldpSeries(i, true)...)
}

// SamplesPerTick returns how many samples a Next call yields (all
// devices) while every link is up.
func (f *Fleet) SamplesPerTick() int {
	n := f.LeavesPerTick()
	for _, d := range f.devices {
		if f.links != nil {
			n += lldpCountPerSession * len(d.sessions)
		}
	}
	return n
}

// LeavesPerTick returns how many samples a NextFixed call yields (all
// devices).
func (f *Fleet) LeavesPerTick() int {
	n := len(f.devices) * f.SeriesPerDevice()
	for _, d := range f.devices {
		if f.links != nil {
			n += 1 + (3+lldpPerSession)*len(d.sessions)
		}
	}
	return n
}

// Devices returns the device names.
func (f *Fleet) Devices() []string {
	out := make([]string, len(f.devices))
	for i := range f.devices {
		out[i] = f.devices[i].name
	}
	return out
}

// Now returns the time of the next tick.
func (f *Fleet) Now() time.Time { return f.cfg.Start.Add(time.Duration(f.tick) * f.cfg.Interval) }

// hashNoise returns a value in [-1, 1) from h.
func hashNoise(h uint64) float64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return float64(h>>11)/float64(1<<52) - 1
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}
