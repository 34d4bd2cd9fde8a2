package incidenteval

import (
	"fmt"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
)

// FullScenario is issue 15's fabric, 4 spines × 16 leaves (20 devices, 16
// interfaces, power mode, optics), with a root cause every 40 minutes
// from the first hour on, cycling through every kind: link down, link flap
// and reroute on a leaf uplink, a BGP reset of one session and of every
// session of a spine, a traffic spike, drop and rx errors on a leaf's edge
// port, a surge on two edge ports, a fan and a PSU failure, a counter
// reset, an optic decay, a leaf the collector loses. TestSimIncidentsFull
// scores it offline, cmd/telekernel's TestIncidentsFullStream through
// `telekernel run` on Kafka.
func FullScenario(span time.Duration) sim.Config {
	const spines, leaves = 4, 16
	leaf := func(i int) string { return sim.DeviceName(spines + i%leaves) }
	up := func(i int) string { return fmt.Sprintf("Ethernet%d", 1+i%spines) }
	edge := func(i int) string { return fmt.Sprintf("Ethernet%d", spines+1+i%(16-spines-1)) }
	m := time.Minute
	var faults []sim.Fault
	for i, at := 0, time.Hour; at+30*m < span; i, at = i+1, at+40*m {
		var add []sim.Fault
		switch i % 14 {
		case 0:
			add = []sim.Fault{{Device: leaf(i), Interface: up(i), Kind: sim.FaultLinkDown, Duration: 5 * m}}
		case 1:
			add = []sim.Fault{{Device: leaf(i), Interface: up(i), Kind: sim.FaultLinkFlap, Duration: 8 * m, Flaps: 3}}
		case 2:
			add = []sim.Fault{{Device: leaf(i), Interface: up(i), Kind: sim.FaultBGPReset}}
		case 3:
			add = []sim.Fault{{Device: leaf(i), Interface: up(i), Kind: sim.FaultReroute, Duration: 10 * m}}
		case 4:
			add = []sim.Fault{{Device: leaf(i), Interface: edge(i), Kind: sim.FaultTrafficSpike, Duration: 10 * m}}
		case 5:
			add = []sim.Fault{{Device: leaf(i), Interface: edge(i), Kind: sim.FaultTrafficSpike, Duration: 10 * m},
				{Device: leaf(i), Interface: edge(i + 1), Kind: sim.FaultTrafficSpike, Duration: 10 * m}}
		case 6:
			add = []sim.Fault{{Device: leaf(i), Interface: edge(i), Kind: sim.FaultTrafficDrop, Duration: 20 * m}}
		case 7:
			add = []sim.Fault{{Device: leaf(i), Component: "Fan1", Kind: sim.FaultFanFailure, Duration: 20 * m}}
		case 8:
			add = []sim.Fault{{Device: leaf(i), Component: "PSU2", Kind: sim.FaultPSUDegradation, Duration: 20 * m}}
		case 9:
			add = []sim.Fault{{Device: sim.DeviceName(i % spines), Kind: sim.FaultBGPReset}}
		case 10:
			add = []sim.Fault{{Device: leaf(i), Interface: edge(i), Kind: sim.FaultRxErrors, Duration: 30 * m}}
		case 11:
			add = []sim.Fault{{Device: leaf(i), Interface: edge(i), Kind: sim.FaultCounterReset}}
		case 12:
			add = []sim.Fault{{Device: leaf(i), Interface: edge(i), Kind: sim.FaultOpticDegradation, Duration: 30 * m}}
		case 13:
			add = []sim.Fault{{Device: leaf(i), Kind: sim.FaultTargetUnreachable, Duration: 5 * m}}
		}
		for _, f := range add {
			f.After = at
			faults = append(faults, f)
		}
	}
	return sim.Config{Devices: spines + leaves, Interfaces: 16, Topology: sim.Topology{Spines: spines}, Power: true, Transceivers: true, Faults: faults}
}
