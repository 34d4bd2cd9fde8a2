package pipeline

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Holder is implemented by a Processor that may hold the outputs of the
// records it was handed past Process, so that its work on one record
// overlaps the runner's and the next record's (the detect stage's
// workers). A TransactRunner calls HoldOutputs once, before any other
// method, and Flush with the transaction's emit after the last Process of
// every transaction and before its Checkpoint, whether the transaction
// then commits or aborts: no output is held from one transaction to the
// next. Flush emits every output held, in the order Process would have;
// an error stops the stage as Process's does. A restore inside a
// transaction calls Flush before it, and with a discarding emit after
// replaying the input since a checkpoint.
type Holder interface {
	HoldOutputs()
	Flush(emit func(*kgo.Record)) error
}

// emitter returns the function that produces a processor's output in
// the open transaction x.
func (t *TransactRunner) emitter(ctx context.Context, x *txnState) func(*kgo.Record) {
	return func(r *kgo.Record) {
		x.outputs++
		t.produce(ctx, x, r)
	}
}

// flushHeld has a Holder emit the outputs it holds into the open
// transaction x; its error, like a processor's, aborts x and stops the
// stage.
func (t *TransactRunner) flushHeld(ctx context.Context, x *txnState) {
	h, ok := t.proc.(Holder)
	if !ok {
		return
	}
	if err := h.Flush(t.emitter(ctx, x)); err != nil && x.procErr == nil {
		x.procErr = fmt.Errorf("%s: %w", t.cfg.Name, err)
	}
}
