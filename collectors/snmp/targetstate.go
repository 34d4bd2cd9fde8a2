package snmp

import (
	"context"
	"time"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// DownAfter is how many polls of a target must fail in a row before the
// collector publishes it DOWN (schemas.MetricTargetState): one
// lost UDP answer is not a lost device.
const DownAfter = 3

// reach is what the collector last published of a target's reachability
// ("" before it first answered, then schemas.TargetUp or
// schemas.TargetDown) and its failed polls in a row. Only the worker
// polling the target touches it.
type reach struct {
	state string
	fails int
}

// answered appends the target's UP state and reason to b, to go out with
// the poll's samples, when the last state published was not UP; it
// returns the rows appended.
func (r *reach) answered(b *publish.Batch) int {
	r.fails = 0
	if r.state == schemas.TargetUp {
		return 0
	}
	r.state = schemas.TargetUp
	appendTargetState(b, schemas.TargetUp, schemas.TargetReasonEstablished)
	return 2
}

// failed counts a failed poll and reports whether the target, not DOWN
// until now, has failed DownAfter polls in a row: it is then DOWN, once.
// A target this collector never had answer counts too: it may be known UP
// downstream (another process polled it until its bucket moved here, or
// this one did before a restart); the detect stage takes a device's first
// state for its first value, so one never up anywhere raises nothing.
func (r *reach) failed() bool {
	r.fails++
	if r.state == schemas.TargetDown || r.fails < DownAfter {
		return false
	}
	r.state = schemas.TargetDown
	return true
}

// appendTargetState appends a target state and its reason, stamped with
// the collector's clock (a silent agent sends no time).
func appendTargetState(b *publish.Batch, state, reason string) {
	now := time.Now().UnixNano()
	keys := b.KeysIndex("")
	b.AppendState(now, b.MetricIndex(schemas.MetricTargetState), keys, state)
	b.AppendState(now, b.MetricIndex(schemas.MetricTargetReason), keys, reason)
}

// publishDown publishes t DOWN (reason poll_timeout) in b, which is empty.
func (c *Collector) publishDown(pctx context.Context, t *target, b *publish.Batch) {
	appendTargetState(b, schemas.TargetDown, schemas.TargetReasonPollTimeout)
	c.b.Log.Info("target state", "target", t.cfg.Name, "state", schemas.TargetDown, "reason", schemas.TargetReasonPollTimeout, "failed_polls", t.reach.fails)
	rec := b.NewRecord()
	if rec == nil {
		return
	}
	defer rec.Release()
	c.samples.Add(2)
	if err := c.b.Pub.Publish(pctx, t.cfg.Name, rec); err != nil && pctx.Err() == nil {
		c.b.Log.Error("cannot publish the target state", "target", t.cfg.Name, "err", err)
	}
}
