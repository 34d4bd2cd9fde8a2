package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/oneline"
)

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// maxFences is how many times the stage's sessions may be fenced within
// fenceWindow, commits in between or not, or in a row, before it gives up:
// another live instance uses its transactional ID. Two such instances fence
// each other in turn, each new session of one fencing the other, and both
// commit between fences, so a count of fences in a row never ends it. A
// single fence (after a broker failover, say) does not stop the stage.
const (
	maxFences   = 3
	fenceWindow = 10 * time.Minute
)

// sessionCloseWait bounds how long renew waits for the replaced session to
// leave its group (the broker may be away); it goes on closing behind.
const sessionCloseWait = 10 * time.Second

// renew recovers from a transaction that failed on the broker's side
// (cause): it forgets the state of every partition, replaces the session
// with a new one of the same transactional ID (whose producer ID fences the
// old one) that re-joins the group, and waits a backoff. The new member
// resumes from the offsets the group committed (the broker answers them
// once the failed transaction committed or was aborted, at the latest after
// the transaction timeout) and restores state from the changelog, so what
// the failed transaction did counts exactly once whether it committed or
// not. It returns nil to go on, or cause when it is fatal (see fatalKafka)
// or the sessions were fenced maxFences times within fenceWindow: another
// live instance shares the transactional ID, which it says in one ERROR
// line. The error it returns, and logs, is one line: a commit's error joins
// one per partition, a line each. When ctx (the stop) is done it only
// forgets the state and returns nil.
func (t *TransactRunner) renew(ctx context.Context, cause error) error {
	if ctx.Err() != nil {
		// Stopping: no new session, but the state the failed transaction
		// changed must not reach the stop's last checkpoint
		// (checkpointLast), which would write it, or a marker saying it
		// stands at the offsets committed.
		t.forgetAll()
		return nil
	}
	cause = oneline.Error{Err: cause}
	// A transaction that outlived its timeout is told it is fenced on some
	// brokers (the abort bumped the producer's epoch): that says nothing of
	// another instance.
	fenced := errors.Is(cause, kerr.ProducerFenced) && !errors.Is(cause, errOutlived)
	if fenced {
		t.fenceStreak++
		now := time.Now()
		t.fences = append(slices.DeleteFunc(t.fences, func(at time.Time) bool { return now.Sub(at) >= fenceWindow }), now)
		if n := max(t.fenceStreak, len(t.fences)); n >= maxFences {
			why := fmt.Sprintf("two live instances share transactional id %s: this one was fenced %d times within %v (%d in a row), each new session of one fencing the other; "+
				"stopping it: give every instance its own transactional id, or stop the duplicate deployment", t.cfg.TransactionalID, len(t.fences), fenceWindow, t.fenceStreak)
			t.log.Error(why, "transactional_id", t.cfg.TransactionalID, "err", cause)
			return fmt.Errorf("%s: %w (%s)", t.cfg.Name, cause, why)
		}
	}
	if why := fatalKafka(cause); why != "" {
		if errors.Is(cause, kerr.InvalidTransactionTimeout) {
			why += fmt.Sprintf("; the stage's is %v", t.cfg.TransactionTimeout)
		}
		return fmt.Errorf("%s: %w (%s)", t.cfg.Name, cause, why)
	}
	t.renewStreak++
	switch {
	case fenced:
		t.log.Warn("session fenced by another producer with the same transactional id; starting a new session from the last commit",
			"transactional_id", t.cfg.TransactionalID, "fences", len(t.fences), "stop_at", maxFences, "within", fenceWindow.String(), "err", cause)
	case t.renewStreak == 1:
		t.log.Warn("transaction failed on the broker's side; starting a new session from the last commit", "err", cause)
	case t.renewStreak%10 == 0:
		t.log.Error("transactions still fail on the broker's side; retrying with backoff", "new_sessions", t.renewStreak, "err", cause)
	}
	gen := t.forgetAll()
	old, closed := t.sess, make(chan struct{})
	go func() { old.Close(); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
	case <-time.After(sessionCloseWait):
	}
	sess, err := t.newSession(gen)
	if err != nil {
		return fmt.Errorf("%s: %w", t.cfg.Name, err)
	}
	t.sess = sess
	sleepCtx(ctx, min(250*time.Millisecond<<min(t.renewStreak-1, 5), 5*time.Second))
	return nil
}

// forgetAll drops the state of every partition and forgets what the
// session owned and committed, ignoring its callbacks from now on (a new
// session's have the generation it returns).
func (t *TransactRunner) forgetAll() (gen int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	for _, p := range t.toDrop {
		t.proc.Drop(p)
	}
	for p := range t.restored {
		t.proc.Drop(p)
	}
	t.toDrop, t.restored, t.done, t.owned = t.toDrop[:0], map[int32]bool{}, map[int32]int64{}, owned{}
	return t.gen
}

// stopAbortWait bounds an abort, and leaving the group, on a budget of
// their own: after a stop whose FinalFlushTimeout ran out, a transaction
// left open would hold up read_committed readers until the broker's
// transaction timeout, and a member that never left would keep its
// partitions until the group's session timeout.
const stopAbortWait = 5 * time.Second

// StopTimeout bounds how long a stage takes to stop once its context
// ends: FinalFlushTimeout for its final flush or commit, stopAbortWait to
// leave its group and, for a transactional stage that could not commit in
// that time, stopAbortWait to abort.
const StopTimeout = FinalFlushTimeout + 2*stopAbortWait

// abortOpen aborts the open transaction within stopAbortWait, whatever is
// left of ctx or of a stop's time. One it cannot abort is ended by the
// next session (which fences it) or by the broker's transaction timeout.
func (t *TransactRunner) abortOpen(ctx context.Context) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopAbortWait)
	defer cancel()
	_, _ = t.sess.End(actx, kgo.TryAbort)
}

// closeSession closes the session, leaving the group, within
// stopAbortWait (see leaveGroup).
func (t *TransactRunner) closeSession() { leaveGroup(t.sess.Close, t.log) }

// fatalKafka says why no new session can get past err, or "" when one may:
// the broker refuses the credentials or a permission, a record is too
// large for its topic, or the transaction timeout is above the broker's
// maximum.
func fatalKafka(err error) string {
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.TransactionalIDAuthorizationFailed),
		errors.Is(err, kerr.GroupAuthorizationFailed), errors.Is(err, kerr.TopicAuthorizationFailed),
		errors.Is(err, kerr.ClusterAuthorizationFailed):
		return "not retried: fix the credentials or the ACLs and restart"
	case isTooLarge(err):
		// franz-go refuses a record over its ProducerBatchMaxBytes
		// (1,000,012 bytes uncompressed, its default, which the stages
		// keep) before the broker sees it, whatever the topic allows.
		return "not retried: a record is over the topic's max.message.bytes or the producer's 1,000,012-byte " +
			"record limit (see uncompressed_bytes); raise the topic's if it is the lower, else bound what the stage " +
			"writes per record (correlate: engine.max_entities, engine.max_evidence), and restart"
	case errors.Is(err, kerr.InvalidTransactionTimeout):
		return "not retried: the stage's transaction timeout is above the broker's transaction.max.timeout.ms; " +
			"raise that, or lower transaction.checkpoint_interval (the timeout is twice it plus 10s), and restart"
	}
	return ""
}
