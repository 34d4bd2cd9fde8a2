package detect

import (
	"cmp"
	"math/bits"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/stages/internal/detections"
)

// parallelMinRows is the fewest rows of a record that Process spreads over
// its workers; a smaller record is scored on the calling goroutine, where
// handing its few ensemble updates over would cost about what it saves.
const parallelMinRows = 256

// How a record's deferred ensemble updates are spread (see parallel):
// laneCount queues at least (a power of two, as their number: twice the
// workers rounded up when more), laneSeries series made one after another
// per queue, blockJobs jobs per block of a queue, a publication every
// publishJobs jobs deferred, and at most batchJobs jobs run per claim of a
// queue.
const (
	laneCount   = 16
	laneSeries  = 4
	blockJobs   = 64
	publishJobs = 32
	batchJobs   = 32
)

// How a goroutine of a record scored in parallel waits. A worker with
// nothing to run looks for published jobs for spinFor, then sleeps until
// a publication wakes it, and ends after idleFor without one; so a stage
// under load keeps its workers from record to record (a worker started
// anew waited 80–130 µs for a core in BenchmarkDetect's traces, a fifth of
// a 2 000-row record's time), and a stage without input holds neither a
// core nor a goroutine for long. The calling goroutine, waiting for a lane
// a worker runs, also looks for spinFor and then sleeps until a worker
// wakes it. Spinning longer costs when the cores are shared: with a busy
// loop on the second core, a worker and the calling goroutine that never
// slept took 1.25–1.4× one worker's time (BenchmarkDetectFleet).
const (
	spinFor = 50 * time.Microsecond
	idleFor = 100 * time.Millisecond
)

// ensembleJob is one row's ensemble update, deferred by Process on a
// record scored in parallel: the series' ensemble, the point, its place
// among the record's deferred updates (seq: its series is
// parallel.series[seq]) and the interface state its description reads,
// as the serial path sees it on the row (view: its index in
// parallel.views plus one, 0 when there is nothing to explain). A runner
// reads the job only, not the series, which the calling goroutine is
// writing meanwhile (on another core: the cache line would move), and
// never writes it; at 32 bytes, two jobs fill a cache line, so a
// publication (publishJobs, even) ends on a line's end.
type ensembleJob struct {
	e         *ensemble.Ensemble
	seq, view int32
	ts        int64
	x         float64
}

// firedJob is a deferred update whose point fired or resolved an alert:
// the job, the StartsAt of its transition (the alert's start after the
// update when it fired, before it when it resolved) and the result.
type firedJob struct {
	ensembleJob
	startsAt int64
	res      ensemble.Result
}

// ifaceView is what explain reads of an interface: a copy of its
// oper-status and carrier-transitions trackers' latest values (of the
// ones ifaceState.oper and carrier pick), taken when
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
	if o := f.oper(); o != nil {
		v.oper, v.operKeys, v.operChanged, v.operStatus, v.operRaw = true, o.key.Keys, o.se.Changed(), o.se.Status(), o.se.Raw()
	}
	if c := f.carrier(); c != nil {
		v.carrier, v.carrierKeys, v.carrierChanged, v.carrierCount = true, c.key.Keys, c.se.Changed(), c.se.Count()
	}
	return v
}

// explainable reports whether explain may find something in f: an
// oper-status or carrier-transitions series that changed.
func explainable(f *ifaceState) bool {
	if f == nil {
		return false
	}
	for _, list := range [...][]*seriesState{f.opers, f.carriers} {
		for _, st := range list {
			if st.se.Changed() != 0 {
				return true
			}
		}
	}
	return false
}

// jobBlock is a run of one lane's jobs.
type jobBlock [blockJobs]ensembleJob

// jobLane is a queue of deferred updates in row order: those of the
// series whose lane (laneOf, modulo the number of lanes) it is.
// The calling goroutine appends to it and publishes what it appended; any
// runner may claim it and run its published jobs in order, so a series'
// updates run one after another in row order, whichever goroutines run
// them. blocks is set before the record's runners start and not resized
// while they run; the fields runners share are atomic.
type jobLane struct {
	blocks []*jobBlock
	// The fields runners write on another cache line than blocks, which
	// the calling goroutine reads for every job it appends.
	_    [64]byte
	pub  atomic.Int32 // jobs published: runners may run those below
	done atomic.Int32 // jobs run, advanced by the lane's holder
	held atomic.Bool  // a runner is running the lane's jobs
	_    [64]byte     // the next lane's blocks on another cache line
}

// job returns the lane's k-th job.
func (l *jobLane) job(k int32) *ensembleJob { return &l.blocks[k/blockJobs][k%blockJobs] }

// runner is a goroutine running lanes: the calling goroutine (the first)
// or a worker. It keeps its own fired updates, so no cache line is written
// by two of them.
type runner struct {
	res   ensemble.Result
	fired []firedJob
	ran   int // jobs run in the record, for tests
	_     [64]byte
	// A worker's, on a line of their own (publish reads them): its
	// goroutine runs; it sleeps, waiting for wake.
	alive, sleep atomic.Bool
	wake         chan struct{}
	_            [64]byte
}

// parallel is the state of a record scored in parallel. The calling
// goroutine runs the serial pass over the rows and defers each ensemble
// update to its series' lane, publishing the lanes every publishJobs
// updates; the workers, started at a publication unless they still run
// from the record before, claim lanes with published jobs and run them in
// batches, and after the serial pass the calling goroutine does the same
// until every lane is run. A worker outlives its record by idleFor at
// most: the lanes are open (open) to runners while a record's jobs may
// run, and a runner claims lanes only inside enter and leave, so complete
// can wait until none reads them before the scratch is reused. Which
// goroutine runs a batch varies from run to run; the results do not
// (each series' updates run in row order, and flushJobs emits in the
// serial path's order). Process owns everything but the lanes' and
// runners' shared fields.
type parallel struct {
	on      bool            // the record being processed defers its ensemble updates
	res     ensemble.Result // the serial path's update's
	lanes   []jobLane       // the record's queues; reused
	counts  []int32         // jobs appended to each lane (calling goroutine only)
	pubbed  []int32         // jobs published of each lane (calling goroutine's copy)
	seq     int32           // jobs deferred in the record
	unpub   int             // jobs deferred since the last publication
	open    atomic.Bool     // the record's lanes may be claimed
	active  atomic.Int32    // workers between enter and leave
	runners []runner        // the calling goroutine's, then the workers'
	views   []ifaceView     // the interface views of the jobs that have one
	series  []*seriesState  // the series of each job, by seq (calling goroutine only)
	held    []*kgo.Record
	// heldAt holds, for each of held, the jobs deferred before it was
	// kept: a job's detection comes after the outputs kept before it.
	heldAt []int32
	keep   func(*kgo.Record) // appends to held and heldAt
	// holds is HoldOutputs'; pending, that the last record's updates
	// may still run and its outputs are held.
	holds, pending bool
	// records counts the records scored in parallel, for tests.
	records int
	// waiting: the calling goroutine sleeps in await until a worker
	// sends on released.
	waiting  atomic.Bool
	released chan struct{}
}

// begin readies the scratch for a record of n rows scored in parallel
// by w goroutines.
func (p *parallel) begin(n, w int) {
	p.records++
	if len(p.runners) != w {
		p.runners = make([]runner, w)
		for i := 1; i < w; i++ {
			p.runners[i].wake = make(chan struct{}, 1)
		}
		p.released = make(chan struct{}, 1)
		// A power of two, so a series' lane is a mask, not a division.
		nl := 1 << bits.Len(uint(max(laneCount, 2*w)-1))
		p.lanes, p.counts, p.pubbed = make([]jobLane, nl), make([]int32, nl), make([]int32, nl)
	}
	need := n/blockJobs + 1 // a lane has at most n jobs
	for i := range p.lanes {
		l := &p.lanes[i]
		if len(l.blocks) < need {
			l.blocks = append(l.blocks, make([]*jobBlock, need-len(l.blocks))...)
		}
	}
	p.open.Store(true)
}

// deferUpdate records the ensemble update of st at (ts, x) in its lane,
// with the state of its interface f (partState.stateOf), and publishes
// the lanes every publishJobs updates.
func (d *Stage) deferUpdate(st *seriesState, f *ifaceState, ts int64, x float64) {
	p := &d.par
	var view int32
	if explainableAt(f, d.stateGen) {
		p.views = append(p.views, viewOf(f))
		view = int32(len(p.views))
	}
	li := int(laneOf(st) & uint32(len(p.lanes)-1)) // modulo len(p.lanes), a power of two
	l, k := &p.lanes[li], p.counts[li]
	b := l.blocks[k/blockJobs]
	if b == nil {
		b = new(jobBlock)
		l.blocks[k/blockJobs] = b
	}
	b[k%blockJobs] = ensembleJob{e: st.e, seq: p.seq, view: view, ts: ts, x: x}
	p.series = append(p.series, st)
	p.counts[li], p.seq = k+1, p.seq+1
	if p.unpub++; p.unpub == publishJobs {
		p.publish()
	}
}

// laneOf returns the lane of st's updates (modulo the number of lanes):
// series made one after another share one, as their detectors' small
// objects, allocated side by side, share cache lines; two cores updating
// neighbours would move those lines back and forth (BenchmarkDetectFleet
// with 2 workers: 547 against 568 ms CPU per op with one series per lane,
// README).
func laneOf(st *seriesState) uint32 { return st.lane / laneSeries }

// publish publishes every lane's appended jobs to the runners, wakes the
// workers that sleep and starts those whose goroutine has ended.
func (p *parallel) publish() {
	p.unpub = 0
	for i, n := range p.counts {
		if n != p.pubbed[i] {
			p.pubbed[i] = n
			p.lanes[i].pub.Store(n)
		}
	}
	for i := 1; i < len(p.runners); i++ {
		// The worker's goroutine marks itself ended before it looks at
		// the lanes a last time, after publish's stores above: one of
		// the two sees the other's.
		r := &p.runners[i]
		switch {
		case r.sleep.Load():
			if r.sleep.CompareAndSwap(true, false) {
				r.wake <- struct{}{}
			}
		case !r.alive.Load() && r.alive.CompareAndSwap(false, true):
			go p.work(r, i*len(p.lanes)/len(p.runners))
		}
	}
}

// work is a worker: it runs lanes, from lane first on, while a record's
// lanes are open; with nothing to claim it spins for spinFor, then sleeps
// until publish wakes it, and ends after idleFor asleep.
func (p *parallel) work(r *runner, first int) {
	var idle time.Time // since when nothing was claimable
	var timer *time.Timer
	for {
		if p.enter() {
			ran := p.runLanes(r, first, 1)
			p.leave()
			if ran {
				idle = time.Time{}
				continue
			}
		}
		if now := time.Now(); idle.IsZero() || now.Sub(idle) <= spinFor {
			if idle.IsZero() {
				idle = now
			}
			runtime.Gosched()
			continue
		}
		idle = time.Time{}
		// Sleep. publish stores its jobs before it looks at sleep, and
		// the worker stores sleep before it looks at the lanes: one of
		// them sees the other's store.
		r.sleep.Store(true)
		if p.claimable() {
			r.unsleep()
			continue
		}
		if timer == nil {
			timer = time.NewTimer(idleFor)
		} else {
			timer.Reset(idleFor)
		}
		select {
		case <-r.wake:
			continue
		case <-timer.C:
		}
		if !r.unsleep() {
			continue
		}
		// End, unless publish has jobs for this runner and found it
		// alive (it stores its jobs before it looks at alive).
		r.alive.Store(false)
		if !p.claimable() || !r.alive.CompareAndSwap(false, true) {
			return
		}
	}
}

// unsleep takes back the worker's sleep flag and reports whether it did;
// when publish has taken it, it waits for publish's send instead.
func (r *runner) unsleep() bool {
	if r.sleep.CompareAndSwap(true, false) {
		return true
	}
	<-r.wake
	return false
}

// enter reports whether a worker may claim lanes, which it then does until
// it leaves.
func (p *parallel) enter() bool {
	p.active.Add(1)
	if p.open.Load() {
		return true
	}
	p.leave()
	return false
}

// leave ends a worker's enter, and wakes the calling goroutine if it
// waits in await: a lane it held, or its being inside, may have been what
// it waited for.
func (p *parallel) leave() {
	p.active.Add(-1)
	if p.waiting.Load() {
		select {
		case p.released <- struct{}{}:
		default: // a wake is already pending
		}
	}
}

// claimable reports whether a lane has published jobs not run and no
// holder.
func (p *parallel) claimable() bool {
	for i := range p.lanes {
		if l := &p.lanes[i]; l.done.Load() < l.pub.Load() && !l.held.Load() {
			return true
		}
	}
	return false
}

// runLanes claims each lane in turn, from lane first in direction step
// (1 or -1), and runs its published jobs, batchJobs at a time, releasing
// it between batches. It reports whether it ran any.
func (p *parallel) runLanes(r *runner, first, step int) bool {
	ran := false
	nl := len(p.lanes)
	for i := range nl {
		l := &p.lanes[((first+step*i)%nl+nl)%nl]
		for l.done.Load() < l.pub.Load() && l.held.CompareAndSwap(false, true) {
			done := l.done.Load()
			end := min(l.pub.Load(), done+batchJobs)
			for k := done; k < end; k++ {
				r.run(l.job(k))
			}
			l.done.Store(end)
			l.held.Store(false)
			ran = true
		}
	}
	return ran
}

// run runs the ensemble update of job j, keeping it in r.fired when it
// fired or resolved an alert. It does not write the job: the calling
// goroutine may be appending to its cache line (reset drops its pointer).
func (r *runner) run(j *ensembleJob) {
	startsAt := update(j.e, j.ts, j.x, &r.res)
	r.ran++
	if r.res.Transition != ensemble.None {
		r.fired = append(r.fired, firedJob{ensembleJob: *j, startsAt: startsAt, res: r.res})
	}
}

// update runs the update of e at (ts, x) into res and returns the StartsAt
// of its transition: the alert's start after the update when it fired,
// before it otherwise. It is the ensemble's Advance: the stage reads res
// only on a transition, so a quiet point's scores are not computed.
func update(e *ensemble.Ensemble, ts int64, x float64, res *ensemble.Result) int64 {
	before := e.StartedAt()
	e.Advance(ts, x, res)
	if res.Transition == ensemble.Fired {
		return e.StartedAt()
	}
	return before
}

// close publishes the record's last jobs.
func (p *parallel) close() {
	if p.seq > 0 {
		p.publish()
	}
}

// complete runs lanes on the calling goroutine until every job of the
// closed record has run, and closes the lanes: no worker reads them
// afterwards, until begin opens them to the next record.
func (p *parallel) complete() {
	p.await(func() bool {
		p.runLanes(&p.runners[0], len(p.lanes)-1, -1)
		for i := range p.lanes {
			// A lane a worker holds, the calling goroutine skips; the
			// worker runs it to its end.
			if p.lanes[i].done.Load() < p.counts[i] {
				return false
			}
		}
		return true
	})
	p.open.Store(false)
	p.await(func() bool { return p.active.Load() == 0 })
}

// await calls done until it reports true: for spinFor, then sleeping
// between calls until a worker leaves its lanes.
func (p *parallel) await(done func() bool) {
	var start time.Time
	for !done() {
		switch {
		case start.IsZero():
			start = time.Now()
		case time.Since(start) > spinFor:
			// A worker leaves after it stores what done reads, and looks
			// at waiting after it leaves: one of the two sees the other.
			p.waiting.Store(true)
			if !done() {
				<-p.released
			}
			p.waiting.Store(false)
			continue
		}
		runtime.Gosched()
	}
}

// HoldOutputs implements pipeline.Holder: Process then returns from a
// record scored in parallel once it has read it, the record's remaining
// ensemble updates running on the workers meanwhile (the runner's work
// and the next record's decoding overlap them), and its outputs are
// emitted when the next record is scored, at Flush, or before a record
// scored serially; any other method waits for the updates first. A fired
// record's alert bookkeeping (the series' onset and top member, which the
// changelog holds) is set when its detection is emitted, so Checkpoint and
// SeriesStates see it only after Flush, which pipeline.Holder's contract
// (and the TransactRunner) puts before every checkpoint.
func (d *Stage) HoldOutputs() { d.par.holds = true }

// Flush implements pipeline.Holder: it waits for the updates of a record
// left running and emits its outputs.
func (d *Stage) Flush(emit func(*kgo.Record)) error {
	if !d.par.pending {
		return nil
	}
	d.par.pending = false
	d.par.complete()
	return d.flushJobs(emit)
}

// wait waits for the updates of a record left running (its outputs stay
// held): the series' ensembles are then complete, their alert bookkeeping
// waits for Flush (see HoldOutputs).
func (d *Stage) wait() {
	if d.par.pending {
		d.par.complete()
	}
}

// reset empties the scratch, so it holds no series or record.
func (p *parallel) reset() {
	for i := range p.lanes {
		l := &p.lanes[i]
		for k, n := int32(0), p.counts[i]; k < n; k += blockJobs {
			clear(l.blocks[k/blockJobs][:min(n-k, blockJobs)])
		}
		l.pub.Store(0)
		l.done.Store(0)
	}
	for i := range p.runners {
		r := &p.runners[i]
		clear(r.fired)
		r.fired, r.ran = r.fired[:0], 0
	}
	clear(p.counts)
	clear(p.pubbed)
	clear(p.held)
	clear(p.views)
	clear(p.series)
	p.seq, p.unpub = 0, 0
	p.held, p.heldAt, p.views, p.series = p.held[:0], p.heldAt[:0], p.views[:0], p.series[:0]
}

// flushJobs emits the held outputs and the deferred updates' detections
// in the order the serial path emits them: each job's detection after the
// outputs held before its row. It leaves the scratch empty.
func (d *Stage) flushJobs(emit func(*kgo.Record)) error {
	p := &d.par
	defer p.reset()
	fired := p.runners[0].fired
	for i := 1; i < len(p.runners); i++ {
		fired = append(fired, p.runners[i].fired...)
	}
	p.runners[0].fired = fired // reused, and cleared by reset
	slices.SortFunc(fired, func(a, b firedJob) int { return cmp.Compare(a.seq, b.seq) })
	sent := 0
	var none ifaceView
	for i := range fired {
		j := &fired[i]
		for ; sent < len(p.held) && p.heldAt[sent] <= j.seq; sent++ {
			emit(p.held[sent])
		}
		iface := &none
		if j.view > 0 {
			iface = &p.views[j.view-1]
		}
		if err := d.transition(emit, p.series[j.seq], j.ts, j.x, j.startsAt, iface, &j.res); err != nil {
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
