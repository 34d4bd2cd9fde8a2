package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of TransactionConfig.
const (
	// DefaultTransactionInterval is how long a transaction collects input
	// by default: detections become visible to read_committed readers at
	// most this long after their sample was polled, plus the commit.
	DefaultTransactionInterval = 250 * time.Millisecond
	// DefaultTransactionMaxRecords is the most input records (Kafka
	// messages) of one transaction by default.
	DefaultTransactionMaxRecords = 10_000
	// DefaultTransactionCatchUp is how long a transaction collects input
	// by default while the stage is behind its input (see
	// TransactionConfig.CatchUp).
	DefaultTransactionCatchUp = time.Second
	// maxCheckpointInterval bounds TransactionConfig.CheckpointInterval:
	// a restore replays up to this much input, inside a transaction whose
	// timeout (twice it plus 10s) stays under the broker's default
	// transaction.max.timeout.ms (15m).
	maxCheckpointInterval = 5 * time.Minute
	// maxTransactionInterval bounds TransactionConfig.Interval well inside
	// the transaction timeout.
	maxTransactionInterval = 5 * time.Second
)

// TransactionConfig sets the cadence of a TransactRunner's transactions. A
// transaction stays open, polling and processing input, until Interval has
// passed since it began or it holds MaxRecords input records (or the
// partitions are revoked, or a drain target is reached); then the state of
// every series it changed is checkpointed once, in the transaction that
// commits the offsets. A longer interval writes fewer changelog records
// per sample (a series sampled every s seconds is written at most once per
// max(s, Interval)) and delays outputs (detections) by up to Interval.
//
// While the stage is behind its input (a poll leaves more records waiting
// on its partitions than it returned: a backlog after a restart, an
// outage or a burst), a transaction collects for CatchUp instead: each
// series' state is then written once per CatchUp rather than once per
// Interval, so the backlog is read sooner, and the outputs, already late
// by the backlog, wait up to CatchUp more. Once a poll finds the input
// caught up, transactions return to Interval.
type TransactionConfig struct {
	// Interval is how long a transaction collects input; default
	// DefaultTransactionInterval, at most 5s.
	Interval time.Duration `yaml:"interval"`
	// MaxRecords is the most input records in one transaction; default
	// DefaultTransactionMaxRecords. A transaction that outlives the
	// runner's transaction timeout (a backlog's polls slow to process)
	// lowers it for those that follow, until they commit quickly again.
	MaxRecords int `yaml:"max_records"`
	// CatchUp is how long a transaction collects input once a poll found
	// the stage behind (the next transaction decides afresh from its own
	// polls); default the larger of DefaultTransactionCatchUp and
	// Interval, at least Interval (equal turns catching up off), at most
	// 5s and half the runner's transaction timeout. Like Interval, it
	// bounds the polling, not the transaction: the last poll's processing,
	// the checkpoint and the commit come on top.
	CatchUp time.Duration `yaml:"catch_up"`
	// CheckpointInterval is how often the state changed since the last
	// checkpoint is written to the changelog; default 0, every transaction.
	// Transactions in between commit only outputs and offsets, and a
	// restore replays the input from the last checkpoint to the committed
	// offsets with the outputs discarded (the processor must be
	// deterministic: the same input gives the same state). A stop or a
	// drain checkpoints too: in its last transaction, or, between
	// transactions, in one holding only the checkpoint. At most 5m. A
	// restore may run inside an open transaction, so the runner's
	// transaction timeout defaults to twice the interval plus 10s (10s
	// without it): a killed instance's open transaction then holds up
	// read_committed readers that long.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c TransactionConfig) WithDefaults() TransactionConfig {
	cfgcheck.Default(&c.Interval, DefaultTransactionInterval)
	cfgcheck.Default(&c.MaxRecords, DefaultTransactionMaxRecords)
	cfgcheck.Default(&c.CatchUp, max(DefaultTransactionCatchUp, c.Interval))
	return c
}

// Validate reports the first bad field, with its path.
func (c TransactionConfig) Validate() error {
	if c.Interval < 0 || c.Interval > maxTransactionInterval {
		return fmt.Errorf("interval: %v must be within (0, %v]", c.Interval, maxTransactionInterval)
	}
	if c.MaxRecords < 0 {
		return fmt.Errorf("max_records: %d must not be negative", c.MaxRecords)
	}
	if c.CatchUp != 0 && (c.CatchUp < c.Interval || c.CatchUp > maxTransactionInterval) {
		return fmt.Errorf("catch_up: %v must be within [interval (%v), %v]", c.CatchUp, c.Interval, maxTransactionInterval)
	}
	if c.CheckpointInterval < 0 || c.CheckpointInterval > maxCheckpointInterval {
		return fmt.Errorf("checkpoint_interval: %v must be within [0, %v]", c.CheckpointInterval, maxCheckpointInterval)
	}
	return nil
}

// TransactionCadence is implemented by a Processor that sets the cadence
// of its transactions (the detect stage's detect.transaction); a
// TransactConfig's own Transaction fields, when set, take precedence.
type TransactionCadence interface {
	Transaction() TransactionConfig
}

// cadence returns the transaction cadence of cfg and proc, defaulted.
func cadence(cfg TransactionConfig, proc Processor) TransactionConfig {
	if c, ok := proc.(TransactionCadence); ok {
		pc := c.Transaction()
		// The catch-up interval comes with the interval it was set
		// against: a runner's own interval defaults its own catch-up.
		if cfg.Interval == 0 {
			cfg.Interval = pc.Interval
			if cfg.CatchUp == 0 {
				cfg.CatchUp = pc.CatchUp
			}
		}
		if cfg.MaxRecords == 0 {
			cfg.MaxRecords = pc.MaxRecords
		}
		if cfg.CheckpointInterval == 0 {
			cfg.CheckpointInterval = pc.CheckpointInterval
		}
	}
	return cfg.WithDefaults()
}

// fill keeps the open transaction x collecting input: it polls and
// processes more records until the transaction's interval (its catch-up
// interval once a poll found the stage behind) has passed, it
// holds MaxRecords records, a partition is revoked or lost, the drain
// target is reached, or the processor failed. A partition polled for the
// first time is restored first; a restore error is returned (the caller
// aborts the transaction). It stops when ctx (the stop) ends; the records
// polled are restored and processed on work.
func (t *TransactRunner) fill(ctx, work context.Context, x *txnState) error {
	for x.procErr == nil && x.records < t.maxRecords() && ctx.Err() == nil {
		collect := t.cfg.Transaction.Interval
		if x.behind {
			collect = t.cfg.Transaction.CatchUp
		}
		wait := time.Until(x.start.Add(collect))
		if wait <= 0 || t.stopFilling(work, x) {
			return nil
		}
		// A cancelled ctx ends the loop at its condition, after this poll's
		// errors are logged.
		fetches, ok := t.poll(ctx, min(wait, pollTimeout), min(t.cfg.MaxPoll, t.maxRecords()-x.records), false)
		if !ok {
			return nil
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		// On work: records polled as the stop came are committed too
		// (the session commits every offset polled), so their partitions'
		// restore goes on; one that outlasts the stop's time aborts the
		// transaction (abortOpen).
		if err := t.restoreNew(work, fetches, x); err != nil {
			return err
		}
		x.behind = x.behind || behind(fetches)
		t.processAll(work, fetches, x)
	}
	return nil
}

// behind reports whether a poll left more records (and transaction
// markers) waiting on its partitions, up to their last stable offsets,
// than it returned: the stage is at least a poll behind its input. A poll
// that read everything there was leaves nothing waiting but what arrived
// while it was answered.
func behind(fetches kgo.Fetches) bool {
	var got, left int64
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			got += int64(n)
			left += max(0, p.LastStableOffset-(p.Records[n-1].Offset+1))
		}
	})
	return left > got
}

// stopFilling reports whether the open transaction should end before its
// interval: a partition was revoked or lost (the session aborts the
// transaction; better sooner), or the drain target is reached counting
// what x processed.
func (t *TransactRunner) stopFilling(ctx context.Context, x *txnState) bool {
	t.mu.Lock()
	stop := len(t.toDrop) > 0
	t.mu.Unlock()
	return stop || t.drained(ctx, x)
}

// drained reports whether the drain target is reached counting what the
// open transaction x processed.
func (t *TransactRunner) drained(ctx context.Context, x *txnState) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.drain == nil {
		return false
	}
	done := make(map[int32]int64, len(t.done)+len(x.next))
	for p, off := range t.done {
		done[p] = off
	}
	for p, off := range x.next {
		done[p] = max(done[p], off)
	}
	return t.owned.reached(t.drain, map[string]map[int32]int64{t.cfg.Input: done}, t.sess.Client().CommittedOffsets(), func() map[string]map[int32]int64 {
		return t.groupCommitted.get(ctx, t.sess.Client(), t.cfg.Group)
	})
}

// restoreNew restores the state of every partition of fetches not yet
// restored, listing the changelog's end offsets once for all of them (one
// listing, not one per partition), and replaying each one's
// input from its checkpoint to its first record in fetches. Outputs the
// processor holds go into the open transaction x first (nil: none is
// open), since a replay's are discarded. It stops at the first partition
// whose restore fails.
func (t *TransactRunner) restoreNew(ctx context.Context, fetches kgo.Fetches, x *txnState) error {
	var todo []int32
	first := map[int32]int64{}
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if t.restored[p.Partition] || len(p.Records) == 0 {
			return
		}
		if off, ok := first[p.Partition]; !ok || p.Records[0].Offset < off {
			first[p.Partition] = p.Records[0].Offset
		}
		if !slices.Contains(todo, p.Partition) {
			todo = append(todo, p.Partition)
		}
	})
	if len(todo) == 0 {
		return nil
	}
	if x != nil {
		t.flushHeld(ctx, x)
	}
	// The end, not the last stable offset: behind a transaction still open
	// (a process killed mid-transaction, aborted by the broker only after
	// its transaction timeout) may lie transactions committed since, whose
	// state counts; the read_committed reader waits for the open one to end.
	ends, err := kadm.NewClient(t.reader).ListEndOffsets(ctx, t.cfg.Changelog)
	if err != nil {
		for _, p := range todo {
			t.proc.Drop(p)
		}
		return fmt.Errorf("%s: restore partitions %v: %w", t.cfg.Name, todo, err)
	}
	for _, p := range todo {
		if err := t.restore(ctx, p, ends, first[p]); err != nil {
			return err
		}
	}
	return nil
}

// maxRecords returns the most input records the next transaction takes:
// the cadence's MaxRecords, or fewer since a transaction outlived the
// transaction timeout (see outlived).
func (t *TransactRunner) maxRecords() int {
	if t.txnLimit > 0 {
		return min(t.txnLimit, t.cfg.Transaction.MaxRecords)
	}
	return t.cfg.Transaction.MaxRecords
}

// errOutlived marks the failure of a transaction that outlived the
// transaction timeout: the broker aborted it, and on some brokers the
// producer's next request is then told it is fenced, which is not another
// instance with its transactional id (see renew).
var errOutlived = errors.New("the transaction outlived the transaction timeout")

// outlived reports whether the failed transaction x took longer than the
// transaction timeout, which the broker aborts it at. Its polls are not
// cut short, so the same input in one transaction would outlive it again
// on every retry: outlived then bounds the records of the transactions
// that follow to what x processed in half the timeout, and says so.
// Those that commit in under a quarter of it double the bound back,
// until it reaches MaxRecords.
func (t *TransactRunner) outlived(x *txnState) bool {
	took := time.Since(x.begun)
	if x.begun.IsZero() || took < t.cfg.TransactionTimeout || x.records == 0 {
		return false
	}
	t.txnLimit = max(1, int(int64(x.records)*int64(t.cfg.TransactionTimeout/2)/int64(took)))
	t.log.Warn("a transaction outlived the transaction timeout, so the broker aborted it: taking fewer input records per transaction until they commit quickly again",
		"took", took.Round(time.Millisecond).String(), "transaction_timeout", t.cfg.TransactionTimeout.String(), "records", x.records, "max_records", t.maxRecords())
	return true
}

// quick widens the bound outlived set after a transaction that committed
// in under a quarter of the transaction timeout.
func (t *TransactRunner) quick(x *txnState) {
	if t.txnLimit == 0 || time.Since(x.begun) >= t.cfg.TransactionTimeout/4 {
		return
	}
	if t.txnLimit *= 2; t.txnLimit >= t.cfg.Transaction.MaxRecords {
		t.txnLimit = 0
		t.log.Info("transactions take max_records input records again", "max_records", t.cfg.Transaction.MaxRecords)
	}
}
