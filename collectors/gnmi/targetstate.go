package gnmi

import (
	"errors"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// targetState is what the collector last published of a target's
// reachability (schemas.MetricTargetState): "" before the target was
// first up, then schemas.TargetUp or schemas.TargetDown; and the clock the
// state samples are stamped with.
type targetState struct {
	mu        sync.Mutex
	state     string
	upPending bool  // every stream delivers: UP goes out with the next flush (see upAt)
	devTS     int64 // the latest device timestamp the target's streams published
	wall      int64 // the collector's clock then
	stateTS   int64 // the timestamp of the last state published
}

// reachable marks the target UP (reason established) when every one of its
// streams delivers and the last state published was not UP: the state goes
// out after the next batch of its samples (flushed), so that it is
// stamped on the device's time line. Only a stream's goroutine calls it.
func (t *target) reachable() {
	if !t.c.cfg.publishesState() || int(t.upCount.Load()) != len(t.streams) {
		return
	}
	t.ts.mu.Lock()
	t.ts.upPending = t.ts.state != schemas.TargetUp
	t.ts.mu.Unlock()
}

// flushed notes the latest device timestamp of rec (nil: nothing was
// published) and publishes a pending UP; it returns rec's first device
// timestamp (0 for none). A stream calls it after producing a batch, with
// its lock held.
func (t *target) flushed(rec arrow.RecordBatch) int64 {
	t.ts.mu.Lock()
	var first int64 // the batch's first device timestamp: the target delivered again then
	if rec != nil && rec.NumRows() > 0 {
		if ts, ok := rec.Column(0).(*array.Timestamp); ok {
			first = int64(ts.Value(0))
			t.ts.devTS, t.ts.wall = max(t.ts.devTS, int64(ts.Value(ts.Len()-1))), time.Now().UnixNano()
		}
	}
	up := t.ts.upPending
	t.ts.upPending = false
	t.ts.mu.Unlock()
	if up {
		t.publishState(schemas.TargetUp, schemas.TargetReasonEstablished, false, first)
	}
	return first
}

// upAt publishes a pending UP stamped at, the device timestamp of the
// first batch the stream published since it (re)connected: the UP waits for
// the next batch, and there may be none when that first response filled
// whole batches, or the flusher took its tail while it was being decoded,
// and the sync response brings no update. With at 0 (the stream has
// published nothing since it reconnected, and a flush interval has passed
// with nothing to flush: flushOld), a target that was published DOWN goes
// UP stamped as its DOWN was, on the time line carried on by the
// collector's clock: a quiet device (ON_CHANGE, updates_only) may send no
// update for hours, and the pipeline would hold it DOWN all that time. A
// target never published keeps waiting for its first batch, so its first
// state is stamped on the device's time line, which only a sample tells.
// A stream calls it with its lock held.
func (t *target) upAt(at int64) {
	t.ts.mu.Lock()
	up := t.ts.upPending && (at != 0 || t.ts.state != "")
	if up {
		t.ts.upPending = false
	}
	t.ts.mu.Unlock()
	if up {
		t.publishState(schemas.TargetUp, schemas.TargetReasonEstablished, false, at)
	}
}

// DownAfter is how many attempts in a row of one of its streams must fail
// before a target this collector never had up is published DOWN.
const DownAfter = 3

// unreachable publishes the target DOWN when it was published UP: one of
// its streams ended, stalled or could not be re-established; and when
// this collector never had it up, once inRow, the failed attempts in a row
// of the stream that failed, reaches DownAfter.
// That target may be known UP downstream: another process collected it
// until its bucket moved here, or this one did before a restart. (The
// detect stage takes a device's first state for its first value, not a
// transition: a target never up anywhere, misconfigured, raises nothing.)
func (t *target) unreachable(err error, inRow int) {
	if !t.c.cfg.publishesState() {
		return
	}
	reason := schemas.TargetReasonStreamLost
	if errors.Is(err, errStalled) {
		reason = schemas.TargetReasonStalled
	}
	t.ts.mu.Lock()
	pending := t.ts.upPending
	t.ts.upPending = false
	onlyAfterUp := pending || inRow < DownAfter
	t.ts.mu.Unlock()
	if pending { // up, lost before its samples went out: it was up all the same
		t.publishState(schemas.TargetUp, schemas.TargetReasonEstablished, false, 0)
	}
	t.publishState(schemas.TargetDown, reason, onlyAfterUp, 0)
}

// publishState publishes state and reason as two samples stamped with the
// collector's clock at the transition (the device sends nothing at a
// loss), carried on the device's time line: the latest device timestamp
// published plus the collector's time since (the collector's clock itself
// for a device whose clock agrees, and no jump into the present for a
// replayed or simulated one); the collector's clock before any. Once per
// transition: nothing when state is the one published last, or when
// onlyAfterUp and the target was never published UP. A non-zero at is the
// device timestamp to stamp instead (an UP published with the first batch
// after the target came back: at the batch's first sample, not after its
// last, which for a replay at full speed is many steps later).
func (t *target) publishState(state, reason string, onlyAfterUp bool, at int64) {
	t.ts.mu.Lock()
	defer t.ts.mu.Unlock()
	if t.ts.state == state || onlyAfterUp && t.ts.state == "" {
		return
	}
	t.ts.state = state
	now := time.Now().UnixNano()
	switch {
	case at != 0:
		now = at
	case t.ts.devTS != 0:
		now = t.ts.devTS + (now - t.ts.wall)
	}
	// Never before the previous state (a first sample may carry an old
	// last-change timestamp).
	now = max(now, t.ts.stateTS+1)
	t.ts.stateTS = now
	b := publish.NewBatch(t.c.b.Mem, t.cfg.Name, schemas.SourceGNMI)
	defer b.Release()
	keys := b.KeysIndex("")
	b.AppendState(now, b.MetricIndex(schemas.MetricTargetState), keys, state)
	b.AppendState(now, b.MetricIndex(schemas.MetricTargetReason), keys, reason)
	rec := b.NewRecord()
	defer rec.Release()
	log := t.c.b.Log.With("target", t.cfg.Name)
	log.Info("target state", "state", state, "reason", reason)
	if err := t.c.publish(t.c.pctx, t.cfg.Name, rec); err != nil && t.c.pctx.Err() == nil {
		log.Error("cannot publish the target state", "state", state, "err", err)
	}
}

// delivering marks the stream up after its first response of an attempt.
// The collector's count goes up last, so whoever sees it finds the rest.
func (s *stream) delivering() {
	defer s.t.c.connects.Add(1)
	s.inRow = 0
	s.setUp(true)
	s.t.reachable()
	s.mu.Lock()
	s.deliveredAt = time.Now()
	if s.batch.Len() == 0 && s.attemptFirst != 0 {
		s.t.upAt(s.attemptFirst)
	}
	s.mu.Unlock()
	if s.lastErr != "" {
		s.log.Info("target recovered", "after_failures", s.failures, "last_reason", s.lastErr)
	} else {
		s.log.Info("subscribed")
	}
	s.lastErr, s.failures = "", 0
}

// setUp records whether the stream delivers; the target is up while all
// its streams do. Only the stream's goroutine calls it.
func (s *stream) setUp(up bool) {
	if up == s.up {
		return
	}
	s.up = up
	delta := int32(-1)
	if up {
		delta = 1
	}
	n := s.t.upCount.Add(delta)
	if s.m != nil {
		v := 0.0
		if int(n) == len(s.t.streams) {
			v = 1
		}
		s.m.up.Set(v)
	}
}
