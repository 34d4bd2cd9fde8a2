package gnmi

import (
	"errors"
	"sync"
	"time"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// targetState is what the collector last published of a target's
// reachability (schemas.MetricTargetState): "" before the target was
// first up, then schemas.TargetUp or schemas.TargetDown.
type targetState struct {
	mu    sync.Mutex
	state string
}

// reachable publishes the target UP (reason established) when every one of
// its streams delivers and the last state published was not UP. Only a
// stream's goroutine calls it.
func (t *target) reachable() {
	if int(t.upCount.Load()) == len(t.streams) {
		t.publishState(schemas.TargetUp, schemas.TargetReasonEstablished, false)
	}
}

// unreachable publishes the target DOWN when it was published UP: one of
// its streams ended, stalled or could not be re-established. A target that
// was never up publishes nothing (the collector logs why it fails).
func (t *target) unreachable(err error) {
	reason := schemas.TargetReasonStreamLost
	if errors.Is(err, errStalled) {
		reason = schemas.TargetReasonStalled
	}
	t.publishState(schemas.TargetDown, reason, true)
}

// publishState publishes state and reason as two samples stamped with the
// collector's clock (the device sends nothing at a loss), once per
// transition: nothing when state is the one published last, or when
// onlyAfterUp and the target was never published UP.
func (t *target) publishState(state, reason string, onlyAfterUp bool) {
	t.ts.mu.Lock()
	defer t.ts.mu.Unlock()
	if t.ts.state == state || onlyAfterUp && t.ts.state == "" {
		return
	}
	t.ts.state = state
	now := time.Now().UnixNano()
	b := publish.NewBatch(t.c.b.Mem, t.cfg.Name, schemas.SourceGNMI)
	defer b.Release()
	keys := b.KeysIndex("")
	b.AppendState(now, b.MetricIndex(schemas.MetricTargetState), keys, state)
	b.AppendState(now, b.MetricIndex(schemas.MetricTargetReason), keys, reason)
	rec := b.NewRecord()
	defer rec.Release()
	log := t.c.b.Log.With("target", t.cfg.Name)
	log.Info("target state", "state", state, "reason", reason)
	if err := t.c.b.Pub.Publish(t.c.pctx, t.cfg.Name, rec); err != nil && t.c.pctx.Err() == nil {
		log.Error("cannot publish the target state", "state", state, "err", err)
	}
}
