package config

import (
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
)

// ShowcaseDevices is the fleet size of the embedded default: two spines
// and eight leaves.
const ShowcaseDevices = 10

// showcaseSpines are the spines of the showcase fabric.
const showcaseSpines = 2

// ShowcaseFaults returns the faults of the embedded default, timed so that
// at the default speed (600 simulated seconds per wall second, a day of
// backfill) each capability shows within a minute of `telekernel run`: a
// traffic spike (detections), a leaf uplink going down with its traffic
// rerouted (state alerts on both ends), and an optic and a fan wearing out
// (predicted failures). Savings come from the power model's ports that are
// administratively up without a link (their ground truth:
// sim.Fleet.SavingLabels) and from idle bundle members.
func ShowcaseFaults() []sim.Fault {
	return []sim.Fault{
		{Device: "sim-03", Interface: "Ethernet3", Kind: sim.FaultTrafficSpike, After: 45 * time.Minute, Duration: time.Hour},
		{Device: "sim-05", Interface: "Ethernet1", Kind: sim.FaultReroute, After: 2 * time.Hour, Duration: 4 * time.Hour},
		{Device: "sim-04", Interface: "Ethernet4", Kind: sim.FaultOpticDegradation, After: time.Hour, Duration: 6 * time.Hour},
		{Device: "sim-07", Component: "Fan1", Kind: sim.FaultFanFailure, After: 7 * time.Hour, Duration: time.Hour, Precursor: 6 * time.Hour},
	}
}

// Fleet returns the simulator's configuration. On the embedded default
// (Showcase) with no faults or topology set and at least ShowcaseDevices
// devices, that is the showcase: a leaf/spine fabric with
// ShowcaseFaults, and as many interfaces as a spine needs for its leaves.
// Smaller fleets keep the simulator's default fault.
func (s Sim) Fleet() sim.Config {
	c := s.Config
	if !s.Showcase || c.Faults != nil || c.Topology.Spines != 0 || c.Devices < ShowcaseDevices {
		return c
	}
	c.Topology.Spines = showcaseSpines
	c.Interfaces = max(c.Interfaces, c.Devices-showcaseSpines)
	c.Faults = ShowcaseFaults()
	return c
}

// showcase sets the embedded default's fleet and the maintain stage's
// trend windows: ten-minute buckets, so that an hour of simulated wear (six
// wall seconds) is enough to fit a trend, where the stage's defaults (hour
// buckets, twelve of them at least) suit a real network. Its one-hour
// baseline learns no daily profile, so the model predicts no further than a
// quarter season (6 h) ahead: the daily load swing of healthy fans is not
// extrapolated to failures.
func (c *Config) showcase() {
	c.Sim.Showcase = true
	c.Sim.Devices = ShowcaseDevices
	c.Sim.Interfaces = 8
	m := &c.Maintain.Model
	m.Bucket, m.Window, m.MinBuckets, m.MinFit, m.Baseline = 10*time.Minute, 36, 6, 6, 6
}
