package agent

import "time"

// reach applies the fleet's target_unreachable faults at the step of time
// now: a device that becomes unreachable stops serving (its streams end
// and it refuses connections, as Stop), and serves again (Start) at the
// first step after its window, so a real collector sees the target lost
// and back and publishes its state. Step calls it before publishing.
func (a *Agent) reach(now time.Time) error {
	for i, d := range a.devices {
		down := a.fleet.Unreachable(i, now)
		if down == d.unreachable {
			continue
		}
		d.unreachable = down
		var err error
		if down {
			err = a.Stop(d.name)
		} else {
			err = a.Start(d.name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
