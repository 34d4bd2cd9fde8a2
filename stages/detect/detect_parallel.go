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
// path sees it on the row (view: its index in parallel.views plus one, 0
// when there is nothing to explain). A worker fills in the result.
type ensembleJob struct {
	st *seriesState
	// e is st.e and lane the goroutine that updates it (laneOf): a worker
	// reads the job only, not the series, which the calling goroutine is
	// writing meanwhile (on another core: the cache line would move).
	e          *ensemble.Ensemble
	lane, view int32
	ts         int64
	x          float64
	held       int
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

// viewOf returns the view of f: the zero view when explain would find
// nothing in it (no interface, or one whose oper-status and carrier
// never changed).
func viewOf(f *ifaceState) ifaceView {
	var v ifaceView
	if !explainable(f) {
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

// explainable reports whether explain may find something in f: an
// oper-status or carrier-transitions series that changed.
func explainable(f *ifaceState) bool {
	return f != nil && (f.oper != nil && f.oper.se.Changed() != 0 || f.carrier != nil && f.carrier.se.Changed() != 0)
}

// chunkJobs is the number of deferred updates handed to the workers at
// once.
const chunkJobs = 128

// jobChunk is a run of deferred updates in row order. Process fills it,
// then hands it to every worker; after that it only reads and runs the
// jobs of its own lane.
type jobChunk struct {
	jobs [chunkJobs]ensembleJob
	n    int
}

// parallel is the state of a record scored in parallel: the ensemble
// updates deferred, in chunks, and the other outputs held in their order.
// Process owns it; a worker reads the chunks it is handed and writes the
// results of its own lane's jobs only.
type parallel struct {
	on     bool        // the record being processed defers its ensemble updates
	chunks []*jobChunk // the record's, filled in order; reused
	n      int         // chunks in use (the last one may be partial)
	views  []ifaceView // the interface views of the jobs that have one
	held   []*kgo.Record
	hold   func(*kgo.Record) // appends to held
	work   []chan *jobChunk  // per worker but the calling goroutine, the chunks to run
	wg     sync.WaitGroup
	// records counts the records scored in parallel, for tests.
	records int
}

// laneOf returns which goroutine updates st's ensemble with w workers:
// 0 is the calling goroutine, which also runs the serial pass over the
// rows, so it takes one series in 2w-1 and each other worker two.
func laneOf(st *seriesState, w int) int {
	return (int(st.lane%uint32(2*w-1)) + 1) / 2
}

// start starts the other workers of a record scored in parallel.
func (d *Stage) start() {
	p := &d.par
	p.records++
	p.work = p.work[:0]
	for l := 1; l < d.workers; l++ {
		ch := make(chan *jobChunk, 64)
		p.work = append(p.work, ch)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for c := range ch {
				for i := range c.n {
					if j := &c.jobs[i]; int(j.lane) == l {
						j.update()
					}
				}
			}
		}()
	}
}

// handOff hands chunk c to the other workers.
func (p *parallel) handOff(c *jobChunk) {
	for _, ch := range p.work {
		ch <- c
	}
}

// finish hands the last chunk over, runs the calling goroutine's lane of
// every chunk and waits for the other workers: then every job has its
// result.
func (d *Stage) finish() {
	p := &d.par
	if p.n > 0 && p.chunks[p.n-1].n < chunkJobs {
		p.handOff(p.chunks[p.n-1]) // full chunks went when they filled
	}
	for _, ch := range p.work {
		close(ch)
	}
	for _, c := range p.chunks[:p.n] {
		for i := range c.n {
			if j := &c.jobs[i]; j.lane == 0 {
				j.update()
			}
		}
	}
	p.wg.Wait()
}

// reset empties the scratch, so it holds no series or record.
func (p *parallel) reset() {
	for _, c := range p.chunks[:p.n] {
		clear(c.jobs[:c.n])
		c.n = 0
	}
	clear(p.held)
	clear(p.views)
	p.n, p.held, p.views = 0, p.held[:0], p.views[:0]
}

// deferUpdate records the ensemble update of st at (ts, x), and hands
// the chunk to the workers when it is full.
func (d *Stage) deferUpdate(st *seriesState, ts int64, x float64) {
	p := &d.par
	if p.n == 0 || p.chunks[p.n-1].n == chunkJobs {
		if p.n == len(p.chunks) {
			p.chunks = append(p.chunks, new(jobChunk))
		}
		p.n++
	}
	c := p.chunks[p.n-1]
	var view int32
	if explainable(st.iface) {
		p.views = append(p.views, viewOf(st.iface))
		view = int32(len(p.views))
	}
	c.jobs[c.n] = ensembleJob{st: st, e: st.e, lane: int32(laneOf(st, d.workers)), view: view, ts: ts, x: x, held: len(p.held)}
	if c.n++; c.n == chunkJobs {
		p.handOff(c)
	}
}

// update runs the ensemble update of job j; the series' other updates of
// the record run on the same goroutine, before and after it in row order.
func (j *ensembleJob) update() {
	e := j.e
	before := e.StartedAt()
	e.UpdateInto(j.ts, j.x, &j.res)
	j.startsAt = before
	if j.res.Transition == ensemble.Fired {
		j.startsAt = e.StartedAt()
	}
}

// flushJobs emits the held outputs and the deferred updates' detections
// in the order the serial path emits them: each job's detection after the
// outputs held before its row. It leaves the scratch empty.
func (d *Stage) flushJobs(emit func(*kgo.Record)) error {
	p := &d.par
	defer p.reset()
	sent := 0
	var none ifaceView
	for _, c := range p.chunks[:p.n] {
		for i := range c.n {
			j := &c.jobs[i]
			if j.res.Transition == ensemble.None {
				continue
			}
			for ; sent < j.held; sent++ {
				emit(p.held[sent])
			}
			iface := &none
			if j.view > 0 {
				iface = &p.views[j.view-1]
			}
			if err := d.transition(emit, j.st, j.ts, j.x, j.startsAt, iface, &j.res); err != nil {
				return err
			}
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
