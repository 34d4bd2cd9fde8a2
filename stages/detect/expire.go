package detect

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
	"github.com/telekernel/telekernel/stages/internal/expiry"
)

// expiryState is a partition's state for detect.series_expiry: its sweep
// clock (the newest sample time of its series, state series included,
// each moved onto the partition's clock by its device's offset, and the
// boundary swept to; not in the changelog, a restored partition reads it
// back from its series, see expiry.Clock), its devices' offsets, and the
// series expired since the last checkpoint.
type expiryState struct {
	clock expiry.Clock
	// devs are the devices that hold series, with their offsets onto the
	// clock (expiry.Devices): a device whose clock is set ahead or
	// behind the others' (a wrong time zone, no NTP, an RTC reset)
	// neither expires their series nor has its own expired. A series
	// caches its device (seriesState.dev), so placing a sample is no map
	// lookup. The offsets not 0 are in the changelog (offsetKey).
	devs expiry.Devices
	// series are the series held per device, in no order (bydevice.go):
	// a device is forgotten (devs.Forget) when its last one expires.
	series map[string][]*seriesState
	// restored: series or offsets were restored since the last record;
	// the clock is read back from them before the next (restoredClock):
	// a device's offset may come before or after its series in the
	// changelog.
	restored bool
	// gone are the series expired since the last checkpoint: tombstones
	// for their changelog records.
	gone []schemas.SeriesKey
}

// offsetMetric is the metric of the changelog key of a device's offset
// onto its partition's clock (expiry.Devices.TakeChanged; only a device
// whose offset is not 0 has one): offsetKey.
const offsetMetric = "clock-offset"

// offsetKey returns the changelog key of device's offset: an empty
// device, offsetMetric, and the device in the keys' place. No series,
// multivariate group or sibling group has an empty device (the stages
// drop its samples: schemas.DropBadName), so it cannot be one's key; and
// a build from before the offsets drops it on a restore with a warning
// (see Restore), its devices at offset 0, as it had them.
func offsetKey(device string) []byte {
	return pipeline.StateKey(nil, schemas.SeriesKey{Metric: offsetMetric, Keys: device})
}

// seen returns the latest sample time of a counter or gauge series: a
// counter's rate state keeps its last accepted sample and its refresh
// state its latest, held or not; a gauge's keeps its latest sample's time
// in the counter's field (see score). 0 (none known) before its first
// sample, and after its device's clock stepped back until its next
// (takeBack: the counter's last sample is forgotten, its refresh state's
// kept).
func (st *seriesState) seen() int64 {
	if st.counter.LastTS == 0 {
		return 0
	}
	return st.sampled()
}

// sampled is seen for a series that took a sample (its counter's last
// sample is known): inlined in saw, which seen's test would take over the
// inlining budget.
func (st *seriesState) sampled() int64 { return max(st.counter.LastTS, st.refresh.Seen()) }

// last returns the latest sample time of a series (0: none), in its
// device's time: seen for a counter or gauge, its tracker's for a state
// series.
func (st *seriesState) last() int64 {
	if st.se != nil {
		return st.se.LastTS()
	}
	return st.seen()
}

// placed returns last moved onto the partition's clock by the offset of
// st's device (0: none).
func (st *seriesState) placed() int64 {
	if last := st.last(); last != 0 {
		return st.dev.At(last)
	}
	return 0
}

// saw records that a counter or gauge series had a sample at ts, placing
// its device on the partition's clock. It is the hot path, inlined: it
// places nearly every sample itself (expiry.Devices.PlaceFast) and
// reports false for the others, which the caller places (place).
func (ps *partState) saw(st *seriesState, ts int64) bool {
	if st.kind == schemas.KindGauge {
		st.counter.LastTS = max(st.counter.LastTS, ts)
	}
	return ps.exp.devs.PlaceFast(&ps.exp.clock, st.dev, st.sampled())
}

// place places the device of st on the partition's clock at st's latest
// sample, a counter or gauge's, where saw could not: its first sample,
// or a jump ahead (expiry.Devices.Place).
func (ps *partState) place(st *seriesState) {
	ps.exp.devs.Place(&ps.exp.clock, st.dev, st.key.Device, st.sampled())
}

// sawState records that the state series st had a sample, placing its
// device on the partition's clock: a partition of devices that report
// only state series (an SNMP target polled for its ifOperStatus) sweeps
// too.
func (ps *partState) sawState(st *seriesState) {
	last := st.se.LastTS()
	if last != 0 && !ps.exp.devs.PlaceFast(&ps.exp.clock, st.dev, last) {
		ps.exp.devs.Place(&ps.exp.clock, st.dev, st.key.Device, last)
	}
}

// firing reports whether any alert of a counter or gauge series is on:
// its ensemble's, its quiet rule's or its envelope rule's.
func (st *seriesState) firing() bool {
	return st.e.Firing() || st.quiet != nil && st.quiet.since != 0 || st.drift != nil && st.drift.since != 0
}

// restoredClock reads the sweep clock of ps, restored from the
// changelog, back from its series (each latest sample placed by its
// device's offset; the series that holds the newest cannot have
// expired), as the instance that wrote the state had it after its last
// record, and forgets the devices restored without a series (an offset
// whose series were tombstones, or could not be restored).
func (d *Stage) restoredClock(ps *partState) {
	e := &ps.exp
	e.restored = false
	for _, dev := range e.devs.Names() {
		if len(e.series[dev]) == 0 {
			e.devs.Forget(dev)
		}
	}
	e.clock = expiry.Clock{}
	for _, st := range ps.series {
		if placed := st.placed(); placed != 0 {
			e.clock.Restored(placed, d.cfg.SeriesExpiry)
		}
	}
}

// expire drops, after a record, the series of ps that had no sample for
// series_expiry before the sweep boundary the partition's newest sample
// has reached, once per boundary: a counter or gauge series on its own, a
// state series (sent only on change, so silent for days on a live device)
// only with its device, once none of the device's series has had a sample
// for series_expiry (expired). Sample times are compared placed on the
// partition's clock (expiry.Devices: a device whose clock is off expires
// no other's series, nor has its own expired); the detections carry the
// device's own times. An alert of theirs that fires is resolved first
// (resolveStale, resolveGone). A device whose last series goes is
// forgotten, with its sibling groups (their alerts resolved, expirePeers):
// its next sample is a first one. The boundaries are fixed in
// event time, so an instance that restored the partition sweeps where the
// one before it would have: the detections and the state are the same.
// The record's held outputs go first, as the serial path emits them.
func (d *Stage) expire(ps *partState, emit func(*kgo.Record)) error {
	cutoff, ok := ps.exp.clock.Due(d.cfg.SeriesExpiry)
	if !ok {
		return nil
	}
	keys, gone := expired(ps, cutoff)
	if len(keys) == 0 {
		return nil
	}
	if err := d.Flush(emit); err != nil { // the ensembles complete, their outputs first
		return err
	}
	slices.SortFunc(keys, compareKeys)
	resolved := 0
	var groups map[schemas.SeriesKey]int64 // the multivariate groups of expired series: their latest sample
	for _, k := range keys {
		st := ps.series[k]
		if gk, ok := d.groupKey(k); ok && ps.groups[gk] != nil {
			if groups == nil {
				groups = map[schemas.SeriesKey]int64{}
			}
			groups[gk] = max(groups[gk], st.seen())
		}
		switch {
		case st.se != nil && st.se.Alert() != stateevents.RuleNone:
			resolved++
			if err := d.resolveGone(emit, st, gone[k.Device]); err != nil {
				return err
			}
		case st.e != nil && st.firing():
			resolved++
			if err := d.resolveStale(emit, st, st.seen()+int64(d.cfg.SeriesExpiry)); err != nil {
				return err
			}
		}
		d.removeSeries(ps, k)
	}
	ps.exp.gone = append(ps.exp.gone, keys...)
	if err := d.expireGroups(ps, groups, emit); err != nil {
		return err
	}
	for i, k := range keys { // sorted: a device's keys are together
		if (i == 0 || keys[i-1].Device != k.Device) && len(ps.exp.series[k.Device]) == 0 {
			ps.exp.devs.Forget(k.Device)
			// Its sibling groups go with it (their alerts resolved).
			if err := d.expirePeers(ps, k.Device, emit); err != nil {
				return err
			}
		}
	}
	d.metrics.Expired("detect", len(keys))
	d.log.Info("dropped the state of series without a sample for detect.series_expiry; one that comes back starts cold",
		"partition", ps.id, "series", len(keys), "devices_gone", len(gone), "firing_resolved", resolved,
		"series_expiry", d.cfg.SeriesExpiry, "before", time.Unix(0, cutoff).UTC())
	return nil
}

// expired returns the series of ps that go at a sweep with cutoff (on
// the partition's clock), in no order: the counters and gauges whose
// latest sample, placed, is before it (not 0, unknown), and every series
// of a device none of whose series has a sample since: its state series,
// silent on a device that reports on, go only then. gone holds those
// devices and their latest sample in their own time (0: none known). It
// reads every series once, and those of the devices with a state series
// (or a series with no sample) that is silent once more: a sweep is once
// per boundary, nothing is kept per row. The stage's goroutine writes
// what is read here (seen, the trackers, the offsets), the workers do
// not.
func expired(ps *partState, cutoff int64) (keys []schemas.SeriesKey, gone map[string]int64) {
	var held []*seriesState // silent series that go only with their device
	for k, st := range ps.series {
		switch placed := st.placed(); {
		case placed >= cutoff:
		case st.e != nil && placed != 0:
			keys = append(keys, k)
		default:
			held = append(held, st)
			if gone == nil {
				gone = map[string]int64{}
			}
			gone[k.Device] = 0
		}
	}
	if len(held) == 0 {
		return keys, nil
	}
	// A device with a series sampled since the cutoff reports on.
	for k, st := range ps.series {
		if len(gone) == 0 {
			break
		}
		if at, ok := gone[k.Device]; ok {
			if st.placed() >= cutoff {
				delete(gone, k.Device)
			} else if last := st.last(); last > at {
				gone[k.Device] = last
			}
		}
	}
	for _, st := range held {
		if _, ok := gone[st.key.Device]; ok {
			keys = append(keys, st.key)
		}
	}
	return keys, gone
}

// resolveGone emits the resolved detection of the alert that fires on
// st, a state series of a device gone (expired) whose latest sample was
// at last: at last + series_expiry, with the firing detection's rule,
// severity, fingerprint and start, saying the device stopped. Observed and
// expected are 0: there is no reading to report.
func (d *Stage) resolveGone(emit func(*kgo.Record), st *seriesState, last int64) error {
	k, t := st.key, st.se
	det := d.stateDetection(k, stateevents.Event{Transition: stateevents.Resolved, Rule: t.Alert(), StartsAt: t.StartsAt()}, last+int64(d.cfg.SeriesExpiry))
	rule := det.Detector
	why := fmt.Sprintf("resolved without a reading: no sample of device %s since %s (detect.series_expiry %v), the device stopped reporting; %s since %s",
		k.Device, time.Unix(0, last).UTC().Format(time.RFC3339), d.cfg.SeriesExpiry, rule, time.Unix(0, t.StartsAt()).UTC().Format(time.RFC3339Nano))
	if raw := t.Raw(); raw != "" {
		why += fmt.Sprintf(" (%s %s)", t.Class(), raw)
	}
	det.Annotations["description"] = why
	d.log.Info("detection", "state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "detector", rule, "severity", det.Severity, "stale", true)
	return d.det.Send(emit, det)
}

// resolveStale emits, at ts (its last sample and series_expiry later),
// the resolved detection of each alert of st that fires, st a series that
// expires: the ensemble's (its detector and members as it fired) and its
// rules'. Observed and expected are 0: there is no reading to report.
func (d *Stage) resolveStale(emit func(*kgo.Record), st *seriesState, ts int64) error {
	return d.resolveSeries(emit, st, ts, d.stopped(st.seen()))
}

// stopped describes the resolution of an alert whose series' last sample
// was at seen and expired.
func (d *Stage) stopped(seen int64) string {
	return fmt.Sprintf("resolved without a reading: no sample since %s (detect.series_expiry %v), the series stopped",
		time.Unix(0, seen).UTC().Format(time.RFC3339), d.cfg.SeriesExpiry)
}

// resolveSeries emits, at ts, the resolved detection of each alert of st
// that fires, st a counter or gauge series whose state goes (it expired,
// or its kind changed), described by why.
func (d *Stage) resolveSeries(emit func(*kgo.Record), st *seriesState, ts int64, why string) error {
	k := st.key
	if st.e.Firing() {
		det := d.det.New(detections.Transition{Series: k, TS: ts, StartsAt: st.e.StartedAt()}, nil)
		d.names = st.onset.Names(d.names[:0])
		det.Detector, det.Detectors = st.top.String(), slices.Clone(d.names)
		cfg := st.e.Shared().Config()
		det.Severity = cfg.Severity(st.e.Peak())
		det.Annotations["description"] = why
		d.log.Info("detection", "state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
			"event_time", det.EventTime, "detectors", det.Detectors, "severity", det.Severity, "stale", true)
		if err := d.det.Send(emit, det); err != nil {
			return err
		}
	}
	for _, r := range [...]struct {
		rule  string
		since *int64
	}{{QuietRule, quietSince(st.quiet)}, {DriftRule, sinceOf(st.drift)}} {
		if r.since == nil || *r.since == 0 {
			continue
		}
		det := d.newRuleDetection(ruleTransition(k, r.since, ts, false), k, r.rule, 0)
		det.Annotations["description"] = why
		if err := d.sendRuleDetection(emit, det, k, "stale", true); err != nil {
			return err
		}
	}
	return nil
}

// compareKeys orders series keys by device, metric and keys.
func compareKeys(a, b schemas.SeriesKey) int {
	return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Keys, b.Keys))
}

// groupKey returns the key of the multivariate group series k belongs
// to, if any.
func (d *Stage) groupKey(k schemas.SeriesKey) (schemas.SeriesKey, bool) {
	gs, ok := d.groupOf[k.Metric]
	if !ok {
		return schemas.SeriesKey{}, false
	}
	return schemas.SeriesKey{Device: k.Device, Metric: multivarPrefix + d.cfg.Multivar.Groups[gs[0]].Name, Keys: k.Keys}, true
}

// expireGroups drops the multivariate groups of ps none of whose series
// is left after a sweep (groups: their keys and the latest sample of
// their expired series): a firing alert is resolved at that sample plus
// series_expiry, as an expired series' is, and the group's changelog
// record gets a tombstone.
func (d *Stage) expireGroups(ps *partState, groups map[schemas.SeriesKey]int64, emit func(*kgo.Record)) error {
	for _, gk := range slices.SortedFunc(maps.Keys(groups), compareKeys) {
		g := ps.groups[gk]
		if d.groupHasSeries(ps, g) {
			continue
		}
		if g.alert.Firing {
			startedAt := g.alert.StartsAt
			g.alert.Resolve()
			t := detections.Transition{Series: gk, TS: groups[gk] + int64(d.cfg.SeriesExpiry), StartsAt: startedAt}
			if err := d.emitGroup(emit, g, t, nil, d.stopped(groups[gk])); err != nil {
				return err
			}
		}
		if g.dirty {
			g.dirty = false
			ps.dirtyGroups = slices.DeleteFunc(ps.dirtyGroups, func(o *groupState) bool { return o == g })
		}
		d.dropGroup(ps, gk)
		ps.exp.gone = append(ps.exp.gone, gk)
	}
	return nil
}

// groupHasSeries reports whether a series of g is held in ps.
func (d *Stage) groupHasSeries(ps *partState, g *groupState) bool {
	for _, m := range d.cfg.Multivar.Groups[g.group].Metrics {
		if ps.series[schemas.SeriesKey{Device: g.key.Device, Metric: m, Keys: g.key.Keys}] != nil {
			return true
		}
	}
	return false
}

// sinceOf returns where a rule keeps its firing point (nil: no rule).
func sinceOf[R any](rs *ruleState[R]) *int64 {
	if rs == nil {
		return nil
	}
	return &rs.since
}

// quietSince is sinceOf for a quiet rule.
func quietSince(qs *quietState) *int64 {
	if qs == nil {
		return nil
	}
	return &qs.since
}

// checkpointGone emits the tombstones of ps's expired series that have
// not come back since.
func (d *Stage) checkpointGone(p int32, ps *partState, emit func(partition int32, key, value []byte)) {
	for _, k := range ps.exp.gone {
		if ps.series[k] == nil {
			emit(p, pipeline.StateKey(nil, k), nil)
		}
	}
	clear(ps.exp.gone)
	ps.exp.gone = ps.exp.gone[:0]
}
