package power

import (
	"fmt"
	"sort"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Speeds the model knows, as OpenConfig names them, with their rates in
// bit/s.
var speedBps = map[string]uint64{
	"SPEED_10MB": 10e6, "SPEED_100MB": 100e6, "SPEED_1GB": 1e9, "SPEED_10GB": 10e9, "SPEED_25GB": 25e9,
	"SPEED_40GB": 40e9, "SPEED_50GB": 50e9, "SPEED_100GB": 100e9, "SPEED_200GB": 200e9, "SPEED_400GB": 400e9, "SPEED_800GB": 800e9,
}

// SpeedBps returns the rate of an OpenConfig port speed name in bit/s, or 0
// when it is not known.
func SpeedBps(speed string) uint64 { return speedBps[speed] }

// Priors are the coefficients of a device model before any measurement, in
// watts at the PSU input. Speeds missing from Port are not modelled: their
// ports count as zero and are reported in Estimator.Unmodelled.
type Priors struct {
	Base    float64            `yaml:"base"`    // chassis, fans, supervisor
	Port    map[string]float64 `yaml:"port"`    // per admin-up port, by speed
	Dynamic map[string]float64 `yaml:"dynamic"` // per port at full utilisation, by speed; default 5 % of Port
	Optic   map[string]float64 `yaml:"optic"`   // per present transceiver, by speed; default 0
	// RelStd is the prior's standard deviation relative to each
	// coefficient (with a floor of 1 W): how far the fit may move it.
	// Default 0.5.
	RelStd float64 `yaml:"rel_std"`
}

// DefaultPriors returns generic priors: a mid-size chassis and per-port
// figures in the range of vendor data sheets. They only need to be the
// right order of magnitude where devices report their power.
func DefaultPriors() Priors {
	return Priors{
		Base: 100,
		Port: map[string]float64{"SPEED_1GB": 1, "SPEED_10GB": 3, "SPEED_25GB": 4, "SPEED_40GB": 5, "SPEED_100GB": 7, "SPEED_400GB": 15},
		Optic: map[string]float64{"SPEED_1GB": 1, "SPEED_10GB": 1.5, "SPEED_25GB": 1.5, "SPEED_40GB": 3.5,
			"SPEED_100GB": 4, "SPEED_400GB": 12},
		RelStd: 0.5,
	}
}

// Defaults of Config.
const (
	DefaultWindow             = 15 * time.Minute
	DefaultMemory             = 100000
	DefaultSolveEvery         = 64
	DefaultResidualZ          = 6
	DefaultMinResidual        = 0.02
	DefaultResidualHistory    = 96
	DefaultUnderutilisedBelow = 0.3
	DefaultBundleFitBelow     = 0.5
	DefaultModelName          = "default"
	DefaultWarmUp             = 500
	DefaultPSUMaxAge          = 5 * time.Minute
)

// Config configures an Estimator.
type Config struct {
	// Priors of device models without an entry in Models; default
	// DefaultPriors.
	Priors Priors `yaml:"priors"`
	// Models holds priors by device model (the chassis part number a
	// device reports). What an entry leaves out (base, rel_std, speeds)
	// comes from Priors.
	Models map[string]Priors `yaml:"models"`
	// Window is the length of an output window (aligned to the epoch, in
	// device time); default DefaultWindow.
	Window time.Duration `yaml:"window"`
	// Memory is the effective number of measurements a fit remembers
	// (exponential forgetting); default DefaultMemory.
	Memory int `yaml:"memory"`
	// SolveEvery is how many measurements pass between two solves of a
	// model's normal equations; default DefaultSolveEvery.
	SolveEvery int `yaml:"solve_every"`
	// ResidualZ is the robust z-score of a window's mean relative residual
	// at which a residual anomaly fires; default DefaultResidualZ.
	ResidualZ float64 `yaml:"residual_z"`
	// MinResidual is the least relative residual (|measured−modelled|/
	// modelled, beyond the device's usual) that fires; default
	// DefaultMinResidual.
	MinResidual float64 `yaml:"min_residual"`
	// ResidualHistory is how many windows of residuals the z-score is
	// computed over; default DefaultResidualHistory.
	ResidualHistory int `yaml:"residual_history"`
	// PSUMaxAge is how long after it was last received (in the device's
	// time, whatever the reading's own stamp) a PSU reading still counts
	// towards a device's measured power; default DefaultPSUMaxAge.
	PSUMaxAge time.Duration `yaml:"psu_max_age"`
	// WarmUp is how many measurements a model must have been fitted on
	// before residuals are scored; default DefaultWarmUp.
	WarmUp int `yaml:"warm_up"`
	// UnderutilisedBelow is the utilisation under which a bundle member is
	// a candidate to shut down; default DefaultUnderutilisedBelow.
	UnderutilisedBelow float64 `yaml:"underutilised_below"`
	// BundleFitBelow is the utilisation the other members of the bundle
	// may reach when they take the candidate's traffic; default
	// DefaultBundleFitBelow.
	BundleFitBelow float64 `yaml:"bundle_fit_below"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Priors.Port == nil {
		c.Priors = DefaultPriors()
	}
	global := c.Priors
	c.Priors = c.Priors.withDefaults()
	models := make(map[string]Priors, len(c.Models))
	for k, p := range c.Models {
		models[k] = p.over(global).withDefaults()
	}
	c.Models = models
	cfgcheck.Default(&c.Window, DefaultWindow)
	cfgcheck.Default(&c.Memory, DefaultMemory)
	cfgcheck.Default(&c.SolveEvery, DefaultSolveEvery)
	cfgcheck.Default(&c.ResidualZ, DefaultResidualZ)
	cfgcheck.Default(&c.MinResidual, DefaultMinResidual)
	cfgcheck.Default(&c.ResidualHistory, DefaultResidualHistory)
	cfgcheck.Default(&c.PSUMaxAge, DefaultPSUMaxAge)
	cfgcheck.Default(&c.WarmUp, DefaultWarmUp)
	cfgcheck.Default(&c.UnderutilisedBelow, DefaultUnderutilisedBelow)
	cfgcheck.Default(&c.BundleFitBelow, DefaultBundleFitBelow)
	return c
}

// over returns p with what it leaves out taken from g: the base and
// rel_std when zero, and the speeds its maps do not name.
func (p Priors) over(g Priors) Priors {
	if p.Base == 0 {
		p.Base = g.Base
	}
	if p.RelStd == 0 {
		p.RelStd = g.RelStd
	}
	merge := func(own, base map[string]float64) map[string]float64 {
		out := make(map[string]float64, len(base)+len(own))
		for k, v := range base {
			out[k] = v
		}
		for k, v := range own {
			out[k] = v
		}
		return out
	}
	// A dynamic term follows its own port figure unless set explicitly.
	dyn := make(map[string]float64, len(g.Dynamic))
	for k, v := range g.Dynamic {
		if _, own := p.Port[k]; !own {
			dyn[k] = v
		}
	}
	p.Dynamic = merge(p.Dynamic, dyn)
	p.Port = merge(p.Port, g.Port)
	p.Optic = merge(p.Optic, g.Optic)
	return p
}

func (p Priors) withDefaults() Priors {
	if p.RelStd == 0 {
		p.RelStd = 0.5
	}
	dyn := make(map[string]float64, len(p.Port))
	for s, w := range p.Port {
		dyn[s] = 0.05 * w
		if d, ok := p.Dynamic[s]; ok {
			dyn[s] = d
		}
	}
	p.Dynamic = dyn
	return p
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	if err := c.Priors.validate(); err != nil {
		return fmt.Errorf("priors.%w", err)
	}
	for k, p := range c.Models {
		if err := p.validate(); err != nil {
			return fmt.Errorf("models[%s].%w", k, err)
		}
	}
	return cfgcheck.First(
		cfgcheck.Check(c.Window < time.Second, "window: %v is below 1s", c.Window),
		cfgcheck.Check(c.Memory < 10, "memory: %d is below 10", c.Memory),
		cfgcheck.Check(c.SolveEvery < 1, "solve_every: %d is below 1", c.SolveEvery),
		cfgcheck.Positive("residual_z", c.ResidualZ),
		cfgcheck.NonNegative("min_residual", c.MinResidual),
		cfgcheck.Check(c.ResidualHistory < 8, "residual_history: %d is below 8", c.ResidualHistory),
		cfgcheck.NonNegative("psu_max_age", c.PSUMaxAge),
		cfgcheck.NonNegative("warm_up", c.WarmUp),
		cfgcheck.Check(c.UnderutilisedBelow <= 0 || c.UnderutilisedBelow > 1, "underutilised_below: %v must be in (0,1]", c.UnderutilisedBelow),
		cfgcheck.Check(c.BundleFitBelow <= 0 || c.BundleFitBelow > 1, "bundle_fit_below: %v must be in (0,1]", c.BundleFitBelow),
	)
}

func (p Priors) validate() error {
	if len(p.Port) == 0 {
		return fmt.Errorf("port: no speeds")
	}
	if p.RelStd <= 0 {
		return fmt.Errorf("rel_std: %v must be positive", p.RelStd)
	}
	for _, m := range []map[string]float64{p.Port, p.Dynamic, p.Optic} {
		for s, w := range m {
			if speedBps[s] == 0 {
				return fmt.Errorf("port: speed %q is not an OpenConfig speed (e.g. SPEED_100GB)", s)
			}
			if w < 0 {
				return fmt.Errorf("port: %s %v W is negative", s, w)
			}
		}
	}
	return nil
}

// speeds returns the speeds of p in a fixed order.
func (p Priors) speeds() []string {
	out := make([]string, 0, len(p.Port))
	for s := range p.Port {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return speedBps[out[i]] < speedBps[out[j]] })
	return out
}
