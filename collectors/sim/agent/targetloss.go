package agent

import (
	"context"
	"fmt"
	"time"
)

// resubscribeTimeout bounds how long a step waits for the subscribers of
// a device that is reachable again.
const resubscribeTimeout = 30 * time.Second

// reach applies the fleet's target_unreachable faults at the step of time
// now: a device that becomes unreachable stops serving (its streams end
// and it refuses connections, as Stop), and serves again (Start) at the
// first step after its window, so a real collector sees the target lost
// and back and publishes its state. The step that brings it back waits
// (within ctx and resubscribeTimeout) until as many STREAM subscribers as
// it had when lost are back, as the fleet waits for its collector at the
// start: a step nobody receives would be lost to gNMI, and a fleet that
// steps faster than the collector reconnects (telekernel run at full
// speed) would lose the rest of the device's span. A returning subscriber
// gets no snapshot of a step inside the window (the device sent nothing
// then). Step calls it before publishing.
func (a *Agent) reach(ctx context.Context, now time.Time) error {
	for i, d := range a.devices {
		down := a.fleet.Unreachable(i, now)
		if down == d.unreachable {
			continue
		}
		d.unreachable = down
		if down {
			if err := d.lose(ctx); err != nil {
				return err
			}
			continue
		}
		d.mu.Lock()
		d.cur, d.lost = nil, make(chan struct{})
		d.mu.Unlock()
		if err := a.Start(d.name); err != nil {
			return err
		}
		if err := d.waitSubscribers(ctx); err != nil {
			return err
		}
	}
	return nil
}

// lose makes the device unreachable: its STREAM subscriptions send what
// is queued and end (subscriber.lose), then its server stops gracefully
// (what was sent is delivered) and refuses connections until Start.
func (d *device) lose(ctx context.Context) error {
	d.mu.Lock()
	d.lostSubs = len(d.subs)
	close(d.lost)
	srv := d.srv
	d.srv = nil
	d.mu.Unlock()
	if err := d.waitSubscribersAtMost(ctx, 0); err != nil {
		return err
	}
	if srv != nil {
		srv.GracefulStop()
	}
	return nil
}

// waitSubscribers waits until the device has the STREAM subscribers it
// had when it was lost.
func (d *device) waitSubscribers(ctx context.Context) error {
	return d.waitFor(ctx, func(n int) bool { return n >= d.lostSubs }, "back after it was reachable again")
}

// waitSubscribersAtMost waits until the device has at most n STREAM
// subscribers.
func (d *device) waitSubscribersAtMost(ctx context.Context, n int) error {
	return d.waitFor(ctx, func(have int) bool { return have <= n }, "still open after it became unreachable")
}

// waitFor waits (within ctx and resubscribeTimeout) until ok holds for the
// device's count of STREAM subscribers.
func (d *device) waitFor(ctx context.Context, ok func(n int) bool, what string) error {
	deadline := time.Now().Add(resubscribeTimeout)
	for {
		d.mu.Lock()
		n := len(d.subs)
		done := ok(n)
		d.mu.Unlock()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sim agent: device %s: %d subscribers %s, after %v", d.name, n, what, resubscribeTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
