package incidents

import (
	"math"
	"slices"
	"strings"
)

// Why the engine resolved an incident whose member alerts did not all
// resolve (Engine.Closed): a device's alerts never resolve once it is
// decommissioned (the detect stage keeps its state series, and nothing
// sends their resolution), so without a bound its incident stays open for
// ever.
const (
	// ClosedDeviceRemoved: every member alert still firing is on a device
	// the inventory declared (with attributes, not a name LLDP reported)
	// when the alert last fired and lists no longer.
	ClosedDeviceRemoved = "device_removed"
	// ClosedStale: no evidence joined for Config.StaleAfter.
	ClosedStale = "stale"
)

// closeGone resolves, at engine time now (see clock), the open incidents whose
// firing member alerts are all on devices removed from the inventory
// (declared when the alert last fired, not listed now), and forgets that the
// alerts of removed devices fire in the others. It looks only after the
// inventory changed or the state was restored, and not while the
// inventory lists no device (none was given, or it is being replaced).
// It returns the incidents it resolved.
func (e *Engine) closeGone(now int64) []*incident {
	if !e.checkGone {
		return nil
	}
	e.checkGone = false
	if !e.invDevices {
		return nil
	}
	var out []*incident
	for _, in := range e.incs {
		if in.Resolved != 0 {
			continue
		}
		gone := e.dropGone(in)
		if len(gone) == 0 {
			continue
		}
		e.touch(in)
		if len(in.Firing) > 0 {
			continue // the others' alerts still fire; it resolves when they do
		}
		e.closeGoneAs(in, now, gone)
		out = append(out, in)
	}
	return out
}

// closeGoneAs resolves in, whose firing alerts were all on the devices
// gone (sorted), removed from the inventory, at engine time now.
func (e *Engine) closeGoneAs(in *incident, now int64, gone []string) {
	word := "device "
	if len(gone) > 1 {
		word = "devices "
	}
	e.closeAs(in, resolvedAt(max(now, in.Updated)), ClosedDeviceRemoved, word+strings.Join(gone, ", ")+" removed from the inventory")
}

// dropGone forgets that the alerts of in on devices removed from the
// inventory fire (see gone), and returns those devices, sorted. One pass
// over the members, from the latest, finds the last firing of each.
func (e *Engine) dropGone(in *incident) []string {
	if !e.invDevices {
		return nil
	}
	var fps, gone []string
	seen := make(map[string]bool, len(in.Firing))
	for i := len(in.Members) - 1; i >= 0 && len(seen) < len(in.Firing); i-- {
		m := &in.Members[i]
		if !m.Firing || m.Effect || !in.Firing[m.Fingerprint] || seen[m.Fingerprint] {
			continue
		}
		seen[m.Fingerprint] = true
		if e.removed(m) {
			fps = append(fps, m.Fingerprint)
			if !slices.Contains(gone, m.Device) {
				gone = append(gone, m.Device)
			}
		}
	}
	for _, fp := range fps {
		delete(in.Firing, fp)
	}
	slices.Sort(gone)
	return gone
}

// gone reports whether alert fp of in is on a device removed from the
// inventory: its latest firing was on a device the inventory declared
// then and lists no longer. The engine keeps no such alert firing (see
// closeGone and Add), so that one restored, which looks again, decides
// as one that was not.
func (e *Engine) gone(in *incident, fp string) bool {
	if !e.invDevices {
		return false
	}
	m := in.lastFiring(fp)
	return m != nil && e.removed(m)
}

// removed reports whether firing member m is on a device the inventory
// declared when m fired and lists no longer; the callers check that it
// lists devices (invDevices).
func (e *Engine) removed(m *member) bool {
	if !m.Known {
		return false
	}
	_, ok := e.inv.Device(m.Device)
	return !ok
}

// lastFiring returns in's latest firing member (not an effect) of alert
// fp, or nil: whether the inventory knew its device is that of the
// detection that last fired it.
func (in *incident) lastFiring(fp string) *member {
	for i := len(in.Members) - 1; i >= 0; i-- { // in event-time order (see insert)
		if m := &in.Members[i]; m.Fingerprint == fp && m.Firing && !m.Effect {
			return m
		}
	}
	return nil
}

// closeStale resolves the open incidents that took no evidence for
// StaleAfter before engine time now (see clock), each at its latest
// evidence plus StaleAfter, notes now as the time it found them stale
// (ClosedAt, see expiry), and returns them. It looks only when now is
// past staleAt, the earliest time an open incident may go stale (0:
// unknown, look).
func (e *Engine) closeStale(now int64) []*incident {
	if e.cfg.StaleAfter <= 0 || (e.staleAt != 0 && now <= e.staleAt) {
		return nil
	}
	var out []*incident
	next := int64(math.MaxInt64)
	for _, in := range e.incs {
		if in.Resolved != 0 {
			continue
		}
		at := e.staleFrom(in)
		if now <= at {
			next = min(next, at)
			continue
		}
		clear(in.Firing)
		e.touch(in)
		in.ClosedAt = now
		e.closeAs(in, resolvedAt(at), ClosedStale, "no evidence for "+e.cfg.StaleAfter.String())
		out = append(out, in)
	}
	e.staleAt = next
	return out
}

// staleFrom returns the event time after which open incident in is stale.
func (e *Engine) staleFrom(in *incident) int64 {
	d := int64(e.cfg.StaleAfter)
	if in.Updated > math.MaxInt64-d {
		return math.MaxInt64
	}
	return in.Updated + d
}

// closeAs resolves in at event time at for reason (ClosedDeviceRemoved,
// ClosedStale), note saying it for a person, and counts it.
func (e *Engine) closeAs(in *incident, at int64, reason, note string) {
	in.Resolved, in.Closed, in.Note = at, reason, note
	e.expireAt = min(e.expireAt, e.expiry(in))
	if e.Closed == nil {
		e.Closed = map[string]int{}
	}
	e.Closed[reason]++
}
