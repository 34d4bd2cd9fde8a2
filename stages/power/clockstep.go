package power

import (
	"math"
	"time"

	"github.com/telekernel/telekernel/stages/internal/expiry"
)

// A device's clock that steps back (NTP's first sync or a time zone set
// right after it ran ahead, an RTC reset at a reboot), or one sample of
// it stamped far ahead, would leave the device without a tick (the
// estimator starts one only after its latest sample) and its byte
// counters stale until its time passed the latest again: no power window
// for hours, or a year, and then a first rate over the whole step. As in
// the detect stage (stages/detect/clockstep.go), a sample more than
// expiry.StepBack behind its device's latest counts toward the device's
// clock stepping back when its series (one the estimator keeps a stamp
// of: a byte counter, a port's status or configuration, the part-no, a
// PSU reading) is behind too: more than expiry.StepBack behind the stamp
// held, or newer than it (the rest of the device moved ahead by one
// sample of another series). Once such samples span expiry.StepConfirm of
// its time and continue into an input record after the one the count
// began in, with no newer sample of the device meanwhile
// (expiry.Devices.Behind, RecordDone after each record), the device has
// stepped back: the estimator takes it back to the sample
// (power.Estimator.StepBack: its counters start their rates again, the
// open window stamped ahead goes unwritten, the next tick opens one, the
// stamps of its status and PSU readings go back to the step) and the
// sample is taken as any other. Meanwhile the samples behind change
// nothing, as the estimator's late samples. Late samples from a second
// source, while the device reports on between them, are no step; nor are
// values a device re-sends with their last-change stamps (the stamps
// held, hours behind its counters), nor the first sample of a series (a
// snapshot of such stamps, whatever its records).

// behindBy is expiry.StepBack in nanoseconds: a sample more than this
// behind its device's latest counts toward the device's step back.
const behindBy = int64(expiry.StepBack)

// mayBeBehind reports whether the sample at ts of pt's device at hand
// (pt.dev) may be more than behindBy behind the device's latest: placed,
// it is more than that behind the partition's clock (the device's
// latest, placed, is not after Newest). Nearly every sample is not, and
// this inlined test keeps the estimator out of their way.
func (pt *part) mayBeBehind(ts int64) bool { return ts+pt.dev.Offset < pt.clock.Newest-behindBy }

// behind takes the sample at ts of pt's device at hand, of metric and
// keys, when it is more than behindBy behind the device's latest: it
// counts toward the device's clock stepping back (stepBack) unless its
// series is not behind: not known, of a metric the estimator keeps no
// stamp of, or sampled at most behindBy before the stamp held (a re-send
// with the stamp held, or a late sample).
func (p *Stage) behind(n int32, pt *part, ts int64, metric, keys string) {
	last, _ := pt.e.LastSample(pt.devName)
	if ts >= last-behindBy {
		return
	}
	if own := pt.e.LastOf(pt.devName, metric, keys); own == 0 || ts <= own && ts >= own-behindBy {
		return
	}
	p.stepBack(n, pt, ts, last)
}

// stepBack counts the sample at ts of pt's device at hand, behind its
// latest sample (last), toward its clock stepping back, and when it has,
// takes the device back to ts: placed on the partition's clock from
// there (expiry.Devices.Stepped; at Newest when the device alone held it,
// so a partition restored from the devices reads its clock back where it
// was), and in the estimator, with one WARN line.
func (p *Stage) stepBack(n int32, pt *part, ts, last int64) {
	name := pt.devName
	first, stepped := pt.devs.Behind(pt.dev, name, ts, func() int64 {
		l, _ := pt.e.LastSample(name)
		return l
	})
	if !stepped {
		return
	}
	var others int64 // the latest sample of the other devices, placed
	for _, dev := range pt.e.Silent(nil, math.MaxInt64) {
		if dev != name {
			l, _ := pt.e.LastSample(dev)
			others = max(others, pt.devs.At(dev, l))
		}
	}
	c := &pt.clock
	held := pt.dev.At(last) >= c.Newest && others < c.Newest
	pt.devs.Stepped(c, pt.dev, name, ts, held)
	pt.e.StepBack(name, ts)
	p.log.Warn("device clock stepped back: its counters and power windows take its samples again from its new time",
		"partition", n, "device", name, "step", time.Duration(last-first), "at", time.Unix(0, first).UTC(),
		"offset", time.Duration(pt.dev.Offset))
}

// recordDone ends the input record for the counts of samples behind begun
// in it (expiry.Devices.RecordDone).
func (p *Stage) recordDone(pt *part) {
	pt.devs.RecordDone(func(name string) int64 {
		l, _ := pt.e.LastSample(name)
		return l
	})
}
