package detect

import (
	"cmp"
	"slices"
	"time"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// expiry is a partition's clock for detect.series_expiry: the newest
// sample time of its counter and gauge series, and the event time up to
// which it has been swept. Neither is in the changelog: a restored
// partition reads newest back from its series (the series that holds it
// cannot have expired), and sweptTo from newest before its first record,
// as the instance that wrote the state had it after its last.
type expiry struct {
	newest  int64 // the latest sample time of the partition's counters and gauges
	sweptTo int64 // the sweep boundary reached (a multiple of sweepEvery)
	started bool  // sweptTo is set
	// gone are the series expired since the last checkpoint: tombstones
	// for their changelog records.
	gone []schemas.SeriesKey
}

// sweepsPerExpiry is how often, in event time, a partition looks for
// series to expire: every series_expiry/sweepsPerExpiry, so a series goes
// at most an eighth of series_expiry late.
const sweepsPerExpiry = 8

// seen returns the latest sample time of a counter or gauge series: a
// counter's rate state keeps its last accepted sample, and a gauge's
// keeps its latest sample's time in the same field (see score).
func (st *seriesState) seen() int64 { return st.counter.LastTS }

// saw records that a counter or gauge series had a sample at ts.
func (ps *partState) saw(st *seriesState, ts int64) {
	if st.kind == schemas.KindGauge {
		st.counter.LastTS = max(st.counter.LastTS, ts)
	}
	ps.exp.newest = max(ps.exp.newest, st.counter.LastTS)
}

// firing reports whether any alert of a counter or gauge series is on:
// its ensemble's, its quiet rule's or its envelope rule's.
func (st *seriesState) firing() bool {
	return st.e.Firing() || st.quiet != nil && st.quiet.since != 0 || st.drift != nil && st.drift.since != 0
}

// startExpiry sets the partition's sweep boundary before its first
// record (after a restore, from the newest sample its series hold).
func (d *Stage) startExpiry(ps *partState) {
	if every := d.sweepEvery(); every > 0 && !ps.exp.started {
		ps.exp.started = true
		ps.exp.sweptTo = ps.exp.newest / every * every
	}
}

// sweepEvery returns the event time between two sweeps (0: series never
// expire).
func (d *Stage) sweepEvery() int64 {
	if d.cfg.SeriesExpiry <= 0 {
		return 0
	}
	return max(int64(d.cfg.SeriesExpiry)/sweepsPerExpiry, 1)
}

// expire drops, after a record, the counter and gauge series of ps that
// had no sample for series_expiry before the sweep boundary the
// partition's newest sample has reached, once per boundary, unless an
// alert of theirs fires. The boundaries are fixed in event time, so an
// instance that restored the partition sweeps where the one before it
// would have: the detections and the state are the same.
func (d *Stage) expire(ps *partState) {
	every := d.sweepEvery()
	if every == 0 {
		return
	}
	to := ps.exp.newest / every * every
	if to <= ps.exp.sweptTo {
		return
	}
	ps.exp.sweptTo = to
	d.wait() // the series' ensembles are complete
	cutoff := to - int64(d.cfg.SeriesExpiry)
	var keys []schemas.SeriesKey
	for k, st := range ps.series {
		if st.e != nil && st.seen() < cutoff && st.seen() != 0 && !st.firing() {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.SortFunc(keys, func(a, b schemas.SeriesKey) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Keys, b.Keys))
	})
	for _, k := range keys {
		d.removeSeries(ps, k)
	}
	ps.exp.gone = append(ps.exp.gone, keys...)
	d.metrics.Expired("detect", len(keys))
	d.log.Info("dropped the state of series without a sample for detect.series_expiry; one that comes back starts cold",
		"partition", ps.id, "series", len(keys), "series_expiry", d.cfg.SeriesExpiry, "before", time.Unix(0, cutoff).UTC())
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
