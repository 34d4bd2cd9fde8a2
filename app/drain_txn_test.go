package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestDrainSeesTransactionalCommits checks run's drain verdict on a stage
// that commits its input offsets in a transaction, as a TransactRunner
// does, and stops right after its last commit: the stage is drained,
// although an offset fetch shows a transaction's offsets only once the
// coordinator has written its markers, a little after the commit returned
// (before settleWait, that race made a run report "N records behind"). It
// checks after each transaction of up to 3 of 60 records, on real Kafka.
func TestDrainSeesTransactionalCommits(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := fmt.Sprintf("tk-drain-txn-%d", time.Now().UnixNano())
	in, out, group := id+"-in", id+"-out", id+"-group"
	adm, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ac := kadm.NewClient(adm)
	if _, err := ac.CreateTopics(ctx, 1, -1, nil, in, out); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_, _ = ac.DeleteGroup(context.Background(), group)
		_, _ = ac.DeleteTopics(context.Background(), in, out)
	}()
	const txns, per = 20, 3
	for i := range txns * per {
		if err := adm.ProduceSync(ctx, &kgo.Record{Topic: in, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(broker), kgo.TransactionalID(id), kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	st := stage{name: "txn", group: group, topic: in}
	var next int64
	n := 0
	for next < txns*per {
		recs := sess.PollRecords(ctx, per).Records()
		if ctx.Err() != nil {
			t.Fatalf("consumed up to offset %d of %d: %v", next, txns*per, ctx.Err())
		}
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			sess.Produce(ctx, &kgo.Record{Topic: out, Value: r.Value}, nil)
			next = r.Offset + 1
		}
		if ok, err := sess.End(ctx, kgo.TryCommit); err != nil || !ok {
			t.Fatalf("transaction %d not committed: %v", n, err)
		}
		n++
		end := map[string]map[int32]int64{in: {0: next}}
		if err := checkDrained(ctx, adm, st, end, false, time.Now().Add(settleWait), verdict{timeout: drainTimeout}); err != nil {
			t.Fatalf("after transaction %d, which committed offset %d: %v", n, next, err)
		}
	}
	t.Logf("%d transactions, each seen drained", n)
}

// TestDrainTimedOutDoesNotSettle checks that a drain that ran out of time
// reports the stages behind at once, without settleWait, and by its
// context's deadline, having waited for the stages until checkReserve
// before it: the bound on shutdown holds.
func TestDrainTimedOutDoesNotSettle(t *testing.T) {
	cluster := newCluster(t, kfake.SeedTopics(1, "c"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "c", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	wait := 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), wait+checkReserve)
	defer cancel()
	never := map[string]chan struct{}{"sc": make(chan struct{})} // the stage never stops
	start := time.Now()
	err = drain(ctx, cl, []stage{{name: "sc", st: &stoppedStage{}, group: "gc", topic: "c"}}, never, verdict{timeout: drainTimeout})
	if took := time.Since(start); took > wait+settleWait/2 || took < wait {
		t.Errorf("a timed-out drain took %v to report; want %v of waiting and no settling", took.Round(time.Millisecond), wait)
	}
	if err == nil || !strings.Contains(err.Error(), "stage sc did not drain c (not within") {
		t.Errorf("drain = %v, want stage sc not drained within the bound", err)
	}
}
