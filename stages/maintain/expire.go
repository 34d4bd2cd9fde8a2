package maintain

import "time"

// stale returns maintain.model.stale with its default: the tolerance of
// the partition's clock is expiry.Tolerance of it (half of it).
func (m *Stage) stale() time.Duration {
	return m.cfg.Model.WithDefaults().Stale
}

// expire closes the cases of the series of p silent for stale and
// forgets those silent for ten times as long, each device's judged at the
// partition's clock moved back into its own time by its offset (most are
// at offset 0; one whose clock is set ahead or behind the others' is
// judged on its own clock), so its close events carry its own time.
// Devices left without a key are then forgotten.
func (m *Stage) expire(p *maintainPart) {
	newest := p.clock.Newest
	// A key is judged by the offset that held when it was last sampled
	// (expiry.Device.At), in its device's own time.
	p.t.ExpireEach(func(dev string, last int64) int64 { return newest - (p.devs.At(dev, last) - last) })
	p.forgetKeyless(true)
}

// forgetKeyless forgets the devices of p that hold no series and no
// readings: their last key expired (or, restored, was a tombstone). A
// device not placed yet goes only at a sweep (swept): the instance that
// wrote a restored one's record kept it, without a key (its first sample
// a NaN reading stamped far ahead), until then.
func (p *maintainPart) forgetKeyless(swept bool) {
	if p.devs.Len() == 0 {
		return
	}
	p.dev, p.devName = nil, "" // it may be forgotten
	held := map[string]bool{}
	for _, k := range p.t.Keys() {
		held[k.Device] = true
	}
	for _, dev := range p.devs.Names() {
		if held[dev] || !swept && p.unplaced[dev] {
			continue
		}
		if _, ok := p.t.AppendDeviceState(nil, dev); !ok {
			p.devs.Forget(dev)
			delete(p.unplaced, dev)
		}
	}
}

// restoredUnplaced sets p.unplaced, restored from the changelog, to the
// devices whose records say they are not placed yet
// (expiry.Devices.KeepUnplaced).
func (p *maintainPart) restoredUnplaced() {
	clear(p.unplaced)
	for _, name := range p.devs.Names() {
		if !p.devs.Lookup(name).Placed() {
			if p.unplaced == nil {
				p.unplaced = map[string]bool{}
			}
			p.unplaced[name] = true
		}
	}
}
