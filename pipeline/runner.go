package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// Defaults of RunnerConfig.
const (
	DefaultFlushRows     = 100_000
	DefaultFlushInterval = time.Second
	DefaultMaxPoll       = 10_000
	// maxBackoff caps the wait between retries of a failed flush, so a
	// stage resumes within seconds of its sink coming back.
	maxBackoff  = 5 * time.Second
	pollTimeout = 250 * time.Millisecond
	// FinalFlushTimeout bounds the flush and commit a Runner makes when its
	// context ends, a flush being retried included: a stage whose sink is
	// down stops within it (plus the sink's own I/O timeout when the sink
	// ignores the context) and says how many rows it did not flush. The
	// final flush's context ends stopCloseMargin before it, for closing.
	FinalFlushTimeout = 10 * time.Second
	// stopCloseMargin is the part of FinalFlushTimeout the final flush
	// leaves for what follows it (leaving the group, closing the sink and
	// the clients), so a stage whose final flush uses all of its time
	// still exits within FinalFlushTimeout of the stop.
	stopCloseMargin = 500 * time.Millisecond
	// finalFlushBudget is the final flush's time, from the stop.
	finalFlushBudget = FinalFlushTimeout - stopCloseMargin
)

// ErrStop, wrapped in an error from Sink.Flush, stops the runner without
// retrying and without committing.
var ErrStop = errors.New("stage cannot continue")

// Sink receives the records a Runner consumes.
type Sink interface {
	// Add processes one record. The record and its slices must not be held
	// after Add returns. An error wrapping schemas.ErrMalformed,
	// schemas.ErrUnknownVersion or schemas.ErrContentType dead-letters the
	// record and the runner goes on; any other error stops the runner.
	Add(ctx context.Context, r *kgo.Record) error
	// Flush makes everything added so far durable and returns the number of
	// rows it wrote. The runner commits offsets only after Flush succeeds,
	// and retries a failed Flush with backoff; a failed Flush must keep what
	// it has so the retry can write it.
	Flush(ctx context.Context) (int, error)
	// Pending returns the number of rows added but not yet flushed.
	Pending() int
}

// PartitionDropper is implemented by a Sink that keeps what it was given
// per partition. When the runner gives a partition up with its records not
// durable (the flush on its revocation failed, or the group took it away,
// which a heartbeat between the retries of a failed flush finds out), it
// calls DropPartition: the partition's next owner reads those records
// again from the committed offset, so the sink must not write them later,
// which would race with that owner's writes (a Parquet file of them could
// replace the owner's committed files).
type PartitionDropper interface {
	// DropPartition forgets what was added from topic's partition and
	// not yet flushed.
	DropPartition(topic string, partition int32)
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Name            string        // stage name, for logs and metrics
	Group           string        // consumer group
	Topics          []string      // topics to consume
	DeadLetterTopic string        // where undecodable records go; default DefaultDeadLetterTopic
	FlushRows       int           // flush when this many rows are pending; default DefaultFlushRows
	FlushInterval   time.Duration // flush at least this often while rows are pending; default DefaultFlushInterval
}

// Runner consumes topics in a consumer group and feeds a Sink, committing
// offsets after each successful flush (at-least-once into the sink; sinks
// make re-delivery harmless). A slow sink slows consumption: nothing is
// polled while a flush is running or being retried.
type Runner struct {
	cfg       RunnerConfig
	client    *kgo.Client
	sink      Sink
	log       *slog.Logger
	fetchErrs *fetchErrors // Run goroutine only (sampleLag too)
	metrics   *Metrics

	mu sync.Mutex // guards sink, done and epochs between the loop and callers
	// done is the next offset of each partition given to the sink (or
	// dead-lettered), and epochs the leader epoch of its record: a flush
	// commits exactly these, never a record polled but not yet given.
	done   map[string]map[int32]int64
	epochs map[string]map[int32]int32
	// drain is the target set by DrainTo; not under mu, so setting it
	// never waits for a flush that is being retried.
	drain atomic.Pointer[map[string]map[int32]int64]
	owned owned
	// groupCommitted caches the group's committed offsets for a drain
	// that waits on partitions this member does not own.
	groupCommitted groupOffsets
	commitFailing  bool // the last flush could not commit; under mu
	flushed        atomic.Int64
	dead           atomic.Int64
	records        atomic.Int64
	drops          dropExporter // rows the sink dropped; under mu
	dropped        atomic.Int64
	// stopped is set by the final flush: the partitions the client gives
	// up when it closes are not flushed again (a failing sink would hold
	// the exit for another round of its timeout).
	stopped atomic.Bool
	// work ends finalFlushBudget after Run's context (see afterStop): the
	// records of a poll already taken and the final flush share that time.
	// Before Run, it never ends.
	work context.Context
	// stopAt is when Run's context ended (Unix nanoseconds; 0 before), so
	// the final flush's context carries work's end as its deadline.
	stopAt atomic.Int64
}

// NewRunner connects a consumer-group client with base options (from
// KafkaConfig.Opts) and returns a runner; Run starts consuming.
func NewRunner(ctx context.Context, kc kafka.Config, cfg RunnerConfig, sink Sink, m *Metrics, log *slog.Logger) (*Runner, error) {
	if cfg.Name == "" || cfg.Group == "" || len(cfg.Topics) == 0 {
		return nil, errors.New("pipeline: runner needs a name, a group and topics")
	}
	if cfg.DeadLetterTopic == "" {
		cfg.DeadLetterTopic = kafka.DefaultDeadLetterTopic
	}
	if cfg.FlushRows <= 0 {
		cfg.FlushRows = DefaultFlushRows
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	r := &Runner{cfg: cfg, sink: sink, metrics: m, log: log.With("stage", cfg.Name), fetchErrs: newFetchErrors(log.With("stage", cfg.Name)), done: map[string]map[int32]int64{}, epochs: map[string]map[int32]int32{}, drops: newDropExporter(sink), work: context.Background()}
	cl, err := kafka.Connect(ctx, kc,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers take offsets too; seeing them lets a drain
		// reach the end offset of a transactional topic.
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.owned.add(a)
			r.metrics.rebalances.WithLabelValues(r.cfg.Name).Inc()
		}),
	)
	if err != nil {
		return nil, err
	}
	r.client = cl
	return r, nil
}

// onRevoked flushes and commits before partitions move to another member,
// so the new owner starts where this one stopped.
func (r *Runner) onRevoked(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics.rebalances.WithLabelValues(r.cfg.Name).Inc()
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	// franz-go also calls it with nothing revoked: nothing to hand over,
	// and a try at a sink that is down would hold the rebalance for nothing.
	if r.stopped.Load() || n == 0 {
		return
	}
	// ctx is the client's, which only its Close ends, and Run waits for
	// r.mu, held here, before it gets there: the flush also ends with
	// work, finalFlushBudget after a stop, so a sink that hangs (and
	// honours its context) cannot hold the stop.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(r.work, cancel)()
	if err := r.flushLocked(fctx); err != nil {
		r.log.Warn("cannot flush on partition revocation; the new owner will re-read uncommitted records", "partitions", m, "err", err)
	}
	r.forgetLocked(m)
}

// forgetLocked drops partitions from what the member owns and has
// processed: if they come back, the drain judges them by the group's
// committed offsets again, not by records processed but never committed.
// A sink that keeps records per partition forgets what it has of them
// (PartitionDropper), so it does not write them under another owner.
// The caller holds r.mu.
func (r *Runner) forgetLocked(m map[string][]int32) {
	r.owned.remove(m)
	dropper, _ := r.sink.(PartitionDropper)
	for t, ps := range m {
		for _, p := range ps {
			delete(r.done[t], p)
			delete(r.epochs[t], p)
			if dropper != nil {
				dropper.DropPartition(t, p)
			}
		}
	}
}

// loseAllLocked forgets every partition after the group answered a
// commit that it does not know this member (its session ended, as when a
// flush retried past the rebalance timeout held a rebalance): another
// member has them, and the client, which learns it only once the loop
// lets the rebalance go on, would still return their buffered records,
// to be written and committed over the new owner's. franz-go reports them
// lost then, and assigns the member's new partitions. The caller holds
// r.mu.
func (r *Runner) loseAllLocked() {
	m := map[string][]int32{}
	for t, ps := range r.owned.parts {
		for p := range ps {
			m[t] = append(m[t], p)
		}
	}
	r.forgetLocked(m)
	r.log.Warn("the group no longer knows this member: its partitions are lost", "partitions", m,
		"detail", "what it did not commit is read again by their next owner")
}

// Run consumes until ctx is done, or until a target set by DrainTo is
// reached, then flushes what it has and commits, and leaves the group:
// once ctx is done it returns within StopTimeout, with the broker away
// too (the flush and commit within FinalFlushTimeout, leaving the group
// within stopAbortWait).
func (r *Runner) Run(ctx context.Context) error {
	return r.run(ctx)
}

// DrainTo makes Run return once every record below the given end offsets
// (as read by EndOffsets) has been flushed and committed. Safe to call
// while Run runs.
func (r *Runner) DrainTo(end map[string]map[int32]int64) {
	r.drain.Store(&end)
}

// EndOffsets returns the current end offsets of the runner's topics.
func (r *Runner) EndOffsets(ctx context.Context) (map[string]map[int32]int64, error) {
	return EndOffsets(ctx, r.client, r.cfg.Topics...)
}

// EndOffsets lists the end offsets of topics.
func EndOffsets(ctx context.Context, cl *kgo.Client, topics ...string) (map[string]map[int32]int64, error) {
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("kafka: cannot list end offsets: %w", err)
	}
	out := map[string]map[int32]int64{}
	var firstErr error
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil && firstErr == nil {
			firstErr = o.Err
		}
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	if firstErr != nil {
		return nil, fmt.Errorf("kafka: cannot list end offsets: %w", firstErr)
	}
	return out, nil
}

// sampleLag sets the lag gauge from the topics' end offsets and the owned
// partitions' positions.
func (r *Runner) sampleLag(ctx context.Context) {
	end, err := EndOffsets(ctx, r.client, r.cfg.Topics...)
	if err != nil {
		return
	}
	committed := r.client.CommittedOffsets()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics.lag.WithLabelValues(r.cfg.Name).Set(float64(r.owned.lag(end, r.done, committed)))
	r.fetchErrs.pastEnd(&r.owned, end, r.done)
}

// onLost forgets partitions the group took away without a revocation (the
// session timed out, for example while the broker was unreachable); what
// was not committed is re-read by the next owner.
func (r *Runner) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgetLocked(m)
	r.metrics.rebalances.WithLabelValues(r.cfg.Name).Inc()
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	if n > 0 { // franz-go also calls it with nothing lost
		r.log.Warn("partitions lost", "partitions", m, "detail", "taken away without a revocation; uncommitted records will be re-read by the next owner")
	}
}

// reached reports whether the drain target end is reached; the caller
// holds r.mu.
func (r *Runner) reached(ctx context.Context, end map[string]map[int32]int64) bool {
	return r.owned.reached(end, r.done, r.client.CommittedOffsets(), func() map[string]map[int32]int64 {
		return r.groupCommitted.get(ctx, r.client, r.cfg.Group)
	})
}

// afterStop returns a context that ends timeout after ctx (the stop) does,
// or when its cancel is called: what a stop lets finish (a transaction's
// commit, the records of a poll already taken) has that long.
func afterStop(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(timeout, cancel) })
	return work, func() { stop(); cancel() }
}

// leaveGroup runs closeClient, a consumer's Close, which leaves its group,
// and waits for it at most stopAbortWait: a broker that is away holds the
// leave (the client retries it for 30 s), and the group's session timeout
// then moves the partitions instead. A close given up on goes on in the
// background; the process is stopping.
func leaveGroup(closeClient func(), log *slog.Logger) {
	closed := make(chan struct{})
	go func() { closeClient(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(stopAbortWait):
		log.Warn("leaving the consumer group did not finish in time; its session timeout moves the partitions", "waited", stopAbortWait.String())
	}
}

func (r *Runner) run(ctx context.Context) error {
	defer func() {
		// What Run flushed and committed on its way out is all it commits:
		// the revocation that leaving the group brings does not flush
		// again (it could outlive Run, which gives up leaving after
		// stopAbortWait, and use the sink while its owner closes it).
		r.stopped.Store(true)
		leaveGroup(r.client.Close, r.log)
	}()
	// The records of a poll are given to the sink (or dead-lettered) on
	// work, so a stop during a poll's records does not fail them.
	work, cancelWork := afterStop(ctx, finalFlushBudget)
	defer cancelWork()
	r.mu.Lock() // onRevoked reads it, on the client's goroutine
	r.work = work
	r.mu.Unlock()
	defer context.AfterFunc(ctx, func() { r.stopAt.CompareAndSwap(0, time.Now().UnixNano()) })()
	lastFlush, lagAt := time.Now(), time.Now()
	for {
		if time.Since(lagAt) > lagInterval {
			lagAt = time.Now()
			r.sampleLag(ctx)
		}
		var end map[string]map[int32]int64
		if p := r.drain.Load(); p != nil {
			end = *p
		}
		r.mu.Lock()
		if end != nil && r.sink.Pending() == 0 && r.reached(ctx, end) {
			// Commit what was processed since the last flush (transaction
			// markers, dead letters) before stopping.
			err := r.flushRetrying(ctx)
			if !errors.Is(err, errCommit) {
				r.mu.Unlock()
				return err
			}
			// Not committed: poll on, so the member can rejoin its group.
		}
		r.mu.Unlock()
		// Poll briefly so a flush interval or a drain target is noticed
		// even when no records arrive.
		pctx, cancel := context.WithTimeout(ctx, min(r.cfg.FlushInterval, pollTimeout))
		fetches := r.client.PollRecords(pctx, DefaultMaxPoll)
		cancel()
		if ctx.Err() != nil {
			r.client.AllowRebalance()
			return r.final()
		}
		var runErr error
		errs := r.fetchErrs.report(fetches)
		r.mu.Lock()
		fetches.EachRecord(func(rec *kgo.Record) {
			if runErr != nil || !r.owned.parts[rec.Topic][rec.Partition] {
				// Records of a partition the member lost (a commit found
				// its session gone) that the client still had: the next
				// owner reads them.
				return
			}
			if rec.Attrs.IsControl() {
				r.advance(rec)
				return
			}
			r.records.Add(1)
			r.metrics.records.WithLabelValues(r.cfg.Name).Inc()
			if err := r.sink.Add(work, rec); err != nil {
				if !isBadInput(err) {
					runErr = fmt.Errorf("%s: %w", r.cfg.Name, err)
					return
				}
				if err := r.deadLetter(work, rec, err); err != nil {
					runErr = fmt.Errorf("%s: %w", r.cfg.Name, err)
					return
				}
			}
			r.advance(rec)
		})
		r.metrics.countDrops(r.cfg.Name, r.drops.since(), &r.dropped)
		if runErr != nil {
			// Flush and commit what the sink took before the failing
			// record, so only that record and those after it are read
			// again.
			r.mu.Unlock()
			r.client.AllowRebalance()
			if err := r.final(); err != nil {
				return fmt.Errorf("%w; %w", runErr, err)
			}
			return runErr
		}
		if r.sink.Pending() >= r.cfg.FlushRows || time.Since(lastFlush) >= r.cfg.FlushInterval || (end != nil && r.reached(ctx, end)) {
			if err := r.flushRetrying(ctx); err != nil && !errors.Is(err, errCommit) {
				r.mu.Unlock()
				r.client.AllowRebalance()
				return err
			}
			lastFlush = time.Now()
		}
		r.mu.Unlock()
		r.client.AllowRebalance()
		r.fetchErrs.backoff(ctx, fetches, errs)
	}
}

// final flushes and commits on shutdown, within finalFlushBudget.
func (r *Runner) final() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finalLocked()
}

// finalLocked is final for a caller that holds r.mu (a flush being retried
// when shutdown comes). A failure is one error saying how many rows were
// not flushed; their records are not committed, so the next owner reads
// them again.
func (r *Runner) finalLocked() error {
	r.stopped.Store(true)
	// Within finalFlushBudget of now, and of the stop (work): the poll's
	// records given to the sink after the stop count against it. The
	// deadline says so, for a sink that sets its I/O timeouts from it.
	deadline := time.Now().Add(finalFlushBudget)
	if at := r.stopAt.Load(); at != 0 && time.Unix(0, at).Add(finalFlushBudget).Before(deadline) {
		deadline = time.Unix(0, at).Add(finalFlushBudget)
	}
	ctx, cancel := context.WithDeadline(r.work, deadline)
	defer cancel()
	pending := r.sink.Pending()
	switch err := r.flushLocked(ctx); {
	case errors.Is(err, errCommit):
		return fmt.Errorf("%s: stopped with its rows written but their records' offsets not committed (%v); a restart against the same Kafka delivers those records again",
			r.cfg.Name, err)
	case err != nil:
		return fmt.Errorf("%s: stopped without flushing %d rows (last try: %v); their records are not committed, so a restart against the same Kafka reads them again",
			r.cfg.Name, pending, err)
	}
	return nil
}

// flushRetrying flushes with exponential backoff until it succeeds or ctx
// ends. The caller holds r.mu.
func (r *Runner) flushRetrying(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	failing := false
	for {
		err := r.flushLocked(ctx)
		if err == nil {
			if failing || r.commitFailing {
				r.log.Info("flush recovered")
			}
			r.commitFailing = false
			return nil
		}
		if errors.Is(err, ErrStop) {
			r.metrics.flushErrors.WithLabelValues(r.cfg.Name).Inc()
			return fmt.Errorf("%s: %w", r.cfg.Name, err)
		}
		if ctx.Err() != nil {
			// The stop cut the flush short: the final flush, on a context
			// of its own, is the one that counts (and says what failed).
			return r.finalLocked()
		}
		r.metrics.flushErrors.WithLabelValues(r.cfg.Name).Inc()
		if errors.Is(err, errCommit) {
			// The rows are durable, only the offsets are not. Retrying here
			// would hold the poll, and a member whose session expired
			// rejoins its group only by polling: poll on and commit with a
			// later flush (what is never committed is re-read).
			if !r.commitFailing {
				r.log.Warn("cannot commit offsets; consuming on so the member can rejoin its group", "err", err)
				r.commitFailing = true
			}
			return err
		}
		if !failing {
			r.log.Error("flush failed; retrying with backoff, consumption paused", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		if ctx.Err() != nil {
			// Stopping: no heartbeat, whose wait (up to a second with the
			// broker away) would come out of the final flush's time. The
			// caller holds r.mu: final would wait for it for ever.
			return r.finalLocked()
		}
		// The retries hold the rebalance: past the group's rebalance
		// timeout the group goes on without this member, and a retry that
		// then wrote the rows it holds would write them after their new
		// owner did.
		if r.lostMemberLocked(ctx) && r.sink.Pending() == 0 {
			// Nothing left to write or commit: poll on, so the member
			// rejoins its group.
			return fmt.Errorf("%w: the group no longer knows this member", errCommit)
		}
		if ctx.Err() != nil {
			return r.finalLocked()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// lostMemberLocked asks the group's coordinator, with a heartbeat, whether
// this member is still in its group, and when the group no longer knows it
// forgets every partition (loseAllLocked) and reports true. Nothing the
// member holds of them was committed (a flush commits only after the sink
// made its rows durable, and the sink holds none of those), so their next
// owner reads every row of them again from the committed offset: dropping
// them loses nothing, and a sink that keeps them per partition
// (PartitionDropper) does not write them after that owner did. A heartbeat
// that gets no answer (the broker away) or any other one keeps them. The
// caller holds r.mu.
func (r *Runner) lostMemberLocked(ctx context.Context) bool {
	member, gen := r.client.GroupMetadata()
	owns := false
	for _, ps := range r.owned.parts {
		owns = owns || len(ps) > 0
	}
	if member == "" || !owns {
		return false
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pollTimeout*4)
	defer cancel()
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.Generation, req.MemberID = r.cfg.Group, gen, member
	resp, err := req.RequestWith(hctx, r.client)
	if err != nil || !errors.Is(kerr.ErrorForCode(resp.ErrorCode), kerr.UnknownMemberID) {
		return false
	}
	r.loseAllLocked()
	return true
}

// errCommit marks a flush whose rows the sink made durable but whose
// offsets could not be committed.
var errCommit = errors.New("commit offsets")

func (r *Runner) flushLocked(ctx context.Context) error {
	start := time.Now()
	n, err := r.sink.Flush(ctx)
	if err != nil {
		return err
	}
	r.flushed.Add(int64(n))
	r.metrics.written.WithLabelValues(r.cfg.Name).Add(float64(n))
	r.metrics.flushTime.WithLabelValues(r.cfg.Name).Observe(time.Since(start).Seconds())
	if err := r.commitDone(ctx); err != nil {
		if errors.Is(err, kerr.UnknownMemberID) {
			r.loseAllLocked()
		}
		return fmt.Errorf("%w: %w", errCommit, err)
	}
	return nil
}

// advance notes that rec was given to the sink (or dead-lettered, or is a
// transaction marker). The caller holds r.mu.
func (r *Runner) advance(rec *kgo.Record) {
	if r.done[rec.Topic] == nil {
		r.done[rec.Topic] = map[int32]int64{}
		r.epochs[rec.Topic] = map[int32]int32{}
	}
	r.done[rec.Topic][rec.Partition] = rec.Offset + 1
	r.epochs[rec.Topic][rec.Partition] = rec.LeaderEpoch
}

// commitDone commits the offsets of what the sink was given (done) where
// they are ahead of the group's, after a flush made it durable. Not the
// client's uncommitted offsets: those include a poll a stop cut short,
// whose records the sink never saw. The caller holds r.mu.
func (r *Runner) commitDone(ctx context.Context) error {
	committed := r.client.CommittedOffsets()
	offs := map[string]map[int32]kgo.EpochOffset{}
	for t, ps := range r.done {
		for p, off := range ps {
			if c, ok := committed[t][p]; ok && c.Offset >= off {
				continue
			}
			if offs[t] == nil {
				offs[t] = map[int32]kgo.EpochOffset{}
			}
			offs[t][p] = kgo.EpochOffset{Epoch: r.epochs[t][p], Offset: off}
		}
	}
	if len(offs) == 0 {
		return nil
	}
	var cerr error
	r.client.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil && cerr == nil {
					cerr = fmt.Errorf("partition %s/%d: %w", t.Topic, p.Partition, err)
				}
			}
		}
	})
	return cerr
}

func isBadInput(err error) bool {
	return errors.Is(err, schemas.ErrMalformed) || errors.Is(err, schemas.ErrUnknownVersion) || errors.Is(err, schemas.ErrContentType)
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, schemas.ErrUnknownVersion):
		return "unknown_version"
	case errors.Is(err, schemas.ErrContentType):
		return "content_type"
	}
	return "malformed"
}

// Stage is a runnable stage: a Runner or a TransactRunner.
type Stage interface {
	// Run runs the stage until ctx is done or a drain target is reached.
	Run(ctx context.Context) error
	// DrainTo sets the drain target (end offsets from EndOffsets).
	DrainTo(end map[string]map[int32]int64)
	// Stats returns the stage's counters.
	Stats() Stats
}

var _ Stage = (*Runner)(nil)

// Stats are a stage's counters.
type Stats struct {
	Records     int64 // input records consumed
	Flushed     int64 // rows made durable by a sink, or outputs committed by a transactional stage
	DeadLetters int64
	DroppedRows int64 // single rows dropped from good messages (RowDropper)
	// Transactional stages only.
	Transactions, Aborts, Restored int64
}

// Stats returns the counters so far. Safe for concurrent use.
func (r *Runner) Stats() Stats {
	return Stats{Records: r.records.Load(), Flushed: r.flushed.Load(), DeadLetters: r.dead.Load(), DroppedRows: r.dropped.Load()}
}
