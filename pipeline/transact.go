package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telekernel/telekernel/kafka"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Processor is a Kafka→Kafka stage operator whose state is partitioned like
// its input: the state of input partition p is checkpointed to partition p
// of the stage's changelog topic, so whichever instance owns p can restore
// it.
type Processor interface {
	// Process handles one input record and passes its outputs to emit. An
	// error wrapping schemas.ErrMalformed, schemas.ErrUnknownVersion or
	// schemas.ErrContentType dead-letters the record; any other error
	// aborts the transaction and stops the stage. With a checkpoint
	// interval (TransactionConfig.CheckpointInterval), a restore calls it
	// again on the records since the partition's checkpoint, with emit
	// discarding the outputs: it must then give the same state for the
	// same input, and have no other effect that matters.
	Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error
	// Checkpoint passes the state changed since the last call to emit, one
	// changelog record per key, with the input partition it belongs to.
	Checkpoint(emit func(partition int32, key, value []byte))
	// Restore loads one changelog record of an input partition. A nil
	// value is a tombstone.
	Restore(partition int32, key, value []byte) error
	// Drop forgets the state of a partition: it was revoked, lost, or its
	// transaction aborted (it is then restored again from the changelog).
	Drop(partition int32)
	// Committed says that n outputs of the last transaction became
	// visible.
	Committed(n int)
}

// TransactConfig configures a TransactRunner.
type TransactConfig struct {
	Name            string // stage name, for logs and metrics
	Group           string // consumer group
	Input           string // input topic
	Changelog       string // compacted changelog topic; default GROUP-changelog
	DeadLetterTopic string // default DefaultDeadLetterTopic
	// TransactionalID must be unique per running instance; default
	// GROUP-<random>. Fencing of zombies is by group generation (KIP-447).
	// Two live instances given the same one fence each other in turn: the
	// one fenced 3 times within 10 minutes stops with an error, and the
	// other goes on.
	TransactionalID string
	// TransactionTimeout bounds how long a crashed instance's open
	// transaction blocks read-committed readers; default 10s, or twice
	// Transaction.CheckpointInterval plus 10s when that is set.
	TransactionTimeout time.Duration
	// MaxPoll is the most records of one poll; default DefaultMaxPoll. It
	// bounds memory with the fetch limits.
	MaxPoll int
	// Transaction sets the cadence of transactions; a zero field takes the
	// processor's (see TransactionCadence), then the default.
	Transaction TransactionConfig
}

// TransactRunner runs a Processor exactly once from one Kafka topic to
// others: each transaction (the polls of TransactConfig.Transaction's
// interval) holds the outputs, one changelog record per key of the state
// they changed, and the consumed offsets. Consumers of the outputs that
// read committed see every output once. On assignment of a
// partition the runner restores its state from the changelog before
// processing it; on revocation it drops it (everything it had is already in
// the changelog). A transaction that fails on the broker's side (see
// renew) does not stop it: it starts over from the last commit with a new
// session.
type TransactRunner struct {
	cfg       TransactConfig
	fetchErrs *fetchErrors // Run goroutine only (sampleLag too)
	kc        kafka.Config
	opts      []kgo.Opt                 // the session's options without its callbacks
	sess      *kgo.GroupTransactSession // replaced by renew; Run goroutine only
	reader    *kgo.Client               // reads the changelog on restore
	proc      Processor
	log       *slog.Logger
	metrics   *Metrics

	mu sync.Mutex
	// gen numbers the sessions: the callbacks of a session renew replaced
	// (still closing) are ignored.
	gen      int
	drain    map[string]map[int32]int64
	toDrop   []int32 // partitions revoked or lost, dropped by the loop
	restored map[int32]bool
	// marked holds the partitions whose changelog has a committed
	// checkpoint marker (found when restored, or written by a committed
	// checkpoint): their markers are kept current even when every
	// transaction checkpoints. Run goroutine only.
	marked map[int32]bool
	done   map[int32]int64 // next input offset processed and committed
	owned  owned
	// groupCommitted caches the group's committed offsets for a drain
	// that waits on partitions this member does not own.
	groupCommitted groupOffsets

	records, dead, txns, aborts, restoredKeys, outputs atomic.Int64
	abortStreak                                        int // consecutive aborted transactions; Run goroutine only
	// renewStreak and fenceStreak count the sessions renew replaced, and
	// those fenced, since the last commit; fences holds when the sessions
	// of the last fenceWindow were fenced, commits in between or not. Run
	// goroutine only.
	renewStreak, fenceStreak int
	fences                   []time.Time
	// dlqLimit is the size dead letters are cut to; it shrinks when the
	// dead-letter topic rejects one as too large. Run goroutine only.
	dlqLimit int
	// checkpointed is when the last transaction that committed a
	// checkpoint began; uncheckpointed says a transaction committed
	// without one since (see checkpointLast). Run goroutine only.
	checkpointed   time.Time
	uncheckpointed bool
	// txnLimit, when above 0, is the most input records a transaction
	// takes since one outlived the transaction timeout (see outlived).
	// Run goroutine only.
	txnLimit int
	// drops turns the processor's dropped rows into metrics at each
	// commit; dropped is their committed total. Run goroutine only.
	drops   dropExporter
	dropped atomic.Int64
}

// NewTransactRunner connects and returns a runner; Run starts it. The
// changelog topic is created (compacted, with the input's partition count)
// when it does not exist.
func NewTransactRunner(ctx context.Context, kc kafka.Config, cfg TransactConfig, proc Processor, m *Metrics, log *slog.Logger) (*TransactRunner, error) {
	if cfg.Name == "" || cfg.Group == "" || cfg.Input == "" {
		return nil, errors.New("pipeline: transact runner needs a name, a group and an input topic")
	}
	if cfg.Changelog == "" {
		cfg.Changelog = cfg.Group + "-changelog"
	}
	if cfg.DeadLetterTopic == "" {
		cfg.DeadLetterTopic = kafka.DefaultDeadLetterTopic
	}
	if cfg.TransactionalID == "" {
		cfg.TransactionalID = cfg.Group + "-" + randomID()
	}
	if cfg.MaxPoll <= 0 {
		cfg.MaxPoll = DefaultMaxPoll
	}
	cfg.Transaction = cadence(cfg.Transaction, proc)
	if err := cfg.Transaction.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline: %s: transaction.%w", cfg.Name, err)
	}
	// A partition restored inside an open transaction replays up to a
	// checkpoint interval's input in it.
	replayRoom := 2*cfg.Transaction.CheckpointInterval + 10*time.Second
	if cfg.TransactionTimeout == 0 {
		cfg.TransactionTimeout = replayRoom
	}
	if cfg.Transaction.CheckpointInterval > 0 && cfg.TransactionTimeout < replayRoom {
		return nil, fmt.Errorf("pipeline: %s: transaction.checkpoint_interval: %v needs a transaction timeout of at least twice it plus 10s (%v), not %v: a partition restored inside a transaction replays up to one interval of input",
			cfg.Name, cfg.Transaction.CheckpointInterval, replayRoom, cfg.TransactionTimeout)
	}
	if cfg.Transaction.Interval > cfg.TransactionTimeout/2 {
		return nil, fmt.Errorf("pipeline: %s: transaction.interval: %v must be at most half the transaction timeout (%v)", cfg.Name, cfg.Transaction.Interval, cfg.TransactionTimeout)
	}
	if cfg.Transaction.CatchUp > cfg.TransactionTimeout/2 {
		return nil, fmt.Errorf("pipeline: %s: transaction.catch_up: %v must be at most half the transaction timeout (%v)", cfg.Name, cfg.Transaction.CatchUp, cfg.TransactionTimeout)
	}
	t := &TransactRunner{cfg: cfg, kc: kc, proc: proc, metrics: m, log: log.With("stage", cfg.Name), fetchErrs: newFetchErrors(log.With("stage", cfg.Name)),
		restored: map[int32]bool{}, marked: map[int32]bool{}, done: map[int32]int64{}, dlqLimit: DeadLetterMaxBytes, drops: newDropExporter(proc)}
	if h, ok := proc.(Holder); ok {
		h.HoldOutputs()
	}

	admin, err := kafka.Connect(ctx, kc)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	parts, err := partitionCount(ctx, admin, cfg.Input)
	if err != nil {
		return nil, err
	}
	if err := kafka.EnsureTopics(ctx, admin, kafka.TopicSpec{Name: cfg.Changelog, Partitions: parts, Compacted: true}); err != nil {
		return nil, err
	}
	if n, err := partitionCountWait(ctx, admin, cfg.Changelog); err != nil {
		return nil, err
	} else if n != parts {
		return nil, fmt.Errorf("pipeline: changelog %s has %d partitions but input %s has %d; they must match (delete the changelog to rebuild it)", cfg.Changelog, n, cfg.Input, parts)
	}

	if t.opts, err = kc.Opts(); err != nil {
		return nil, err
	}
	t.opts = append(t.opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Input),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(changelogPartitioner{changelog: cfg.Changelog, dflt: kgo.StickyKeyPartitioner(nil)}),
	)
	if t.sess, err = t.newSession(0); err != nil {
		return nil, err
	}
	// The changelog reader's options are read again (a password file
	// rewritten since is read anew); failing, it would have no brokers.
	ropts, err := kc.Opts()
	if err != nil {
		t.sess.Close()
		return nil, err
	}
	t.reader, err = kgo.NewClient(append(ropts, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		t.sess.Close()
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return t, nil
}

// changelogPartitioner sends changelog records to the partition set on the
// record (the input partition whose state they hold) and everything else
// by key hash, as Kafka's default partitioner does.
type changelogPartitioner struct {
	changelog string
	dflt      kgo.Partitioner
}

func (p changelogPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	if t == p.changelog {
		return kgo.ManualPartitioner().ForTopic(t)
	}
	return p.dflt.ForTopic(t)
}

// newSession returns a transactional session of generation gen: its
// callbacks are ignored once renew replaced it.
func (t *TransactRunner) newSession(gen int) (*kgo.GroupTransactSession, error) {
	opts := append(slices.Clip(t.opts),
		kgo.Balancers(syncedBalancer{kgo.CooperativeStickyBalancer(), t.onSynced(gen)}),
		kgo.OnPartitionsRevoked(t.onGone("revoked", gen)),
		kgo.OnPartitionsLost(t.onGone("lost", gen)),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			t.mu.Lock()
			defer t.mu.Unlock()
			if gen != t.gen {
				return
			}
			t.owned.add(a)
			t.metrics.rebalances.WithLabelValues(t.cfg.Name).Inc()
			t.log.Info("partitions assigned", "partitions", a[t.cfg.Input])
		}),
	)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return sess, nil
}

func (t *TransactRunner) onGone(why string, gen int) func(context.Context, *kgo.Client, map[string][]int32) {
	return func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if gen != t.gen {
			return // a replaced session closing: its state is already dropped
		}
		t.toDrop = append(t.toDrop, m[t.cfg.Input]...)
		t.owned.remove(m)
		t.metrics.rebalances.WithLabelValues(t.cfg.Name).Inc()
		if len(m[t.cfg.Input]) == 0 {
			return // franz-go also calls it with nothing taken
		}
		if why == "lost" {
			t.log.Warn("partitions lost", "partitions", m[t.cfg.Input], "detail", "taken away without a revocation; uncommitted records will be re-read by the next owner")
			return
		}
		t.log.Info("partitions "+why, "partitions", m[t.cfg.Input])
	}
}

// syncedBalancer is a balancer that also passes every assignment the
// member syncs to synced.
type syncedBalancer struct {
	kgo.GroupBalancer
	synced func(map[string][]int32)
}

func (b syncedBalancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	m, err := b.GroupBalancer.ParseSyncAssignment(assignment)
	if err == nil {
		b.synced(m)
	}
	return m, err
}

// onSynced returns what the balancer of session gen calls with each
// assignment the member syncs: the partitions it owned and was not
// assigned again are gone, like those of a revocation. franz-go's
// transactional session reports only the first revocation of a
// transaction (it aborts that transaction anyway): without this, a
// partition a second rebalance took would still count as this member's
// (its lag, a drain judging it by what this member processed) and keep
// its state in memory.
func (t *TransactRunner) onSynced(gen int) func(map[string][]int32) {
	return func(a map[string][]int32) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if gen != t.gen {
			return
		}
		var gone []int32
		for p := range t.owned.parts[t.cfg.Input] {
			if !slices.Contains(a[t.cfg.Input], p) {
				gone = append(gone, p)
			}
		}
		t.toDrop = append(t.toDrop, gone...)
		t.owned.remove(map[string][]int32{t.cfg.Input: gone})
	}
}

// DrainTo makes Run return once every input record below end (from
// EndOffsets) is committed. Safe to call while Run runs.
func (t *TransactRunner) DrainTo(end map[string]map[int32]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drain = end
}

// reachedLocked reports whether the drain target is reached; the caller
// holds t.mu.
func (t *TransactRunner) reachedLocked(ctx context.Context) bool {
	if t.drain == nil {
		return false
	}
	return t.owned.reached(t.drain, map[string]map[int32]int64{t.cfg.Input: t.done}, t.sess.Client().CommittedOffsets(), func() map[string]map[int32]int64 {
		return t.groupCommitted.get(ctx, t.sess.Client(), t.cfg.Group)
	})
}

// Run processes until ctx is done or a drain target is reached. When ctx
// ends, the open transaction stops collecting input and commits what it
// processed, with a checkpoint, within FinalFlushTimeout: a stopped stage
// leaves its successor nothing to process again and nothing to replay. A
// stop or a drain that comes between transactions commits one holding
// only a checkpoint, in the same time, when transactions committed
// without one since the last (see checkpointLast). A transaction that
// cannot commit in that time (a restore included) is aborted within
// stopAbortWait more, and leaving the group takes at most stopAbortWait
// too.
func (t *TransactRunner) Run(ctx context.Context) error {
	work, cancelWork := afterStop(ctx, FinalFlushTimeout)
	defer cancelWork()
	defer t.reader.Close()
	defer t.closeSession() // the session renew left
	lagAt := time.Now()
	for {
		if time.Since(lagAt) > lagInterval {
			lagAt = time.Now()
			t.sampleLag(ctx)
		}
		t.mu.Lock()
		for _, p := range t.toDrop {
			t.proc.Drop(p)
			delete(t.restored, p)
			delete(t.done, p)
		}
		t.toDrop = t.toDrop[:0]
		reached := t.reachedLocked(ctx)
		t.mu.Unlock()
		if reached || ctx.Err() != nil {
			return t.checkpointLast(work)
		}
		// A transaction's first poll, like fill's, takes at most its
		// MaxRecords.
		fetches, ok := t.poll(ctx, pollTimeout, min(t.cfg.MaxPoll, t.maxRecords()), true)
		if !ok {
			if ctx.Err() != nil {
				return t.checkpointLast(work)
			}
			return nil
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := t.transact(ctx, work, fetches); err != nil {
			return err
		}
	}
}

// poll polls up to limit records, waiting at most wait. It reports false,
// with nothing to process, when the client is closed or, if ctxStops,
// when ctx is done; otherwise it logs the poll's errors other than its
// timeout and returns what it fetched.
func (t *TransactRunner) poll(ctx context.Context, wait time.Duration, limit int, ctxStops bool) (kgo.Fetches, bool) {
	pctx, cancel := context.WithTimeout(ctx, wait)
	fetches := t.sess.PollRecords(pctx, limit)
	cancel()
	if fetches.IsClientClosed() || (ctxStops && ctx.Err() != nil) {
		return nil, false
	}
	t.fetchErrs.backoff(ctx, fetches, t.fetchErrs.report(fetches))
	return fetches, true
}

// txnState is the bookkeeping of one transaction.
type txnState struct {
	start                       time.Time
	begun                       time.Time       // when Begin returned: restores before it are outside the broker's transaction
	records, outputs, changelog int             // input records (control records too), outputs, changelog records
	procErr                     error           // the processor's error; errRetryTxn to process again
	next                        map[int32]int64 // next input offset per partition
	dead                        map[string]int  // dead letters by reason, counted on commit
	mu                          sync.Mutex      // guards what the produce promises set
	prodErr                     error           // the first record the broker did not take
	dlqBig                      bool            // the broker rejected a dead letter as too large
	behind                      bool            // a poll found the stage behind: collect for the catch-up interval
	checkpoint                  bool            // the transaction holds a checkpoint
	marked                      []int32         // partitions it writes a checkpoint marker for
	cut                         bool            // the stop's time ran out before every record polled was processed
}

// transact processes one poll, and those fill adds, as one transaction. A
// transaction that fails on the broker's side (a commit whose outcome is unknown, a producer left
// failed, a changelog that cannot be read) does not stop the stage: renew
// starts over from the last commit. Only the processor's own error or a
// fatal broker answer (see fatalKafka) stops it. When ctx (the stop) ends,
// the transaction stops collecting and commits on work, which ends
// FinalFlushTimeout later (see afterStop); failing that, abortOpen aborts
// it.
func (t *TransactRunner) transact(ctx, work context.Context, fetches kgo.Fetches) error {
	x := &txnState{start: time.Now(), next: map[int32]int64{}, dead: map[string]int{}, behind: behind(fetches)}
	// Restore before processing: a partition's first records wait for its
	// state.
	if err := t.restoreNew(ctx, fetches, nil); err != nil {
		return t.restoreFailed(ctx, err)
	}
	t.drops.since() // rows of aborted transactions are counted again when they commit
	if err := t.sess.Begin(); err != nil {
		return t.renew(ctx, fmt.Errorf("begin transaction: %w", err))
	}
	x.begun = time.Now()
	t.processAll(work, fetches, x)
	err := t.fill(ctx, work, x)
	t.flushHeld(work, x) // also into a transaction that aborts: nothing is held past it
	if x.cut {
		t.stopAborted(ctx, x)
		return nil
	}
	if err != nil {
		if work.Err() != nil && !errors.Is(err, errBadChangelog) && !errors.Is(err, errReplay) {
			// The stop's time ran out in the transaction (a partition's
			// restore waiting on a killed owner's open transaction): say
			// so, as the other paths a stop aborts do.
			t.stopAborted(ctx, x)
			return nil
		}
		t.abortOpen(ctx)
		t.countAbort()
		return t.restoreFailed(ctx, err)
	}
	if t.checkpointDue(ctx, work, x) {
		t.checkpoint(work, x)
	}
	// Wait for every record of the transaction: one the broker did not take
	// (a topic rejecting writes, an authorization error) must abort it, or
	// the offsets would commit without it.
	if err := t.sess.Client().Flush(work); err != nil && work.Err() != nil {
		t.stopAborted(ctx, x)
		return nil
	}
	x.mu.Lock()
	failed := x.prodErr
	if x.dlqBig && t.shrinkDeadLetters(failed) {
		failed = nil
		if x.procErr == nil {
			x.procErr = errRetryTxn
		}
	}
	x.mu.Unlock()
	commit := kgo.TryCommit
	if x.procErr != nil || failed != nil {
		commit = kgo.TryAbort
	}
	// End waits as long as the broker makes it; only a stop's final
	// timeout cancels it.
	committed, err := t.sess.End(work, commit)
	retried := x.procErr == errRetryTxn
	if retried {
		x.procErr, committed = nil, false
	}
	switch {
	case x.procErr != nil:
		return x.procErr
	case failed != nil && fatalKafka(failed) != "":
		return fmt.Errorf("%s: %w; transaction aborted (%s)", t.cfg.Name, failed, fatalKafka(failed))
	case err != nil && work.Err() != nil:
		// The stop's time ran out: End failed flushing, before it ended
		// the transaction (or the commit's outcome is unknown).
		t.stopAborted(ctx, x)
		return nil
	case err != nil:
		// No End error is retryable on this session (franz-go's docs), and
		// a commit's outcome may be unknown: a new session learns from the
		// broker what was committed.
		err = fmt.Errorf("end transaction: %w", err)
		if t.outlived(x) {
			err = fmt.Errorf("%w (%w)", err, errOutlived)
		}
		if err := t.renew(ctx, err); err != nil || ctx.Err() != nil {
			return err // on the way out: not counted
		}
		t.countAbort() // its input is processed again, as an abort's
		return nil
	case !committed:
		t.outlived(x)
		t.aborted(ctx, failed, retried)
		return nil
	}
	t.settle(x)
	return nil
}

// stopAborted aborts x, the transaction a stop's final timeout cut short,
// and says so: nothing is lost (its input is read again from the last
// commit by whoever owns the partitions next), but it is done again, so
// an operator who stopped the stage is told rather than left to guess.
func (t *TransactRunner) stopAborted(ctx context.Context, x *txnState) {
	t.abortOpen(ctx)
	t.log.Warn("stopped before the last transaction could commit: aborted; its input is read again from the last commit",
		"stage", t.cfg.Name, "records", x.records, "final_flush_timeout", FinalFlushTimeout)
}

// restoreFailed handles a partition whose state could not be restored: a
// changelog record the processor cannot read, or a processor error while
// replaying the input since the checkpoint, stops the stage; anything
// else starts over with a new session.
func (t *TransactRunner) restoreFailed(ctx context.Context, err error) error {
	if errors.Is(err, errBadChangelog) || errors.Is(err, errReplay) {
		return err
	}
	return t.renew(ctx, err)
}

// produce produces r in the open transaction x, noting the first record
// the broker did not take.
func (t *TransactRunner) produce(ctx context.Context, x *txnState, r *kgo.Record) {
	t.sess.Produce(ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			x.mu.Lock()
			if x.prodErr == nil {
				x.prodErr = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			x.dlqBig = x.dlqBig || (r.Topic == t.cfg.DeadLetterTopic && isTooLarge(err))
			x.mu.Unlock()
		}
	})
}

// processAll passes every record of fetches to the processor and produces
// its outputs and dead letters in the open transaction, on ctx (work); it
// stops, marking x cut, once ctx ends.
func (t *TransactRunner) processAll(ctx context.Context, fetches kgo.Fetches, x *txnState) {
	produce := func(r *kgo.Record) { t.produce(ctx, x, r) }
	emit := t.emitter(ctx, x)
	fetches.EachRecord(func(r *kgo.Record) {
		x.next[r.Partition] = r.Offset + 1
		x.records++
		if x.procErr != nil || x.cut || r.Attrs.IsControl() {
			return
		}
		if ctx.Err() != nil {
			// The stop's time ran out (ctx is work): x can only be
			// aborted, so processing the rest of a large poll would only
			// hold the stop past StopTimeout.
			x.cut = true
			return
		}
		t.records.Add(1)
		t.metrics.records.WithLabelValues(t.cfg.Name).Inc()
		if err := t.proc.Process(ctx, r, emit); err != nil {
			if !isBadInput(err) {
				x.procErr = fmt.Errorf("%s: %w", t.cfg.Name, err)
				return
			}
			x.dead[reasonOf(err)]++
			dl := deadLetter(r, err, t.cfg.DeadLetterTopic, t.cfg.Name, t.dlqLimit)
			t.log.Warn("dead-lettering a record", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset,
				"bytes", len(r.Value), "kept_bytes", len(dl.Value), "reason", cutUTF8(err.Error(), maxDLQReasonBytes))
			produce(dl)
		}
	})
}

// countAbort counts an aborted transaction (Stats, and the metric).
func (t *TransactRunner) countAbort() {
	t.aborts.Add(1)
	t.metrics.aborts.WithLabelValues(t.cfg.Name).Inc()
}

// aborted handles a transaction that ended in an abort: a rebalance, a
// rejected write or a retry (retried: aborted on purpose, whose cause was
// logged). The session rewound to the committed offsets; the state those
// records changed goes back to what the changelog holds, and the records
// are processed again after a backoff.
func (t *TransactRunner) aborted(ctx context.Context, failed error, retried bool) {
	t.countAbort()
	t.abortStreak++
	byBroker := brokerAborted(failed)
	switch {
	case byBroker && t.abortStreak == 1:
		t.log.Warn("the broker aborted the transaction: it outlived the transaction timeout, or another instance with this transactional id fenced this producer; retrying from the last commit with backoff",
			"transactional_id", t.cfg.TransactionalID, "err", failed)
	case byBroker && t.abortStreak%20 == 0:
		t.log.Error("transactions still aborted by the broker (transaction timeout, or fenced by another instance with this transactional id)", "aborted", t.abortStreak, "err", failed)
	case failed != nil && t.abortStreak == 1:
		t.log.Error("a write was rejected; transaction aborted, retrying from the last commit with backoff", "err", failed)
	case failed != nil && t.abortStreak%20 == 0:
		t.log.Error("writes still rejected", "aborted", t.abortStreak, "err", failed)
	case retried:
		// Its cause is logged (shrinkDeadLetters): no rebalance.
	case t.abortStreak == 1:
		t.log.Info("transaction aborted by a rebalance; re-reading from the last commit")
	}
	t.mu.Lock()
	for p := range t.restored {
		t.proc.Drop(p)
	}
	t.restored = map[int32]bool{}
	t.mu.Unlock()
	if t.abortStreak > 1 {
		sleepCtx(ctx, min(50*time.Millisecond<<min(t.abortStreak, 8), 5*time.Second))
	}
}

// brokerAborted reports whether a write failed because the broker no
// longer takes this producer's transaction: INVALID_PRODUCER_EPOCH (the
// broker aborted the transaction at its timeout, or a newer producer of
// the transactional id fenced this one, which is what a fenced session's
// produce requests get on Kafka 4.1) or PRODUCER_FENCED. Not a rejection
// of the records themselves.
func brokerAborted(err error) bool {
	return errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.ProducerFenced)
}

// settle accounts for a committed transaction.
func (t *TransactRunner) settle(x *txnState) {
	if t.abortStreak > 1 || t.renewStreak > 0 {
		t.log.Info("transactions commit again", "aborted", t.abortStreak, "new_sessions", t.renewStreak)
	}
	t.abortStreak, t.renewStreak, t.fenceStreak = 0, 0, 0
	t.quick(x)
	t.countCommitted(x.dead)
	t.txns.Add(1)
	if x.checkpoint {
		t.checkpointed = x.start
	}
	t.uncheckpointed = !x.checkpoint
	for _, p := range x.marked {
		t.marked[p] = true
	}
	t.outputs.Add(int64(x.outputs))
	t.proc.Committed(x.outputs)
	t.mu.Lock()
	for p, off := range x.next {
		t.done[p] = off
	}
	t.mu.Unlock()
	t.metrics.flushTime.WithLabelValues(t.cfg.Name).Observe(time.Since(x.start).Seconds())
	t.metrics.written.WithLabelValues(t.cfg.Name).Add(float64(x.outputs))
	t.metrics.changelog.WithLabelValues(t.cfg.Name).Add(float64(x.changelog))
	if x.behind && t.cfg.Transaction.CatchUp > t.cfg.Transaction.Interval {
		t.metrics.catchUp.WithLabelValues(t.cfg.Name).Inc()
	}
}

// errBadChangelog marks a changelog record the processor cannot restore:
// no retry gets past it.
var errBadChangelog = errors.New("bad changelog record")

// errRetryTxn marks a transaction aborted on purpose, to be processed again.
var errRetryTxn = errors.New("retry the transaction")

// shrinkDeadLetters cuts the dead letters of the next try to a quarter
// after the broker rejected one as too large (the dead-letter topic's
// max.message.bytes is below DeadLetterMaxBytes), and reports whether the
// transaction should be aborted and tried again; at the smallest size it
// reports false and the rejection stops the stage.
func (t *TransactRunner) shrinkDeadLetters(err error) bool {
	if t.dlqLimit <= deadLetterMinBytes {
		return false
	}
	t.dlqLimit = max(deadLetterMinBytes, t.dlqLimit/4)
	t.log.Warn("dead letter too large for its topic; cutting dead letters and retrying the transaction",
		"topic", t.cfg.DeadLetterTopic, "limit_bytes", t.dlqLimit, "err", err)
	return true
}

// countCommitted counts the dead letters (by reason) and the dropped rows of
// a committed transaction.
func (t *TransactRunner) countCommitted(dead map[string]int) {
	for reason, n := range dead {
		t.dead.Add(int64(n))
		t.metrics.deadLetters.WithLabelValues(t.cfg.Name, reason).Add(float64(n))
	}
	t.metrics.countDrops(t.cfg.Name, t.drops.since(), &t.dropped)
}

// lagInterval is how often stages sample their lag.
const lagInterval = 5 * time.Second

// sampleLag sets the lag gauge from the input's end offsets and the owned
// partitions' positions.
func (t *TransactRunner) sampleLag(ctx context.Context) {
	end, err := EndOffsets(ctx, t.reader, t.cfg.Input)
	if err != nil {
		return
	}
	committed := t.sess.Client().CommittedOffsets()
	t.mu.Lock()
	defer t.mu.Unlock()
	done := map[string]map[int32]int64{t.cfg.Input: t.done}
	t.metrics.lag.WithLabelValues(t.cfg.Name).Set(float64(t.owned.lag(end, done, committed)))
	t.fetchErrs.pastEnd(&t.owned, end, done)
}

// Stats returns the counters so far. Safe for concurrent use.
func (t *TransactRunner) Stats() Stats {
	return Stats{Records: t.records.Load(), Flushed: t.outputs.Load(), DeadLetters: t.dead.Load(), DroppedRows: t.dropped.Load(),
		Transactions: t.txns.Load(), Aborts: t.aborts.Load(), Restored: t.restoredKeys.Load()}
}

var _ Stage = (*TransactRunner)(nil)

// partitionCountWait is partitionCount retried for a few seconds: a topic
// just created (maybe by another instance starting at the same time) takes
// a moment to appear in metadata.
func partitionCountWait(ctx context.Context, cl *kgo.Client, topic string) (int32, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := partitionCount(ctx, cl, topic)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return n, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func partitionCount(ctx context.Context, cl *kgo.Client, topic string) (int32, error) {
	td, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("kafka: cannot describe topic %s: %w", topic, err)
	}
	d, ok := td[topic]
	if !ok || d.Err != nil {
		return 0, fmt.Errorf("kafka: topic %s does not exist (%v)", topic, d.Err)
	}
	return int32(len(d.Partitions)), nil
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
