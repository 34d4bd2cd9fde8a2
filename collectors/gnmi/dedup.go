package gnmi

// Deduplication and clock steps. With dedup on (the default), a series'
// sample is dropped as a duplicate when its timestamp is not newer than
// the series' last published one: a snapshot resent after a reconnect, a
// POLL answered with the same values, a leaf stamped with its last change
// resent unchanged.
//
// A device whose clock steps back (NTP correcting a clock that ran ahead,
// a reboot with a wrong RTC) would then have every sample dropped until
// its clock caught up with the last timestamps it sent: minutes to hours
// of a healthy device's data. So the decoder tells a step from a resend:
//
//   - A resend carries the timestamp the series was published with: a
//     sample stamped exactly the series' last timestamp is always a
//     duplicate.
//   - A step shows across the stream: a notification more than
//     minClockStep behind the latest one that published a sample (the
//     stream's clock), carrying a series whose last sample is more than
//     minClockStep ahead of it, is the device's clock stepping back. The
//     decoder then starts a new time line at that notification: the
//     stream's clock goes back to it, the step is counted
//     (DecoderStats.ClockSteps; the collector logs it once at WARN with its
//     size and counts it in telekernel_gnmi_clock_steps_total), and every
//     series last published before the step takes its next sample not
//     older than the step (minClockStep allowed for) that is not an exact
//     resend of its last one, though that is older than its last. From
//     then on deduplication goes on as before on the new time line.
//   - Timestamps that go back without a step are no step: a line card
//     whose clock is behind another's stamps its own series, each moving
//     forward on its time line; a resubscription's snapshot of last-change
//     stamps (hours old) resends the stamps already published; a sample a
//     few seconds older than its series' latest (two sample tasks of one
//     leaf) goes back by less than minClockStep and is dropped as before.
//
// Limits: a step back of less than minClockStep still drops the samples
// stamped before the series' last ones (about the step's length); with
// dedup off (or timestamp: receive, the collector's clock) nothing is
// dropped and no step is counted; a target that resends an older sample
// than its series' last one, more than minClockStep older, in a
// notification that far behind the stream's latest, is taken for a step
// (that sample is published, and one step counted).

// minClockStep is the least step back of a device's clock that restarts
// deduplication: far above the disorder of one stream's timestamps.
const minClockStep = int64(10e9)

// duplicate reports whether a sample of se at ts, not newer than its last
// one, must be dropped: it is an exact resend, or older without a clock
// step. A notification that shows the device's clock stepped back starts
// a new time line (stepBack).
func (d *Decoder) duplicate(se *series, ts int64) bool {
	switch {
	case ts == se.lastTS:
		return true
	case d.afterStep(se, ts):
		return false
	case d.behind && se.lastTS-ts > minClockStep:
		d.stepBack(ts)
		return false
	}
	return true
}

// afterStep reports whether ts, older than se's last sample, is on the
// time line the device's clock stepped back to since se's last sample.
func (d *Decoder) afterStep(se *series, ts int64) bool {
	return se.epoch != d.epoch && ts >= d.epochStart-minClockStep
}

// stepBack starts a new time line at ts, a notification behind the
// stream's clock by more than minClockStep whose series went back as far:
// the device's clock stepped back. The LLDP aging, whose samples are
// ahead of the device's clock too, starts its hold over (clockStepsBack)
// when the step is beyond its own threshold.
func (d *Decoder) stepBack(ts int64) {
	d.stats.ClockSteps++
	d.lastStep = d.clock - ts
	d.epoch++
	d.epochStart, d.clock, d.behind = ts, ts, false
	if a := &d.lldpAge; a.resend > 0 && a.start != sentinelTS && a.clock-ts > a.lastHold {
		d.clockStepsBack(ts)
	}
}
