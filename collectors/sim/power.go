package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Port speeds of power mode, as OpenConfig names them.
const (
	Speed10G  = "SPEED_10GB"
	Speed100G = "SPEED_100GB"
	Speed400G = "SPEED_400GB"
)

// PowerModel is the ground-truth power model of power mode. Components draw
// DC power from the PSUs; the PSUs draw DC/Efficiency from the mains:
//
//	DC = Chassis + FanW·running fans + Σ admin-up ports PortW[speed]·(1 + Dynamic·util)
//	   + Σ present transceivers OpticW[speed]
//
// where util = (in+out)/(2·speed) of the port. The chassis and 1G figures
// follow CARPO's 48×1G switch (chassis 66.7 W, 43.8/48 W per 1G port, dynamic
// 5 % of static at full load); higher speeds are extrapolated.
type PowerModel struct {
	Chassis    float64            `yaml:"chassis"`    // W, without fans
	FanW       float64            `yaml:"fan_w"`      // W per running fan
	PortW      map[string]float64 `yaml:"port_w"`     // W per admin-up port, by speed
	OpticW     map[string]float64 `yaml:"optic_w"`    // W per present transceiver, by speed
	Dynamic    float64            `yaml:"dynamic"`    // share of a port's static power added at full utilisation
	Efficiency float64            `yaml:"efficiency"` // PSU efficiency, flat in load
	PartNo     string             `yaml:"part_no"`    // the chassis part number devices report
}

// DefaultPowerModel returns the ground truth used when Config.PowerModel is
// nil.
func DefaultPowerModel() PowerModel {
	return PowerModel{
		Chassis: 66.7, FanW: 6,
		PortW:   map[string]float64{Speed10G: 2.5, Speed100G: 5.5, Speed400G: 12},
		OpticW:  map[string]float64{Speed10G: 1, Speed100G: 3.5, Speed400G: 10},
		Dynamic: 0.05, Efficiency: 0.92, PartNo: "TK-SIM-8",
	}
}

// Change is a configuration change of power mode.
type Change struct {
	Device    string        `yaml:"device"`
	Interface string        `yaml:"interface"`
	After     time.Duration `yaml:"after"` // relative to Config.Start
	// Admin sets the admin state: "up" or "down"; empty leaves it.
	Admin string `yaml:"admin"`
	// Speed sets the port speed (Speed10G, Speed100G, Speed400G); empty
	// leaves it.
	Speed string `yaml:"speed"`
	// Optic inserts ("insert") or removes ("remove") the transceiver;
	// empty leaves it.
	Optic string `yaml:"optic"`
}

var (
	speedBytes = map[string]float64{Speed10G: 1.25e9, Speed100G: 12.5e9, Speed400G: 50e9}
	speedNames = map[float64]string{1.25e9: Speed10G, 12.5e9: Speed100G, 50e9: Speed400G}
)

type change struct {
	at     time.Time
	device int
	iface  int
	c      Change
}

// initPower draws the port configuration of power mode from a stream of
// its own, so turning it on leaves the traffic of every port as it was.
func (f *Fleet) initPower() {
	f.model = DefaultPowerModel()
	if f.cfg.PowerModel != nil {
		f.model = *f.cfg.PowerModel
	}
	for d := range f.devices {
		rng := rand.New(rand.NewPCG(f.cfg.Seed, uint64(d)<<32|0x90e2))
		dev := &f.devices[d]
		for i := range dev.ifaces {
			it := &dev.ifaces[i]
			it.speedName = speedNames[it.speed]
			if it.opticKeys == "" {
				it.opticKeys = fmt.Sprintf("name=Ethernet%d-transceiver", i+1)
			}
			it.optic = rng.Float64() < 0.9
			switch r := rng.Float64(); {
			case r < 0.1:
				it.adminDown = true
			case r < 0.2:
				it.noLink = true
			}
		}
		// Bundle pairs of ports (Ethernet1+2, 3+4, …) now and then; the
		// members share speed and load, like the two links to one peer.
		for i := 0; i+1 < len(dev.ifaces); i += 2 {
			if rng.Float64() < 0.35 {
				a, b := &dev.ifaces[i], &dev.ifaces[i+1]
				a.lag = fmt.Sprintf("Port-Channel%d", i/2+1)
				b.lag = a.lag
				b.speed, b.speedName, b.base, b.phase = a.speed, a.speedName, a.base, a.phase
				a.adminDown, b.adminDown, a.noLink, b.noLink, a.optic, b.optic = false, false, false, false, true, true
			}
		}
	}
	for _, c := range f.cfg.Changes {
		f.changes = append(f.changes, change{at: f.cfg.Start.Add(c.After), device: deviceIndex(c.Device, f.cfg.Devices), iface: interfaceIndex(c.Interface, f.cfg.Interfaces), c: c})
	}
	slices.SortStableFunc(f.changes, func(a, b change) int { return a.at.Compare(b.at) })
}

// applyChanges applies the configuration changes due at now.
func (f *Fleet) applyChanges(now time.Time) {
	for len(f.changes) > 0 && !now.Before(f.changes[0].at) {
		c := f.changes[0]
		f.changes = f.changes[1:]
		it := &f.devices[c.device].ifaces[c.iface]
		switch c.c.Admin {
		case "up":
			it.adminDown = false
		case "down":
			it.adminDown = true
		}
		if c.c.Speed != "" {
			it.speedName, it.speed = c.c.Speed, speedBytes[c.c.Speed]
		}
		switch c.c.Optic {
		case "insert":
			it.optic = true
		case "remove":
			it.optic = false
		}
	}
}

// PowerModel returns the ground truth of power mode (DefaultPowerModel
// unless configured); meaningful only when Config.Power is set.
func (f *Fleet) PowerModel() PowerModel { return f.model }

// TruePower returns the noise-free PSU input power (W) of device i at the
// last tick, in power mode: what a perfect model would say.
func (f *Fleet) TruePower(i int) float64 { return f.devices[i].truthW }
