package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// Port speeds of power mode, as OpenConfig names them.
const (
	Speed10G  = "SPEED_10GB"
	Speed100G = "SPEED_100GB"
	Speed400G = "SPEED_400GB"
)

// PowerModel is the ground-truth power model of power mode. Components draw
// DC power from the PSUs, which share it equally; the PSUs draw it plus
// their losses from the mains:
//
//	DC = Chassis + Σ fans FanW·(rpm/FanRPM)³ + Σ admin-up ports PortW[speed]·(1 + Dynamic·util)
//	   + Σ present transceivers OpticW[speed]
//	input = Σ PSUs out + PSUIdle + PSULinear·out + PSUQuadratic·out²/PSUCapacity,  out = DC/2
//
// where util = (in+out)/(2·speed) of the port. This is not the form of the
// detectors/power model (linear in the ports, one input-referred
// coefficient each): fan power follows the fans' speed, which follows the
// chassis temperature, which follows the load; and PSU efficiency rises
// with load, from 85 % at 10 % of capacity to 91.6 % at its best near
// 50 % and 90.6 % at full load (the shape of 80 PLUS curves), so a watt
// more of DC costs less than the average efficiency says. The chassis and 1G figures
// follow CARPO's 48×1G switch (chassis 66.7 W, 43.8/48 W per 1G port,
// dynamic 5 % of static at full load); higher speeds are extrapolated.
type PowerModel struct {
	Chassis float64 `yaml:"chassis"` // W, without fans
	FanW    float64 `yaml:"fan_w"`   // W per running fan at FanRPM
	// FanRPM is the speed at which a fan draws FanW; its power follows the
	// cube of its speed (the fan affinity laws). 0: FanW per running fan,
	// whatever its speed.
	FanRPM  float64            `yaml:"fan_rpm"`
	PortW   map[string]float64 `yaml:"port_w"`  // W per admin-up port, by speed
	OpticW  map[string]float64 `yaml:"optic_w"` // W per present transceiver, by speed
	Dynamic float64            `yaml:"dynamic"` // share of a port's static power added at full utilisation
	// Efficiency is a PSU efficiency flat in load; 0 uses the PSU loss
	// curve (PSUIdle, PSULinear, PSUQuadratic, PSUCapacity).
	Efficiency   float64 `yaml:"efficiency"`
	PSUCapacity  float64 `yaml:"psu_capacity"`  // W out per PSU
	PSUIdle      float64 `yaml:"psu_idle"`      // W lost per PSU at no load
	PSULinear    float64 `yaml:"psu_linear"`    // W lost per W out
	PSUQuadratic float64 `yaml:"psu_quadratic"` // W lost per W out × out/capacity
	PartNo       string  `yaml:"part_no"`       // the chassis part number devices report
}

// DefaultPowerModel returns the ground truth used when Config.PowerModel is
// nil.
func DefaultPowerModel() PowerModel {
	return PowerModel{
		Chassis: 66.7, FanW: 6, FanRPM: 5000,
		PortW:       map[string]float64{Speed10G: 2.5, Speed100G: 5.5, Speed400G: 12},
		OpticW:      map[string]float64{Speed10G: 1, Speed100G: 3.5, Speed400G: 10},
		Dynamic:     0.05,
		PSUCapacity: 600, PSUIdle: 8.1, PSULinear: 0.04, PSUQuadratic: 0.05,
		PartNo: "TK-SIM-8",
	}
}

// FanWatts returns the DC power of a fan running at rpm.
func (m PowerModel) FanWatts(rpm float64) float64 {
	if rpm <= 0 {
		return 0
	}
	if m.FanRPM == 0 {
		return m.FanW
	}
	r := rpm / m.FanRPM
	return m.FanW * r * r * r
}

// PSUEfficiency returns a healthy PSU's efficiency at out watts of output.
func (m PowerModel) PSUEfficiency(out float64) float64 {
	if m.Efficiency > 0 {
		return m.Efficiency
	}
	loss := m.PSUIdle + m.PSULinear*out + m.PSUQuadratic*out*out/m.PSUCapacity
	return out / (out + loss)
}

// InputW returns the mains power of a device whose two PSUs share dc
// watts of output.
func (m PowerModel) InputW(dc float64) float64 {
	return dc / m.PSUEfficiency(dc/2)
}

// Linear is the closest a model linear in the components can come to a
// PowerModel near one operating point: input-referred watts per
// component, as detectors/power fits them.
type Linear struct {
	Base                 float64            // W: chassis, fans and the PSUs' fixed losses
	Port, Dynamic, Optic map[string]float64 // W by speed (Dynamic: at full utilisation)
}

// Linearise returns the tangent of the model at dc watts of DC power, of
// which fans draw fans: InputW(x) ≈ a + s·x near dc, so each component's
// watts count s times, and the base is a + s·(Chassis + fans). With a flat
// efficiency and flat fan power it is the model itself, input-referred.
func (m PowerModel) Linearise(dc, fans float64) Linear {
	const h = 1.0
	slope := (m.InputW(dc+h) - m.InputW(dc-h)) / (2 * h)
	l := Linear{Base: m.InputW(dc) - slope*dc + slope*(m.Chassis+fans),
		Port: map[string]float64{}, Dynamic: map[string]float64{}, Optic: map[string]float64{}}
	for sp, w := range m.PortW {
		l.Port[sp], l.Dynamic[sp], l.Optic[sp] = slope*w, slope*m.Dynamic*w, slope*m.OpticW[sp]
	}
	return l
}

// validate reports the first bad field of a configured model.
func (m PowerModel) validate() error {
	switch {
	case m.Efficiency < 0 || m.Efficiency > 1:
		return fmt.Errorf("power_model.efficiency: %v must be in (0,1], or 0 for the loss curve", m.Efficiency)
	case m.Efficiency == 0 && (m.PSUCapacity <= 0 || m.PSUIdle < 0 || m.PSULinear < 0 || m.PSUQuadratic < 0):
		return errors.New("power_model.psu_capacity: without an efficiency, psu_capacity must be > 0 and psu_idle, psu_linear, psu_quadratic >= 0")
	case m.FanRPM < 0:
		return fmt.Errorf("power_model.fan_rpm: %v must be >= 0", m.FanRPM)
	}
	for _, sp := range []string{Speed10G, Speed100G, Speed400G} {
		if _, ok := m.PortW[sp]; !ok {
			return fmt.Errorf("power_model.port_w: no %s", sp)
		}
		if _, ok := m.OpticW[sp]; !ok {
			return fmt.Errorf("power_model.optic_w: no %s", sp)
		}
	}
	return nil
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
				a.inService()
				b.inService()
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

// TrueDC returns the DC power (W) of device i at the last tick, in power
// mode, and the part of it its fans drew.
func (f *Fleet) TrueDC(i int) (dc, fans float64) { return f.devices[i].truthDC, f.devices[i].fanW }

// nextPSUs emits the PSUs: in power mode, their share of dc watts through
// the loss curve; otherwise a load-driven curve.
func (f *Fleet) nextPSUs(st *step, d *device, load, dc float64) {
	s := &st.s
	for i := 1; i <= 2; i++ {
		keys := fmt.Sprintf("name=PSU%d", i)
		// Two PSUs share the load: idle plus a part proportional to traffic.
		out := (180 + 420*load) / 2 * (1 + 0.01*d.rng.NormFloat64())
		volts := 230 + 1.5*d.rng.NormFloat64()
		eff := 0.94 - 0.05*(1-load)
		if f.cfg.Power {
			out = dc / 2 * (1 + 0.005*d.rng.NormFloat64())
			eff = f.model.PSUEfficiency(out)
		}
		for _, af := range d.psus[i-1] {
			if af.active(st.now) {
				eff -= af.factor
			} else if w := af.wearing(st.now); w > 0 {
				eff -= af.factor * w
			}
		}
		s.Keys = keys
		for _, m := range [...]struct {
			metric string
			v      float64
		}{{schemas.MetricPSUOutPower, round(out, 2)}, {schemas.MetricPSUInVoltage, round(volts, 2)}, {schemas.MetricPSUInCurrent, round(out/eff/volts, 3)}} {
			s.Metric, s.F64 = m.metric, m.v
			st.emit(s)
		}
	}
}

// nextPortConfig emits the port configuration of power mode and the
// chassis part number.
func (f *Fleet) nextPortConfig(st *step, d *device) {
	s := &st.s
	s.Kind = schemas.KindState
	for ii := range d.ifaces {
		it := &d.ifaces[ii]
		s.Keys = it.keys
		s.Metric, s.Str = schemas.MetricAdminStatus, "UP"
		if it.adminDown {
			s.Str = "DOWN"
		}
		st.emit(s)
		s.Metric, s.Str = schemas.MetricPortSpeed, it.speedName
		st.emit(s)
		s.Metric, s.Str = schemas.MetricAggregateID, it.lag
		st.emit(s)
		s.Keys, s.Metric, s.Str = it.opticKeys, schemas.MetricOpticPresent, "NOT_PRESENT"
		if it.optic {
			s.Str = "PRESENT"
		}
		st.emit(s)
		if f.cfg.Transceivers {
			s.Kind, s.Metric, s.F64, s.Str = schemas.KindGauge, schemas.MetricTemperature, it.optTemp, ""
			st.emit(s)
			s.Kind = schemas.KindState
		}
	}
	s.Keys, s.Metric, s.Str = "name=Chassis", schemas.MetricPartNo, f.model.PartNo
	st.emit(s)
}
