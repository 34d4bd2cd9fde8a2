package pipeline

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telekernel/telekernel/kafka"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestOwnedReached checks the drain's ownership rule: a partition a member
// lost (or never had) counts as reached only when the group committed its
// end offset, never because the member no longer owns it.
func TestOwnedReached(t *testing.T) {
	end := map[string]map[int32]int64{"in": {0: 100, 1: 50, 2: 0}}
	done := map[string]map[int32]int64{"in": {0: 100, 1: 50}}
	none := map[string]map[int32]kgo.EpochOffset{}
	noGroup := func() map[string]map[int32]int64 { return nil }
	group := func(p0, p1 int64) func() map[string]map[int32]int64 {
		return func() map[string]map[int32]int64 { return map[string]map[int32]int64{"in": {0: p0, 1: p1}} }
	}

	var o owned
	if o.reached(end, done, none, group(100, 50)) {
		t.Error("reached before the first assignment")
	}
	o.add(map[string][]int32{"in": {0, 1, 2}})
	if !o.reached(end, done, none, noGroup) {
		t.Error("not reached with every owned partition processed to its end")
	}
	if o.reached(end, map[string]map[int32]int64{"in": {0: 100, 1: 49}}, none, noGroup) {
		t.Error("reached with partition 1 one record short")
	}
	// Committed on assignment counts for an owned partition with nothing new.
	if !o.reached(end, map[string]map[int32]int64{"in": {0: 100}}, map[string]map[int32]kgo.EpochOffset{"in": {1: {Offset: 50}}}, noGroup) {
		t.Error("not reached with partition 1 committed when it was assigned")
	}

	// The member loses every partition (its session expired): the issue's
	// false drain was exactly this case.
	o.remove(map[string][]int32{"in": {0, 1, 2}})
	if o.reached(end, done, none, noGroup) {
		t.Error("reached after losing every partition, with the group's offsets unknown")
	}
	if o.reached(end, done, none, group(100, 20)) {
		t.Error("reached after losing every partition, with the group 30 records behind on partition 1")
	}
	if !o.reached(end, done, none, group(100, 50)) {
		t.Error("not reached after losing every partition, with the group committed to the end")
	}
	// Partition 0 comes back and is processed to its end (the runner
	// commits before it stops); partition 1 is still the group's, and
	// partition 2 is empty: nothing to wait for, owned or not.
	o.add(map[string][]int32{"in": {0}})
	if !o.reached(end, done, none, group(0, 50)) {
		t.Error("not reached with partition 0 owned and processed, partition 1 committed by the group")
	}
	if o.reached(end, done, none, group(100, 49)) {
		t.Error("reached with partition 1, owned by another member, one record short")
	}
}

// TestLagOf checks the figures a failed drain reports.
func TestLagOf(t *testing.T) {
	l := lagOf(map[int32]int64{0: 100, 1: 50, 2: 0, 3: 7}, map[int32]int64{0: 100, 1: 20, 3: -1})
	if l.Records != 37 || !slices.Equal(l.Partitions, []int32{1, 3}) || l.Of != 4 {
		t.Errorf("lag %+v, want 37 records on partitions [1 3] of 4", l)
	}
	if got, want := l.String(), "37 records behind on 2 of 4 partitions [1 3]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestRunnerDrainsLostPartitionsThroughGroup runs two members of one group
// on the in-process broker. The first drains to the end; then a second
// member, given the same target, must not stop before the group committed
// the end offsets of the partitions it does not own, and Behind must agree
// with the outcome.
func TestRunnerDrainsLostPartitionsThroughGroup(t *testing.T) {
	cluster := newCluster(t, 4, "in", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range 40 {
		rec := samplesRecord(t, "in", 5, 1e18+int64(i)*1e11)
		rec.Key = []byte{byte('a' + i%26), byte(i)}
		if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	end, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	before, err := Behind(ctx, prod, "g", "in", end)
	if err != nil {
		t.Fatal(err)
	}
	if before.Records != 40 || before.Of != 4 {
		t.Fatalf("before the run, Behind = %+v, want 40 records on 4 partitions", before)
	}

	m := NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newRunner := func() *Runner {
		r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: "g", Topics: []string{"in"}, DeadLetterTopic: "dlq", FlushInterval: 50 * time.Millisecond}, &countSink{}, m, log)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// A member that owns nothing yet and is told the end: it waits for an
	// assignment, gets every partition, and drains them.
	r1 := newRunner()
	r1.DrainTo(end)
	if err := r1.Run(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := Behind(ctx, prod, "g", "in", end)
	if err != nil {
		t.Fatal(err)
	}
	if after.Records != 0 {
		t.Errorf("after the drain, Behind = %v", after)
	}
	// More records arrive; a member whose partitions are all taken away
	// (simulated: it forgets them as onLost does) is not drained while
	// the group has not committed them.
	for i := range 8 {
		if err := prod.ProduceSync(ctx, samplesRecord(t, "in", 5, 2e18+int64(i)*1e11)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	end2, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	r2 := newRunner()
	defer r2.client.Close()
	r2.owned.add(map[string][]int32{"in": {0, 1, 2, 3}})
	r2.onLost(ctx, r2.client, map[string][]int32{"in": {0, 1, 2, 3}})
	r2.mu.Lock()
	reached := r2.reached(ctx, end2)
	r2.mu.Unlock()
	if reached {
		t.Error("a member that lost every partition counts as drained while the group is 8 records behind")
	}
	lag, err := Behind(ctx, prod, "g", "in", end2)
	if err != nil {
		t.Fatal(err)
	}
	if lag.Records != 8 {
		t.Errorf("Behind = %v, want 8 records", lag)
	}
}

// TestRunnerPollsOnWhileCommitsFail: a commit that fails (as after an
// expired session) does not wedge the runner in a retry loop that holds
// the poll: it consumes on while commits fail, and once they work again
// it drains to the end with everything committed.
func TestRunnerPollsOnWhileCommitsFail(t *testing.T) {
	cluster := newCluster(t, 1, "in", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var failing atomic.Bool
	var failed atomic.Int64
	failing.Store(true)
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if !failing.Load() {
			return nil, nil, false
		}
		failed.Add(1)
		return failedCommit(req.(*kmsg.OffsetCommitRequest)), nil, true
	})
	m := NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: "g", Topics: []string{"in"}, DeadLetterTopic: "dlq", FlushInterval: 20 * time.Millisecond}, &countSink{}, m, log)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(ctx) }()
	produce := func(n int) {
		for i := range n {
			if err := prod.ProduceSync(ctx, samplesRecord(t, "in", 5, 1e18+int64(i)*1e11)).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor := func(what string, ok func() bool) {
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s (records consumed %d, commits failed %d)", what, r.Stats().Records, failed.Load())
			}
		}
	}
	produce(5)
	waitFor("no commit was attempted", func() bool { return failed.Load() >= 2 })
	produce(5)
	waitFor("the runner stopped consuming while its commits failed", func() bool { return r.Stats().Records == 10 })
	failing.Store(false)
	end, err := EndOffsets(ctx, prod, "in")
	if err != nil {
		t.Fatal(err)
	}
	r.DrainTo(end)
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	lag, err := Behind(ctx, prod, "g", "in", end)
	if err != nil {
		t.Fatal(err)
	}
	if lag.Records != 0 {
		t.Errorf("after the drain: %v", lag)
	}
}

// failedCommit answers an offset commit with an error for every partition.
func failedCommit(req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = kerr.GroupAuthorizationFailed.Code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
