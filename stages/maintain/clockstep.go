package maintain

import (
	"time"

	"github.com/telekernel/telekernel/stages/internal/expiry"
)

// A device's clock that steps back (NTP's first sync or a time zone set
// right after it ran ahead, an RTC reset at a reboot), or one sample of a
// series stamped far ahead, would leave the device's series ignoring
// every sample older than what they hold (their open bucket, a counter's
// last sample, a covariate's or PSU's reading) until its time passed it
// again: no bucket, no prediction and no close for hours, or a year. As
// in the detect stage (stages/detect/clockstep.go), a sample more than
// expiry.StepBack behind the latest of its series counts toward its
// device's clock stepping back; once such samples span
// expiry.StepConfirm of its time and continue into an input record after
// the one the count began in, with none of the device's series sampled
// newer meanwhile (expiry.Devices.Behind, RecordDone after each record),
// the device has stepped back: the tracker takes its series back to the
// sample (maintenance.Tracker.StepBack: what they hold from after it goes,
// what they learned and their cases stay) and the sample is taken as any
// other. Late samples from a second source, while the device reports on
// between them, are no step. A gauge sample stamped far ahead that no
// key keeps the time of (a device threshold, or a value the tracker
// drops: maintenance.Tracker.Dates) is taken at its device's present
// (aheadOf): nothing behind it could count toward a step undoing it.
// Placed, it would set its device's offset back by as much; kept as the
// time of its series (one without readings yet, which its thresholds
// date), the series would not be judged silent, nor its device
// forgotten, for as long.

// behindBy is expiry.StepBack in nanoseconds: a sample more than this
// behind the latest of its series counts toward its device's step back.
const behindBy = int64(expiry.StepBack)

// mayBeBehind reports whether the sample at ts of p's device at hand
// (p.dev, known) may be more than behindBy behind the latest of its
// series: placed, it is more than that behind the partition's clock (the
// series' latest, placed, is not after Newest). Nearly every sample is
// not, and this inlined test keeps the tracker out of their way.
func (p *maintainPart) mayBeBehind(ts int64) bool { return ts+p.dev.Offset < p.clock.Newest-behindBy }

// aheadOf reports whether the sample at ts of p's device at hand (p.dev,
// known) would be placed more than the tolerance ahead of the partition's
// clock (expiry.Devices.Place would lower the device's offset to place it
// at Newest). The stage takes such a gauge sample that dates no key of
// the tracker's (maintenance.Tracker.Dates: a device threshold, a NaN
// reading) at the device's present instead, and places nothing with it:
// no key holds its time, so nothing behind it counts toward a step
// (behind). Placed, the device's samples on time would stay placed that
// far back, moving the partition's clock no more (a device alone in its
// partition: no case would close, no series expire); a device not placed
// yet would be placed at the partition's clock, not by its first reading
// (expiry.Devices.Place, rule 1), however far off its clock; kept by the
// tracker, it would date a series without readings that far ahead, held
// as long. A device whose clock did jump ahead is placed by the samples
// its keys keep.
func (p *maintainPart) aheadOf(ts int64) bool {
	return p.clock.Newest != 0 && ts+p.dev.Offset-p.clock.Newest > p.devs.Tol
}

// present returns the partition's clock in the own time of p's device at
// hand (p.dev, known): where its offset places a sample at Newest (the
// device's own latest reading may be up to the tolerance before it, and
// a device not placed yet is taken to be at offset 0: a series its
// thresholds date is dated by its first reading once that comes).
func (p *maintainPart) present() int64 { return p.clock.Newest - p.dev.Offset }

// behind takes the sample at ts of p's device at hand, of metric and
// keys, when it is more than behindBy behind the latest of its series: it
// counts toward the device's clock stepping back (stepBack).
func (m *Stage) behind(n int32, p *maintainPart, ts int64, metric, keys string) {
	if last := p.t.LastOf(p.devName, metric, keys); ts < last-behindBy {
		m.stepBack(n, p, ts)
	}
}

// stepBack counts the sample at ts of p's device at hand, behind the
// latest of its series, toward the device's clock stepping back, and when
// it has, takes the device back to ts: placed on the partition's clock
// from there (expiry.Devices.Stepped), and in the tracker, with one WARN
// line. The partition's clock is in the changelog, not read back from
// the series, so the device is placed by its offset, never held at
// Newest: placed no more than the tolerance behind it, a clock it alone
// moved waits for its time no longer than that.
func (m *Stage) stepBack(n int32, p *maintainPart, ts int64) {
	name := p.devName
	first, stepped := p.devs.Behind(p.dev, name, ts, func() int64 { return p.t.Latest(name) })
	if !stepped {
		return
	}
	last := p.t.Latest(name)
	p.devs.Stepped(&p.clock, p.dev, name, ts, false)
	p.t.StepBack(name, ts)
	m.log.Warn("device clock stepped back: its health series take its samples again from its new time",
		"partition", n, "device", name, "step", time.Duration(last-first), "at", time.Unix(0, first).UTC(), "offset", time.Duration(p.dev.Offset))
}
