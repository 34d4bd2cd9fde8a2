package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// restore reads partition p of the changelog up to its end (ends: the
// changelog's end offsets, which restoreNew lists once for every partition
// it restores) into the processor, then replays the input from the
// partition's last checkpoint up to first, the offset of its first record
// polled (see TransactionConfig.CheckpointInterval). On error the
// partition's state is dropped again.
func (t *TransactRunner) restore(ctx context.Context, p int32, ends kadm.ListedOffsets, first int64) (err error) {
	start := time.Now()
	t.proc.Drop(p)
	defer func() {
		if err != nil {
			t.proc.Drop(p)
		}
	}()
	o, ok := ends.Lookup(t.cfg.Changelog, p)
	if topic, listed := ends.Lookup(t.cfg.Changelog, -1); !ok && listed {
		// The topic itself could not be listed (kadm's partition -1: it
		// is gone, or not described to this principal): no partition
		// count is known.
		o, ok = topic, true
	}
	switch {
	case !ok:
		// NewTransactRunner checked the counts; partitions added to the
		// input since fail here, retried until the changelog has them.
		return fmt.Errorf("%s: restore partition %d: changelog %s has no partition %d: partitions were added to input %s since the changelog was made; add as many to %s (it must have as many as %s)",
			t.cfg.Name, p, t.cfg.Changelog, p, t.cfg.Input, t.cfg.Changelog, t.cfg.Input)
	case o.Err != nil:
		return fmt.Errorf("%s: restore partition %d: no end offset for changelog %s: %w", t.cfg.Name, p, t.cfg.Changelog, o.Err)
	}
	n, from := 0, int64(-1)
	// bad says which record cannot be restored and how to get past it:
	// every restart stops on it.
	bad := func(r *kgo.Record, err error) error {
		return fmt.Errorf("%w at %s/%d@%d: %w (the partition's state cannot be restored from it: run a release that reads it, or delete the changelog topic %s to rebuild the state, starting cold)",
			errBadChangelog, r.Topic, r.Partition, r.Offset, err, t.cfg.Changelog)
	}
	err = t.readPartition(ctx, t.cfg.Changelog, p, 0, o.Offset, func(r *kgo.Record) error {
		if string(r.Key) == CheckpointKey {
			if len(r.Value) != 8 {
				return bad(r, fmt.Errorf("a checkpoint marker of %d bytes, want 8", len(r.Value)))
			}
			from = int64(binary.BigEndian.Uint64(r.Value))
			return nil
		}
		n++
		if err := t.proc.Restore(p, r.Key, r.Value); err != nil {
			return bad(r, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: restore partition %d: %w", t.cfg.Name, p, err)
	}
	t.marked[p] = from >= 0
	replayed := 0
	switch {
	case from >= 0 && from < first:
		if replayed, err = t.replay(ctx, p, from, first); err != nil {
			return fmt.Errorf("%s: restore partition %d: replay the input from offset %d to %d: %w", t.cfg.Name, p, from, first, err)
		}
	case from > first:
		t.log.Warn("the partition's state stands past its first record polled: the group's offsets were moved back, so the records between are processed again into a state that has seen them (to start afresh, delete the changelog too)",
			"partition", p, "state_at", from, "first_polled", first)
	}
	t.restored[p] = true
	t.restoredKeys.Add(int64(n))
	t.log.Info("restored partition state", "partition", p, "records", n, "replayed", replayed, "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// CheckpointKey is the changelog key of a partition's checkpoint marker
// (see TransactionConfig.CheckpointInterval): its value, 8 bytes
// big-endian, is the input offset the partition's state in the changelog
// stands at. A processor's keys must not be this.
const CheckpointKey = "\x00telekernel.checkpoint"

// replay processes partition p of the input from offset from up to to, as
// it was processed before, into the state restored from the checkpoint,
// discarding the outputs and dead letters (those were committed) and the
// rows dropped (counted then). It returns the records replayed. Input
// that retention deleted cannot be replayed: that is logged, and the
// replay starts at the first record retained.
func (t *TransactRunner) replay(ctx context.Context, p int32, from, to int64) (int, error) {
	starts, err := kadm.NewClient(t.reader).ListStartOffsets(ctx, t.cfg.Input)
	if err != nil {
		return 0, err
	}
	if o, ok := starts.Lookup(t.cfg.Input, p); ok && o.Err == nil && o.Offset > from {
		t.log.Error("the input since the partition's checkpoint was partly deleted by retention; its state misses those records (keep the input's retention well above transaction.checkpoint_interval)",
			"partition", p, "checkpoint", from, "first_retained", o.Offset)
		from = min(o.Offset, to)
	}
	n := 0
	discard := func(*kgo.Record) {}
	t.drops.skip(func() {
		err = t.readPartition(ctx, t.cfg.Input, p, from, to, func(r *kgo.Record) error {
			n++
			if err := t.proc.Process(ctx, r, discard); err != nil && !isBadInput(err) {
				return fmt.Errorf("%w: %w", errReplay, err)
			}
			return nil
		})
		// Flushed even after a failed read: nothing the replay held may
		// reach the next transaction's outputs.
		if h, ok := t.proc.(Holder); ok {
			if ferr := h.Flush(discard); ferr != nil && err == nil {
				err = fmt.Errorf("%w: %w", errReplay, ferr)
			}
		}
	})
	return n, err
}

// readPartition passes every record of partition p of topic from offset
// from up to end, but transaction markers, to fn, reading committed; it
// stops at fn's first error.
func (t *TransactRunner) readPartition(ctx context.Context, topic string, p int32, from, end int64, fn func(*kgo.Record) error) error {
	if from >= end {
		return nil
	}
	t.reader.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().At(from)}})
	defer t.reader.RemoveConsumePartitions(map[string][]int32{topic: {p}})
	for pos := from; pos < end; {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		fs := t.reader.PollFetches(rctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		var ferr error
		fs.EachRecord(func(r *kgo.Record) {
			pos = r.Offset + 1
			if ferr != nil || r.Attrs.IsControl() || r.Offset >= end {
				return
			}
			ferr = fn(r)
		})
		if ferr != nil {
			return ferr
		}
	}
	return nil
}

// errReplay marks a processor's error while replaying the input since a
// checkpoint: it stops the stage as the processor's error would.
var errReplay = errors.New("processing the input since the last checkpoint")

// checkpointDue reports whether the open transaction x should hold a
// checkpoint: always at the default CheckpointInterval 0; else when none
// was committed for that long, when x read a partition whose changelog
// has no marker yet (its state would otherwise be committed with nothing
// to restore it from), or when x is the last before a stop: ctx (the stop)
// ended or x reaches the drain target (a stop leaves nothing to replay; a
// stop between transactions has checkpointLast).
func (t *TransactRunner) checkpointDue(ctx, work context.Context, x *txnState) bool {
	every := t.cfg.Transaction.CheckpointInterval
	if every == 0 || t.checkpointed.IsZero() || time.Since(t.checkpointed) >= every || ctx.Err() != nil {
		return true
	}
	for p := range x.next {
		if !t.marked[p] {
			return true
		}
	}
	return t.drained(work, x)
}

// checkpointLast runs as Run returns for a stop (work is then the stop's
// time) or a reached drain target with no transaction open: when
// CheckpointInterval is set and a transaction committed without a
// checkpoint since the last one, it commits a transaction holding only a
// checkpoint (no input: the state and its markers stand at the offsets
// committed), so a stop leaves nothing to replay whether it came inside a
// transaction (which checkpoints: see checkpointDue) or between two. It
// has FinalFlushTimeout, within the stop's time; one that cannot commit in
// it is aborted, with a warning, and the next owner replays the input
// since the previous checkpoint. It is skipped when records were polled
// and not processed (a poll that returned as the stop came): its commit
// would commit their offsets too. Only a Holder's Flush error is
// returned: it stops the stage as in any transaction.
func (t *TransactRunner) checkpointLast(work context.Context) error {
	if t.cfg.Transaction.CheckpointInterval == 0 || !t.uncheckpointed || work.Err() != nil {
		return nil
	}
	t.mu.Lock()
	restored := len(t.restored)
	t.mu.Unlock()
	if restored == 0 || len(t.sess.Client().UncommittedOffsets()) > 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(work, FinalFlushTimeout)
	defer cancel()
	x := &txnState{start: time.Now(), next: map[int32]int64{}, dead: map[string]int{}}
	t.drops.since()
	if err := t.sess.Begin(); err != nil {
		t.log.Warn("the last checkpoint could not begin; the next owner replays the input since the previous checkpoint", "err", err)
		return nil
	}
	t.flushHeld(ctx, x) // nothing is held between transactions; Flush comes before Checkpoint
	if x.procErr == nil {
		t.checkpoint(ctx, x)
	}
	if err := t.sess.Client().Flush(ctx); err != nil && ctx.Err() != nil {
		t.lastCheckpointAborted(work, nil)
		return nil
	}
	x.mu.Lock()
	failed := x.prodErr
	x.mu.Unlock()
	commit := kgo.TryCommit
	if x.procErr != nil || failed != nil {
		commit = kgo.TryAbort
	}
	committed, err := t.sess.End(ctx, commit)
	switch {
	case x.procErr != nil:
		return x.procErr
	case err != nil && ctx.Err() != nil:
		t.lastCheckpointAborted(work, nil)
	case err != nil:
		t.lastCheckpointAborted(work, err)
	case !committed:
		t.countAbort()
		t.log.Warn("the last checkpoint was aborted (a rebalance, or a rejected write); the next owner replays the input since the previous checkpoint", "err", failed)
	default:
		t.settle(x)
	}
	return nil
}

// lastCheckpointAborted aborts the open transaction of checkpointLast, which
// ran out of time (err nil) or failed with err, and says so.
func (t *TransactRunner) lastCheckpointAborted(ctx context.Context, err error) {
	t.abortOpen(ctx)
	if err == nil {
		t.log.Warn("stopped before the last checkpoint could commit: aborted; the next owner replays the input since the previous checkpoint",
			"final_flush_timeout", FinalFlushTimeout)
		return
	}
	t.log.Warn("the last checkpoint could not commit: aborted; the next owner replays the input since the previous checkpoint", "err", err)
}

// checkpoint writes into the open transaction x the state changed since
// the last checkpoint and the markers markerOffsets chooses.
func (t *TransactRunner) checkpoint(ctx context.Context, x *txnState) {
	x.checkpoint = true
	t.proc.Checkpoint(func(p int32, key, value []byte) {
		x.changelog++
		t.produce(ctx, x, &kgo.Record{Topic: t.cfg.Changelog, Partition: p, Key: key, Value: value})
	})
	t.mu.Lock()
	at := markerOffsets(t.done, x.next, t.restored, t.marked, t.cfg.Transaction.CheckpointInterval > 0)
	t.mu.Unlock()
	for p, off := range at {
		x.marked = append(x.marked, p)
		t.produce(ctx, x, &kgo.Record{Topic: t.cfg.Changelog, Partition: p, Key: []byte(CheckpointKey), Value: binary.BigEndian.AppendUint64(nil, uint64(off))})
	}
}

// markerOffsets returns the checkpoint markers to write, by partition: the
// input offset each one's state stands at, next (this transaction's) or
// else done (the last committed), for the partitions whose state is in
// memory (restored: not those dropped after an abort, whose changelog
// keeps its older state and marker). When not every transaction
// checkpoints (interval), every such partition gets one; when every one
// does, only those that had one (marked: CheckpointInterval was set
// before), to keep them current, so a stage that never set it writes none.
func markerOffsets(done, next map[int32]int64, restored, marked map[int32]bool, interval bool) map[int32]int64 {
	at := map[int32]int64{}
	for _, offs := range []map[int32]int64{done, next} {
		for p, off := range offs {
			if restored[p] && (interval || marked[p]) {
				at[p] = off
			}
		}
	}
	return at
}
