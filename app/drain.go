package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
)

// drain tells stages to stop once they have flushed and committed
// everything now in their input topics, waits for them until checkReserve
// before ctx's deadline, and then, by that deadline, checks what each
// stage's consumer group committed against those end offsets: a stage is
// drained only when its group committed the end offset of every
// partition, whoever consumed it. The error names each stage that is
// behind, by how many records and on which partitions, and what becomes of
// those records (v).
func drain(ctx context.Context, admin *kgo.Client, stages []stage, done map[string]chan struct{}, v verdict) error {
	if len(stages) == 0 {
		return nil
	}
	ends := map[string]map[string]map[int32]int64{} // by input topic
	for _, st := range stages {
		if ends[st.topic] != nil {
			continue
		}
		end, err := pipeline.EndOffsets(ctx, admin, st.topic)
		if err != nil {
			return fmt.Errorf("cannot drain %s: %w", st.topic, err)
		}
		ends[st.topic] = end
	}
	for _, st := range stages {
		st.st.DrainTo(ends[st.topic])
	}
	wctx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, d.Add(-checkReserve))
		defer cancel()
	}
	timedOut := false
	for _, st := range stages {
		select {
		case <-done[st.name]:
		case <-wctx.Done():
			timedOut = true
		}
		if timedOut {
			break
		}
	}
	// Stages that stopped by themselves may have committed a last
	// transaction an offset fetch does not show yet: give those commits
	// until one shared deadline, within the wait's. After a timeout
	// nothing is waited for, so the bound on shutdown holds.
	settle := time.Now()
	if !timedOut {
		settle = settle.Add(settleWait)
		if d, ok := wctx.Deadline(); ok && d.Before(settle) {
			settle = d
		}
	}
	var errs []error
	for _, st := range stages {
		if err := checkDrained(ctx, admin, st, ends[st.topic], timedOut, settle, v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkReserve is the part of the stop's deadline kept for checking what
// the stages committed: the wind-down and the wait for the stages end
// this long before it. The check is one offset fetch per stage.
const checkReserve = 3 * time.Second

// verdict is what drain's error says about records a stage did not drain.
type verdict struct {
	timeout time.Duration // the drain's, named when it ran out
	// embedded is set when the topics are on the embedded broker, which
	// keeps them in memory only: undrained records are lost at exit.
	embedded bool
}

// settleWait bounds how long checkDrained waits for a group's committed
// offsets to show a stage's last commit. A transactional stage (a
// TransactRunner) commits its offsets in its transaction, and an offset
// fetch shows them only once the transaction coordinator has written the
// commit markers, after the commit itself returned: measured against
// Kafka 4.1 here, a fetch right after the commit was behind in 72 to 156
// of 200 transactions, and caught up within 35 ms. A stage that stops
// right after its last commit (one still catching up when the drain
// began) was reported as not drained by a few records. The wait is shared
// by the stages of a drain phase.
const settleWait = 5 * time.Second

// settlePoll is how often checkDrained fetches the offsets meanwhile.
const settlePoll = 50 * time.Millisecond

// checkDrained compares what st's group committed with end, fetching the
// committed offsets again while they are behind until settle, for commits
// that are made but not yet visible.
func checkDrained(ctx context.Context, admin *kgo.Client, st stage, end map[string]map[int32]int64, timedOut bool, settle time.Time, v verdict) error {
	var lag pipeline.Lag
	for {
		var err error
		if lag, err = pipeline.Behind(ctx, admin, st.group, st.topic, end); err != nil {
			return fmt.Errorf("stage %s: cannot tell whether it drained %s: %w", st.name, st.topic, err)
		}
		if lag.Records == 0 {
			return nil
		}
		if !time.Now().Before(settle) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(settlePoll):
		}
	}
	why := "it stopped early"
	if timedOut {
		why = fmt.Sprintf("not within %v", v.timeout)
	}
	fate := "what its final flush does not commit is re-read on the next start"
	if v.embedded {
		fate = "what its final flush does not commit is lost: the embedded broker keeps it in memory only"
	}
	return fmt.Errorf("stage %s did not drain %s (%s): %s; %s", st.name, st.topic, why, lag, fate)
}
