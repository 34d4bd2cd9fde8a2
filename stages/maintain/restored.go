package maintain

import "time"

// correctRestored corrects, before the first record after a restore,
// what a device threshold stamped far ahead left in a changelog written
// by an earlier build (stages/maintain now takes one at its device's
// present: aheadOf):
//
//   - builds before 2026-12-07 (d661818) placed it: its device's offset was set
//     back by as much (a year), from the threshold's stamp on, where no
//     key of the device holds a reading, so none could count toward a step
//     undoing it. Each of the device's samples was then placed that far
//     back: where it alone moved the partition's clock, the clock stood
//     still, and no case closed and no series expired. Such an offset
//     would place the device's latest reading more than the tolerance
//     before its key's place (by the offset before the jump): the device
//     is placed by that one again, and the clock moved to its latest
//     reading, as its samples would have moved it.
//   - the tracker dated the series it went to, while that had no reading,
//     by its stamp: a series dated more than the tolerance after its
//     device's present, which no placed sample is, would not be judged
//     silent, nor its device forgotten, for as long. Its time is taken
//     back to the present and the tolerance (maintenance.Tracker.StepBack).
//
// One WARN line names each device corrected. States of this build
// (every key's time placed no later than the tolerance after its
// device's present, every offset's jump held by a reading) are left as
// they are.
func (m *Stage) correctRestored(n int32, p *maintainPart) {
	if p.clock.Newest == 0 {
		return
	}
	for _, name := range p.devs.Names() {
		d := p.devs.Lookup(name)
		was := d.Offset
		if last := p.t.Latest(name); last != 0 {
			if before := d.At(last) - last; d.Offset < before-p.devs.Tol {
				// Stepped to the device's present by that offset places
				// it there (the count of samples behind goes too).
				p.devs.Stepped(&p.clock, d, name, p.clock.Newest-before, false)
				p.clock.Saw(last + d.Offset)
			}
		}
		dated := p.t.StepBack(name, p.clock.Newest-d.Offset+p.devs.Tol)
		if d.Offset != was || dated {
			m.log.Warn("restored device clock corrected: an earlier build kept a device threshold stamped far ahead as its time; its readings place and date it again",
				"partition", n, "device", name, "offset_was", time.Duration(was), "offset", time.Duration(d.Offset), "series_dated_back", dated)
		}
	}
}
