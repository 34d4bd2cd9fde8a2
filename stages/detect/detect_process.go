package detect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Process implements Processor. The series of every row are found first;
// then the rows are taken in order, and before a counter or gauge row at
// ts every state sample at or before ts (admin-status first among equal
// times) is applied: state samples become state detections, and a counter
// rate or gauge is judged against its interface's state at its own
// timestamp whichever order the collector wrote the rows of one timestamp
// in. State samples after the last scored row are applied at the end.
func (d *Stage) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	sr, release, err := d.ReadSamples(r)
	if err != nil {
		return err
	}
	defer release()
	ps := d.part(r.Partition)
	if ps.exp.restored {
		d.restoredClock(ps)
	}
	if d.inRec == nil {
		d.inRec = map[uint64]int32{}
	}
	clear(d.inRec)
	clear(d.kindChanges)
	d.kindChanges = d.kindChanges[:0]
	n := sr.Len()
	if cap(d.rows) < n {
		d.rows = make([]*seriesState, n)
	}
	rows := d.rows[:n]
	defer clear(rows) // hold no series past the record
	stateRows := d.stateRows[:0]
	for i := range n {
		st, err := d.seriesOf(ps, sr, rows, i)
		if err != nil {
			return err
		}
		rows[i] = st
		if st != nil && st.se != nil {
			stateRows = append(stateRows, i)
		}
	}
	d.stateRows = stateRows
	byTime := func(a, b int) int {
		if c := cmp.Compare(sr.TS(a), sr.TS(b)); c != 0 {
			return c
		}
		return cmp.Compare(stateOrder(rows[a]), stateOrder(rows[b]))
	}
	if !slices.IsSortedFunc(stateRows, byTime) { // usually they are
		slices.SortStableFunc(stateRows, byTime)
	}
	if err := d.scoreRows(ps, sr, rows, stateRows, emit); err != nil {
		return err
	}
	// Samples behind counted toward a device's clock stepping back
	// confirm it only in a later record (clockstep.go).
	ps.exp.devs.RecordDone(ps.newest)
	if err := d.expire(ps, emit); err != nil {
		return err
	}
	d.metrics.SetSeries("detect", float64(d.nseries.Load()))
	d.metrics.SetStateBytes("detect", float64(d.StateBytes()))
	return nil
}

// scoreRows scores the rows of a record in order, applying the state
// samples (stateRows, in time order) before the rows they precede. A
// record of at least d.minRows rows, with more than one worker,
// defers its ensemble updates (see detect_parallel.go): they run on the
// workers, the others while the rows are read, and the outputs are
// emitted in the serial path's order (with HoldOutputs, when the next
// record is scored or at Flush). On an error the record's held outputs
// are dropped: every error here stops the stage, and its transaction
// aborts.
func (d *Stage) scoreRows(ps *partState, sr *schemas.SampleReader, rows []*seriesState, stateRows []int, emit func(*kgo.Record)) error {
	if err := d.Flush(emit); err != nil { // the outputs of a record left running come first
		return err
	}
	p := &d.par
	// A record with a kind change is scored serially: the old state's
	// alerts are read between its rows (resolveKindChange).
	if p.on = d.workers > 1 && len(rows) >= d.minRows && len(d.kindChanges) == 0; !p.on {
		return d.scoreSerial(ps, sr, rows, stateRows, emit)
	}
	defer func() { p.on = false }()
	p.begin(len(rows), d.workers)
	err := d.scoreSerial(ps, sr, rows, stateRows, p.keep)
	p.close()
	if err == nil && p.holds && p.seq > 0 {
		p.pending = true // see HoldOutputs
		return nil
	}
	p.complete() // also on an error: no worker may outlive the record
	if err != nil {
		p.reset()
		return err
	}
	return d.flushJobs(emit)
}

// scoreSerial is scoreRows' pass over the rows, on the calling goroutine.
func (d *Stage) scoreSerial(ps *partState, sr *schemas.SampleReader, rows []*seriesState, stateRows []int, emit func(*kgo.Record)) error {
	next := 0
	var dev string // the device of the rows before, and whether it has watched series
	var watched bool
	for i, st := range rows {
		if st == nil || st.e == nil {
			continue
		}
		ts := sr.TS(i)
		for ; next < len(stateRows) && sr.TS(stateRows[next]) <= ts; next++ {
			if err := d.applyState(ps, sr, stateRows[next], rows[stateRows[next]], emit); err != nil {
				return err
			}
			dev = "" // a state sample may have put its series on the watch
		}
		if len(ps.watched) > 0 {
			// The device's samples are the clock of its state series
			// sent only on change (stateevents.Tracker.Tick). A record
			// is usually one device's: one map lookup per record.
			if st.key.Device != dev {
				dev, watched = st.key.Device, ps.watched[st.key.Device] != nil
			}
			if watched {
				if err := d.tickDevice(ps, dev, ts, emit); err != nil {
					return err
				}
				watched = ps.watched[dev] != nil
			}
		}
		if len(d.kindChanges) > 0 && d.kindChanges[0].row == i {
			if err := d.resolveKindChange(emit, d.kindChanges[0], ts); err != nil {
				return err
			}
			d.kindChanges = d.kindChanges[1:]
		}
		if err := d.score(ps, sr, i, st, emit); err != nil {
			return err
		}
	}
	for ; next < len(stateRows); next++ {
		if err := d.applyState(ps, sr, stateRows[next], rows[stateRows[next]], emit); err != nil {
			return err
		}
	}
	return nil
}

// applyState feeds the state sample of row i to its series st, then ticks
// the watched series of its device at its time: a state sample is as good
// a clock as a counter's, and a device that sends only on-change state
// has no other.
func (d *Stage) applyState(ps *partState, sr *schemas.SampleReader, i int, st *seriesState, emit func(*kgo.Record)) error {
	if err := d.updateState(ps, sr, i, st, emit); err != nil {
		return err
	}
	if ps.watched[st.key.Device] == nil {
		return nil
	}
	return d.tickDevice(ps, st.key.Device, sr.TS(i), emit)
}

// stateOrder orders the state samples of one timestamp: admin-status
// first, so an interface shut at a timestamp is not a link down whichever
// of its two leaves came first; then oper-status, so a carrier-transitions
// increment of the same timestamp is known to be explained by it.
func stateOrder(st *seriesState) int {
	switch st.se.Class() {
	case stateevents.ClassAdminStatus:
		return 0
	case stateevents.ClassOperStatus:
		return 1
	}
	return 2
}

// seriesOf finds (or makes) the series of row i, once per record by its
// dictionary indices; the string lookup aliases the record and clones only
// to insert. It returns nil for a state the stage does not follow (port
// speed, part numbers). rows holds the series of the rows before i: a
// record holds one tick's series after another's, in the same order, so
// row i usually has the series of row i − d.period, which is checked
// before the map is (a map lookup per row was about 3 % of the stage's
// CPU).
func (d *Stage) seriesOf(ps *partState, sr *schemas.SampleReader, rows []*seriesState, i int) (*seriesState, error) {
	idx := sr.SeriesIndex(i)
	if p := d.period; p > 0 && p <= i && sr.SeriesIndex(i-p) == idx && sameKind(rows[i-p], sr, i) {
		return rows[i-p], nil
	}
	if j, ok := d.inRec[idx]; ok && sameKind(rows[j], sr, i) {
		d.period, d.inRec[idx] = i-int(j), int32(i)
		return rows[j], nil
	}
	kind := sr.Kind(i)
	k := schemas.SeriesKey{Device: sr.Device(i), Metric: sr.Metric(i), Keys: sr.Keys(i)}
	st := ps.series[k]
	if st != nil && st.e != nil && kind != st.kind && kind != schemas.KindState {
		// A counter that was a gauge, or the reverse (a collector that
		// learned the leaf's kind): what was learned is of the other
		// kind, so the series starts cold; addSeries replaces it. An
		// alert of the old state that fires when row i is scored is
		// resolved there (scoreSerial), which the record scored serially
		// sees exactly (rare: a kind change). The old state may still be
		// updated by a held record's workers: wait for them first.
		d.wait()
		d.kindChanges = append(d.kindChanges, kindChange{row: i, old: st, kind: kind})
		st = nil
	}
	if st == nil {
		class := stateevents.Classify(k.Metric)
		st = &seriesState{kind: kind}
		switch {
		case class.IsStatus(), // a status sent as a number too (an enum's value: statusOf)
			kind != schemas.KindState && (class == stateevents.ClassCarrier || class.IsLevel()):
			st.se = stateevents.New(class)
		case kind == schemas.KindState:
			d.inRec[idx] = int32(i)
			return nil, nil
		default:
			sh, err := d.ensembleOf(kind, k.Metric)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", pipeline.ErrStop, err)
			}
			st.e = sh.New()
			st.quiet = d.newQuietState(kind, k.Metric)
			st.drift = d.newDriftState(kind, k.Metric)
		}
		d.addSeries(ps, schemas.SeriesKey{Device: strings.Clone(k.Device), Metric: strings.Clone(k.Metric), Keys: strings.Clone(k.Keys)}, st)
	}
	d.inRec[idx] = int32(i)
	d.markDirty(ps, st)
	return st, nil
}

// sameKind reports whether row i may go to st, the series of an earlier
// row of its record with the same keys: unless the row is a counter where
// st is a gauge's, or the reverse (a kind change inside the record, which
// seriesOf's lookup handles).
func sameKind(st *seriesState, sr *schemas.SampleReader, i int) bool {
	if st == nil || st.e == nil {
		return true
	}
	k := sr.Kind(i)
	return k == st.kind || k == schemas.KindState
}

// kindChange is a series whose kind changed at row of the record: old is
// its state before, replaced in the partition by a cold one.
type kindChange struct {
	row  int
	old  *seriesState
	kind schemas.Kind // the new one
}

// resolveKindChange resolves, at ts, the alerts that fire of the series
// whose kind c changed: its state, learned of the other kind, is gone.
func (d *Stage) resolveKindChange(emit func(*kgo.Record), c kindChange, ts int64) error {
	if !c.old.firing() {
		return nil
	}
	return d.resolveSeries(emit, c.old, ts, fmt.Sprintf("resolved without a reading: the series changed from %s to %s, and its state, learned of the other kind, starts again cold",
		c.old.kind, c.kind))
}

func (d *Stage) markDirty(ps *partState, st *seriesState) {
	if !st.dirty {
		st.dirty = true
		ps.dirty = append(ps.dirty, st.key)
	}
}

// score feeds row i of an ensemble series: a counter through its rate,
// then the ensemble (and a multivariate group; an error
// counter's rate also through its quiet rule, an optic power through its
// envelope rule), unless the series is an
// interface's and the interface was down within the rate's interval: such
// a point is neither learned nor alerted on.
func (d *Stage) score(ps *partState, sr *schemas.SampleReader, i int, st *seriesState, emit func(*kgo.Record)) error {
	ts := sr.TS(i)
	from := ts - 1 // a gauge is a value at ts
	var x float64
	if sr.Kind(i) == schemas.KindCounter {
		v, ok := sr.U64(i)
		if !ok {
			return nil // a null value carries nothing to score
		}
		from = st.counter.LastTS
		var r float64
		var res rate.Result
		if st.quiet == nil {
			prev, pending, resets := st.sampled(), st.refresh.Pending(), st.counter.Resets
			r, res = st.refresh.Update(&st.counter, ts, v)
			if pending != 0 && st.counter.Resets < resets {
				// After a glitch: the rate spans the interval before it
				// too (rate.Refresh).
				from = pending
			}
			if res == rate.OK && st.counter.LastTS != ts {
				// A still sample past the hold (the counter keeps its last
				// change): a rate of 0 over its poll interval, which the
				// interface being down since the last change no longer
				// explains once it is up again.
				from = prev
			}
		} else {
			// Still is its usual self; a glitch is told from a reset as
			// above.
			pending, resets := st.quiet.glitch.Pending(), st.counter.Resets
			r, res = st.quiet.glitch.Update(&st.counter, ts, v)
			if pending != 0 && st.counter.Resets < resets {
				from = pending
			}
		}
		if res == rate.Stale { // a repeat or out of order: it changed nothing
			return d.behind(ps, sr, i, st, st.seen(), emit)
		}
		if !ps.saw(st, ts) {
			ps.place(st)
		}
		if res != rate.OK {
			return nil
		}
		x = r
	} else {
		var ok bool
		if x, ok = sr.F64(i); !ok {
			return nil
		}
		if st.kind == schemas.KindGauge && ts <= st.counter.LastTS {
			return d.behind(ps, sr, i, st, st.counter.LastTS, emit) // a repeat or out of order, as a counter's
		}
		if !ps.saw(st, ts) {
			ps.place(st)
		}
	}
	f := ps.stateOf(st.iface)
	if f != nil && f.downAt(d.stateGen, from, ts) {
		return nil
	}
	st.points++
	if st.quiet != nil {
		if err := d.scoreQuiet(emit, st, ts, x); err != nil {
			return err
		}
	}
	if st.drift != nil {
		if err := d.scoreDrift(emit, st, ts, x); err != nil {
			return err
		}
	}
	if err := d.scorePeer(ps.id, st, ts, x, emit); err != nil {
		return err
	}
	if !st.linked {
		d.link(ps, st)
	}
	if st.grp != nil {
		if err := d.updateGroup(ps, st, ts, x, emit); err != nil {
			return err
		}
	}
	if d.par.on {
		d.deferUpdate(st, f, ts, x)
		return nil
	}
	res := &d.par.res
	startsAt := update(st.e, ts, x, res)
	if res.Transition == ensemble.None {
		return nil
	}
	v := viewOf(f)
	return d.transition(emit, st, ts, x, startsAt, &v, res)
}
