package incidents

import (
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultWindow           = time.Minute
	DefaultReopen           = 5 * time.Minute
	DefaultDeviceInterfaces = 3
	DefaultSurgePorts       = 2
	DefaultSessionSpan      = 3 * time.Minute
	DefaultLateness         = 30 * time.Minute
	DefaultMaxEvidence      = 500
	DefaultMaxEntities      = 1000
	DefaultTargetLag        = 5 * time.Minute
	DefaultFarEndDevices    = 2
)

// Config configures an Engine.
type Config struct {
	// Window is how far apart in event time detections of one root cause
	// may start and still be grouped when only time and the device tie
	// them: link downs on one device (a line card), sessions reset
	// together, ingress rising on several ports, traffic moved to a link's
	// sibling uplinks after it went down. Default DefaultWindow (1m).
	Window time.Duration `yaml:"window"`
	// Reopen is how long a resolved incident still takes new evidence,
	// which reopens it under the same id (a flapping link is one incident).
	// Default DefaultReopen (5m, the state events' flap window).
	Reopen time.Duration `yaml:"reopen"`
	// DeviceInterfaces is how many interfaces of one device going down
	// within Window make a device (or line card) incident instead of link
	// incidents. Default DefaultDeviceInterfaces (3).
	DeviceInterfaces int `yaml:"device_interfaces"`
	// SurgePorts is how many ports of one device with ingress rising
	// within Window make a volumetric surge. Default DefaultSurgePorts (2).
	SurgePorts int `yaml:"surge_ports"`
	// SessionSpan is how long after it opened a session-reset incident
	// grouped by time alone (devices the inventory does not know) takes
	// new onsets, each within Window of the previous: routers cleared one
	// after another are one event, but sessions that keep dropping do not
	// chain into the next clear. Default DefaultSessionSpan (3m).
	SessionSpan time.Duration `yaml:"session_span"`
	// Lateness is how much longer, in event time, the engine holds an
	// incident it no longer lets new onsets join (resolved longer ago than
	// it may reopen), so that a detection arriving late (its detections
	// partition behind the others, as in a backfill) still joins it
	// instead of opening one of its own. It changes nothing for
	// detections in event-time order. Default DefaultLateness (30m: a
	// backfill of the simulator at full speed put detections partitions
	// more than 10 minutes of event time apart).
	Lateness time.Duration `yaml:"lateness"`
	// MaxEvidence bounds the evidence an incident's update lists: past it,
	// the update keeps the first MaxEvidence/2 member detections and the
	// latest ones in event time, and the detection that joined wherever
	// its time falls, and says how many it left out (EvidenceOmitted). Every
	// update carries the whole incident, about 310 bytes of JSON per item,
	// so an incident that keeps taking evidence (a link going down and up
	// for days, never quiet for Reopen) would otherwise outgrow the
	// broker's message size and stop the stage. The rules still see every
	// member. Default DefaultMaxEvidence (500, about 155 KB).
	MaxEvidence int `yaml:"max_evidence"`
	// MaxEntities bounds the entities an incident's update lists: past it,
	// the update keeps the first MaxEntities in the order they are named
	// (a device down by inference, then those of the members in event-time
	// order) and says how many it left out (EntitiesOmitted). Every update
	// carries the whole incident, about 120 bytes of JSON per entity, so
	// a storm of thousands of devices (a spine layer losing power under
	// 2 000 leaves names 10 000 entities, 1.2 MB) would otherwise outgrow
	// the producer's 1 MB record limit and stop the stage. The rules
	// still see every member, and such an update still names the devices
	// and sites of every entity (Devices, Sites: a device's name and 3
	// bytes each, 20 KB for 2 000 leaves; none past 100 KB of names,
	// maxNamesBytes).
	// Default DefaultMaxEntities (1000, about 120 KB: with the evidence's
	// 155 KB, under a third of 1 MB, room for names three times as long).
	MaxEntities int `yaml:"max_entities"`
	// StaleAfter, when set, resolves an open incident that took no
	// evidence for that long in event time (the engine's time at the
	// latest detection, its event time or, when earlier, its DetectedAt,
	// minus the event time of its latest evidence), at its latest
	// evidence plus StaleAfter, with ClosedStale and "resolved: no
	// evidence for …" in its cause: a bound for alerts that never
	// resolve, such as those of a device decommissioned while its link
	// was down and that the inventory never listed (an inventory that
	// drops a device it listed resolves its incidents at once,
	// ClosedDeviceRemoved). The detect stage does not repeat a firing
	// alert, so a fault that lasts longer than StaleAfter is resolved too,
	// and its resolution joins it later: the incident is held, while an
	// alert of it has not resolved, up to StaleAfter (plus Lateness) after
	// the detection that found it stale; a resolution later than that is
	// dropped (Engine.DroppedStale). Set it above the longest outage to be
	// kept open. Default 0: never (incidents wait for their alerts to
	// resolve).
	StaleAfter time.Duration `yaml:"stale_after"`
	// TargetLag is how long after the first symptom of an incident that
	// involves a device the collector may report that device lost (a
	// target_down or flapping target state) and still be taken as its
	// cause, while the incident is open: an SNMP target is DOWN only after
	// DownAfter (3) failed polls in a row, about 3 minutes after the
	// device died at the default 60 s interval, and a gNMI stream of a
	// device that lost power breaks only when TCP notices, while its
	// neighbours see their links to it go down at once. Default
	// DefaultTargetLag (5m).
	TargetLag time.Duration `yaml:"target_lag"`
	// FarEndDevices is how many devices whose links to one device go down
	// within Window, every link down in the incident facing that device
	// and nothing in it reported by the device itself, make that device
	// down by inference (a device incident) instead of link incidents: a
	// device no collector reports has no target state to name it (see
	// farend.go). Links of one device alone (parallel links, a line card)
	// are not enough, nor those of fewer than half the devices the
	// inventory links to that device. Default DefaultFarEndDevices (2).
	FarEndDevices int `yaml:"far_end_devices"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Window, DefaultWindow)
	cfgcheck.Default(&c.Reopen, DefaultReopen)
	cfgcheck.Default(&c.DeviceInterfaces, DefaultDeviceInterfaces)
	cfgcheck.Default(&c.SurgePorts, DefaultSurgePorts)
	cfgcheck.Default(&c.SessionSpan, DefaultSessionSpan)
	cfgcheck.Default(&c.Lateness, DefaultLateness)
	cfgcheck.Default(&c.MaxEvidence, DefaultMaxEvidence)
	cfgcheck.Default(&c.MaxEntities, DefaultMaxEntities)
	cfgcheck.Default(&c.TargetLag, DefaultTargetLag)
	cfgcheck.Default(&c.FarEndDevices, DefaultFarEndDevices)
	return c
}

// Validate reports the first field out of range, naming it.
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.Positive("window", c.Window),
		cfgcheck.NonNegative("reopen", c.Reopen),
		cfgcheck.NonNegative("lateness", c.Lateness),
		cfgcheck.NonNegative("stale_after", c.StaleAfter),
		cfgcheck.NonNegative("target_lag", c.TargetLag),
		cfgcheck.Check(c.DeviceInterfaces < 2, "device_interfaces: must be at least 2"),
		cfgcheck.Check(c.SurgePorts < 1, "surge_ports: must be at least 1"),
		cfgcheck.Check(c.FarEndDevices < 2, "far_end_devices: must be at least 2"),
		cfgcheck.Check(c.SessionSpan < c.Window, "session_span: %v must be at least window (%v)", c.SessionSpan, c.Window),
		cfgcheck.Check(c.MaxEvidence < 2, "max_evidence: must be at least 2"),
		cfgcheck.Check(c.MaxEntities < 1, "max_entities: must be at least 1"),
	)
}
