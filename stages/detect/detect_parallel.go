package detect

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/stages/internal/detections"
)

// parallelMinRows is the fewest rows of a record that Process spreads over
// its workers; a smaller record is scored on the calling goroutine, where
// handing its few ensemble updates over would cost about what it saves.
const parallelMinRows = 256

// ensembleJob is one row's ensemble update, deferred by Process on a
// record scored in parallel: the series, the point, how many outputs the
// record had held before it (so its detection takes its place among
// them), and the interface state its description reads, as the serial
// path sees it on the row. A worker fills in the result.
type ensembleJob struct {
	st    *seriesState
	ts    int64
	x     float64
	held  int
	iface ifaceView
	// startsAt is the StartsAt of the row's transition: the alert's start
	// after the update when it fired, before it when it resolved.
	startsAt int64
	res      ensemble.Result
}

// ifaceView is what explain reads of an interface: a copy of its
// oper-status and carrier-transitions trackers' latest values, taken when
// the row is scored so a description does not depend on the state samples
// that follow it in the record.
type ifaceView struct {
	oper, carrier  bool // the interface has that series
	operKeys       string
	operChanged    int64
	operStatus     stateevents.Status
	operRaw        string
	carrierKeys    string
	carrierChanged int64
	carrierCount   uint64
}

// viewOf returns the view of f (the zero view for nil: nothing to explain).
func viewOf(f *ifaceState) ifaceView {
	var v ifaceView
	if f == nil {
		return v
	}
	if o := f.oper; o != nil {
		v.oper, v.operKeys, v.operChanged, v.operStatus, v.operRaw = true, o.key.Keys, o.se.Changed(), o.se.Status(), o.se.Raw()
	}
	if c := f.carrier; c != nil {
		v.carrier, v.carrierKeys, v.carrierChanged, v.carrierCount = true, c.key.Keys, c.se.Changed(), c.se.Count()
	}
	return v
}

// parallel is the state of a record scored in parallel: the ensemble
// updates deferred and the other outputs held in their order. Process
// owns it; the workers only read jobs' inputs and write their results.
type parallel struct {
	on    bool // the record being processed defers its ensemble updates
	jobs  []ensembleJob
	lanes [][]int32 // per worker, the indices in jobs of its series' rows, in row order
	held  []*kgo.Record
	hold  func(*kgo.Record) // appends to held
}

// reset empties the scratch, so it holds no series or record.
func (p *parallel) reset() {
	clear(p.jobs)
	clear(p.held)
	p.jobs, p.held = p.jobs[:0], p.held[:0]
	for i := range p.lanes {
		p.lanes[i] = p.lanes[i][:0]
	}
}

// deferUpdate records the ensemble update of st at (ts, x) for the workers.
func (d *Stage) deferUpdate(st *seriesState, ts int64, x float64) {
	p := &d.par
	if len(p.lanes) != d.workers {
		p.lanes = make([][]int32, d.workers)
	}
	l := st.lane % uint32(d.workers)
	p.lanes[l] = append(p.lanes[l], int32(len(p.jobs)))
	p.jobs = append(p.jobs, ensembleJob{st: st, ts: ts, x: x, held: len(p.held), iface: viewOf(st.iface)})
}

// update runs the ensemble update of job j; the series' other updates of
// the record run on the same goroutine, before and after it in row order.
func (j *ensembleJob) update() {
	e := j.st.e
	before := e.StartedAt()
	j.res = e.Update(j.ts, j.x)
	j.startsAt = before
	if j.res.Transition == ensemble.Fired {
		j.startsAt = e.StartedAt()
	}
}

// runJobs runs the deferred updates on the workers' goroutines (the
// calling one among them): worker w takes the jobs of the series in lane
// w (their lane modulo the workers), so each series' points are applied
// in row order by one goroutine, and no two goroutines touch one series.
// Ensembles share only their immutable ensemble.Shared.
func (d *Stage) runJobs() {
	p := &d.par
	if len(p.jobs) == 0 {
		return // a record of state samples only: no lanes made yet
	}
	run := func(lane []int32) {
		for _, i := range lane {
			p.jobs[i].update()
		}
	}
	var wg sync.WaitGroup
	for _, lane := range p.lanes[1:] {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(lane)
		}()
	}
	run(p.lanes[0])
	wg.Wait()
}

// flushJobs emits the held outputs and the deferred updates' detections
// in the order the serial path emits them: each job's detection after the
// outputs held before its row. It leaves the scratch empty.
func (d *Stage) flushJobs(emit func(*kgo.Record)) error {
	p := &d.par
	defer p.reset()
	sent := 0
	for i := range p.jobs {
		j := &p.jobs[i]
		if j.res.Transition == ensemble.None {
			continue
		}
		for ; sent < j.held; sent++ {
			emit(p.held[sent])
		}
		if err := d.transition(emit, j.st, j.ts, j.x, j.startsAt, &j.iface, &j.res); err != nil {
			return err
		}
	}
	for ; sent < len(p.held); sent++ {
		emit(p.held[sent])
	}
	return nil
}

// transition emits the detection of an ensemble update's transition, if
// any: res is the update of st at (ts, x), startsAt the transition's
// StartsAt, iface the interface state at the row.
func (d *Stage) transition(emit func(*kgo.Record), st *seriesState, ts int64, x float64, startsAt int64, iface *ifaceView, res *ensemble.Result) error {
	switch res.Transition {
	case ensemble.Fired:
		st.onset, st.top = res.Cause, res.CauseTop
		return d.emit(emit, st, detections.Transition{Series: st.key, Firing: true, TS: ts, StartsAt: startsAt}, x, iface, res)
	case ensemble.Resolved:
		return d.emit(emit, st, detections.Transition{Series: st.key, TS: ts, StartsAt: startsAt}, x, iface, res)
	}
	return nil
}
