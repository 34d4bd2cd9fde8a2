package detect

import (
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/expiry"
)

// A device's clock that steps back (NTP's first sync or a time zone set
// right after it ran ahead, an RTC reset at a reboot), or one sample of a
// series stamped far ahead, would leave a series ignoring every sample
// older than its latest (a repeat or out of order: rate.Stale, the state
// trackers' "older changes nothing") until the device's time passed it
// again: hours, or a year. A sample more than expiry.StepBack behind its
// series' latest counts toward its device's clock stepping back instead
// of only being dropped; once such samples span expiry.StepConfirm of the
// device's time and continue into an input record after the one the
// count began in, with none of its series sampled newer meanwhile
// (expiry.Devices.Behind, RecordDone after each record), the device has
// stepped back (stepBack), and each of its series whose latest sample is
// newer than the step's is taken back to it (takeBack): it takes the
// device's samples again from there. A device sending a record per
// sample is blind for a minute after a step; one whose collector batches
// 10 minutes of its samples a record, for the rest of the record the
// step falls in (at least a minute). Duplicates a second collector sends
// during a target move (about 20 s behind) and reordered samples stay
// dropped, and so do late samples from a second source, one record or
// many, while the device reports on between them.

// behindBy is expiry.StepBack in nanoseconds: a series' sample more
// than this behind its latest counts toward its device's step back.
const behindBy = int64(expiry.StepBack)

// behind takes row i of st, a counter or gauge series, not newer than
// its latest sample (last): a repeat or out of order, dropped, unless it
// is more than behindBy behind it. Such a sample counts toward its
// device's clock stepping back (stepBack); once the device has stepped
// back, the row is scored again, the first of its series taken back.
func (d *Stage) behind(ps *partState, sr *schemas.SampleReader, i int, st *seriesState, last int64, emit func(*kgo.Record)) error {
	ts := sr.TS(i)
	if last-ts <= behindBy {
		return nil
	}
	back, err := d.stepBack(ps, st, ts, emit)
	if !back || err != nil {
		return err
	}
	return d.score(ps, sr, i, st, emit)
}

// stepBack counts the sample at ts of st, more than behindBy behind its
// latest, toward its device's clock stepping back, and reports
// whether the device has stepped back: then its series newer than ts are
// taken back (takeBack), and the caller takes the sample as any other. It
// runs only on such samples, and reads the device's series (newest: when
// a count starts, at the end of its record, and once a record when it may
// end), not the partition's: a second source late while the device
// reports on counts again record after record.
func (d *Stage) stepBack(ps *partState, st *seriesState, ts int64, emit func(*kgo.Record)) (bool, error) {
	name := st.key.Device
	first, stepped := ps.exp.devs.Behind(st.dev, name, ts, func() int64 { return ps.newest(name) })
	if !stepped {
		return false, nil
	}
	// The series taken back, and whether they alone held the partition's
	// clock (expiry.Devices.Stepped).
	var back []*seriesState
	var from, theirs, others int64 // the latest sample of those, and the latest placed of theirs and the others
	for _, o := range ps.exp.series[name] {
		if last := o.last(); last > ts {
			back = append(back, o)
			from, theirs = max(from, last), max(theirs, o.placed())
		} else {
			others = max(others, o.placed())
		}
	}
	c := &ps.exp.clock
	if theirs >= c.Newest && others < c.Newest {
		// Whether another device's series holds it: a scan, once a step.
		for k, o := range ps.series {
			if k.Device != name {
				others = max(others, o.placed())
			}
		}
	}
	ps.exp.devs.Stepped(c, st.dev, name, ts, theirs >= c.Newest && others < c.Newest)
	slices.SortFunc(back, func(a, b *seriesState) int { return compareKeys(a.key, b.key) })
	step := time.Duration(from - first) // a sample interval short
	why := fmt.Sprintf("resolved without a reading: the clock of device %s stepped back by %v at %s; the series is followed again from %s",
		name, step, time.Unix(0, first).UTC().Format(time.RFC3339), time.Unix(0, ts).UTC().Format(time.RFC3339))
	for _, o := range back {
		if err := d.takeBack(ps, o, ts, why, emit); err != nil {
			return false, err
		}
	}
	d.stateGen++ // the interfaces' remembered answers are out of date
	d.log.Warn("device clock stepped back: its series take its samples again from its new time",
		"partition", ps.id, "device", name, "step", step, "at", time.Unix(0, first).UTC(), "series", len(back),
		"offset", time.Duration(st.dev.Offset))
	return true, nil
}

// takeBack takes st, a series of a device whose clock stepped back to ts
// (stepBack), back to the step, so that it takes samples from ts on. A
// counter or gauge keeps what it learned (its ensemble and rules): a
// counter forgets its last sample, so its next one starts its rate again
// (none is computed across the step), and keeps what its rate.Refresh
// learned of its device's refresh (a decrease pending, which would take
// the rate back across the step, is dropped with it, as an error
// counter's rate.Glitch's); a gauge forgets its
// latest time. Their latest sample is then unknown (seen) until the next.
// A state series' tracker starts again at ts from its latest value (its
// status, count or level), with no alert: one that fires is resolved
// first, described by why, and a link_down held for its shut grace is
// dropped unannounced; its transitions before the step are forgotten (a
// stateevents.Tracker cannot be moved back in time).
func (d *Stage) takeBack(ps *partState, st *seriesState, ts int64, why string, emit func(*kgo.Record)) error {
	d.markDirty(ps, st)
	if st.se == nil {
		st.counter.LastTS, st.counter.Last = 0, 0
		if st.refresh.Pending() != 0 {
			st.refresh = rate.Refresh{}
		}
		if st.quiet != nil {
			st.quiet.glitch = rate.Glitch{}
		}
		return nil
	}
	old, cfg := st.se, &d.cfg.States
	if rule := old.Alert(); rule != stateevents.RuleNone {
		det := d.stateDetection(st.key, stateevents.Event{Transition: stateevents.Resolved, Rule: rule, StartsAt: old.StartsAt()}, ts)
		det.Annotations["description"] = why
		d.log.Info("detection", "state", det.State, "device", st.key.Device, "metric", st.key.Metric, "keys", st.key.Keys,
			"event_time", det.EventTime, "detector", det.Detector, "severity", det.Severity, "stepped_back", true)
		if err := d.det.Send(emit, det); err != nil {
			return err
		}
	}
	t := stateevents.New(old.Class())
	switch c := old.Class(); {
	case c == stateevents.ClassCarrier:
		t.UpdateCounter(cfg, ts, old.Count(), false)
	case c.IsLevel():
		level, _ := old.Level()
		t.UpdateLevel(cfg, ts, level, false)
	default:
		t.UpdateStatus(cfg, ts, old.Raw(), false)
	}
	st.se = t
	unwatch(ps, st)
	d.watch(ps, st)
	return nil
}
