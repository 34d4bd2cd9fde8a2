package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// TestOnlyFencesCountAsFences: the stage stops at the maxFences-th session
// fenced by another instance (PRODUCER_FENCED, which a second instance
// with the same transactional ID gives, on a real Kafka 4.1) within
// fenceWindow, whether transactions committed between the fences or not,
// and not after as many transactions the broker aborted for their
// timeout (a broker away longer than it): their commit gets
// INVALID_PRODUCER_EPOCH (checked against a real Kafka 4.1 with a
// transaction stalled past its timeout three times: the stage went on).
// Fences further apart than fenceWindow, with commits between them (a
// broker failover now and then), never stop it.
func TestOnlyFencesCountAsFences(t *testing.T) {
	cluster := newCluster(t, 1, "in")
	ctx := context.Background()
	tr, err := NewTransactRunner(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, TransactConfig{Name: "s", Group: "g", Input: "in"},
		&restoreProc{}, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.reader.Close()
	defer func() { tr.closeSession() }()
	commit := func() { tr.renewStreak, tr.fenceStreak = 0, 0 } // as settle does
	timedOut := fmt.Errorf("end transaction: unable to commit transaction offsets: topic in partition 0: %w", kerr.InvalidProducerEpoch)
	for i := range maxFences + 1 {
		tr.renewStreak = 0 // the backoff's
		if err := tr.renew(ctx, timedOut); err != nil {
			t.Fatalf("timed-out transaction %d: %v", i+1, err)
		}
	}
	fenced := fmt.Errorf("end transaction: %w", kerr.ProducerFenced)
	for i := range 2 * maxFences {
		commit()
		if err := tr.renew(ctx, fenced); err != nil {
			t.Fatalf("fence %d, each %v after the one before: %v", i+1, fenceWindow, err)
		}
		for j := range tr.fences {
			tr.fences[j] = tr.fences[j].Add(-fenceWindow)
		}
	}
	for i := range maxFences {
		commit() // a commit between fences does not start the count again
		err := tr.renew(ctx, fenced)
		if last := i == maxFences-1; last != (err != nil) {
			t.Fatalf("fence %d: %v", i+1, err)
		}
		if err != nil && !strings.Contains(err.Error(), "two live instances share transactional id "+tr.cfg.TransactionalID) {
			t.Fatalf("fence %d: %v, want it to say two instances share the transactional id", i+1, err)
		}
	}
}

// lockedLog is a log written by several goroutines, read by the test.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the lines holding every one of words.
func (l *lockedLog) lines(words ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.buf.String()) {
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(line, w) }) {
			out = append(out, line)
		}
	}
	return out
}

// TestTwoInstancesOneTransactionalID: two live instances of a stage share
// one transactional id (a duplicate deployment, an instance id set twice).
// Each new session of one fences the other, whose next transaction fails
// and whose new session fences the first in turn, and every commit in
// between used to reset the count that stops a stage: neither stopped,
// both kept aborting work. One of them must stop, with one ERROR line
// naming the transactional id and saying two instances share it, and an
// error from Run; the other goes on committing. On kfake, or on the real
// Kafka with TK_INTEGRATION set.
func TestTwoInstancesOneTransactionalID(t *testing.T) {
	if os.Getenv("TK_INTEGRATION") == "" {
		cluster := newCluster(t, 2, "in", "in.out")
		testTwoInstancesOneTransactionalID(t, kafka.Config{Brokers: cluster.ListenAddrs()}, "in", "g")
		return
	}
	_, kc, id, _ := transactInput(t, 0)
	cl := testClient(t, context.Background(), kc)
	if err := kafka.EnsureTopics(context.Background(), cl, kafka.TopicSpec{Name: id + "-2", Partitions: 2}, kafka.TopicSpec{Name: id + "-2.out", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), id+"-2", id+"-2.out", id+"-changelog")
	})
	testTwoInstancesOneTransactionalID(t, kc, id+"-2", id)
}

func testTwoInstancesOneTransactionalID(t *testing.T, kc kafka.Config, topic, group string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { // a steady input, as a live fleet's
		defer wg.Done()
		for ctx.Err() == nil {
			_ = prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr()
			sleepCtx(ctx, 20*time.Millisecond)
		}
	}()
	txnID := group + "-same-id"
	type instance struct {
		tr   *TransactRunner
		log  *lockedLog
		ran  chan error
		stop context.CancelFunc
	}
	var ins [2]*instance
	for i := range ins {
		l := &lockedLog{}
		tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "s", Group: group, Input: topic, TransactionalID: txnID},
			newCountProc(topic+".out", TransactionConfig{Interval: 100 * time.Millisecond}), NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(l, nil)))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		ins[i] = &instance{tr: tr, log: l, ran: make(chan error, 1), stop: stop}
		wg.Add(1)
		go func() { defer wg.Done(); ins[i].ran <- tr.Run(runCtx) }()
	}
	defer func() {
		for i, in := range ins {
			st := in.tr.Stats()
			t.Logf("instance %d: %d transactions committed, %d aborted, %d fence lines, %d ERROR lines (%d saying a write was rejected), %d WARN lines saying the broker aborted a transaction",
				i, st.Transactions, st.Aborts, len(in.log.lines("PRODUCER_FENCED")), len(in.log.lines("level=ERROR")),
				len(in.log.lines("level=ERROR", "a write was rejected")), len(in.log.lines("level=WARN", "the broker aborted the transaction")))
		}
	}()
	const bound = 90 * time.Second
	start := time.Now()
	var stopped, other int
	var err0 error
	select {
	case err0 = <-ins[0].ran:
		stopped, other = 0, 1
	case err0 = <-ins[1].ran:
		stopped, other = 1, 0
	case <-time.After(bound):
		t.Fatalf("neither instance stopped within %v", bound)
	}
	t.Logf("instance %d stopped after %v: %v", stopped, time.Since(start).Round(time.Millisecond), err0)
	if err0 == nil || !strings.Contains(err0.Error(), txnID) {
		t.Errorf("Run returned %v, want an error naming transactional id %s", err0, txnID)
	}
	// On a real Kafka a fenced session's produce requests also fail
	// (INVALID_PRODUCER_EPOCH, which a transaction the broker timed out
	// gives too), with a WARN line saying the broker aborted the
	// transaction (TestAbortedWriteWording): one ERROR line only names the
	// transactional id.
	if errs := ins[stopped].log.lines("level=ERROR", txnID); len(errs) != 1 || !strings.Contains(errs[0], "two live instances share transactional id") {
		t.Errorf("ERROR lines naming %s of the instance that stopped: %q, want one saying two instances share it", txnID, errs)
	}
	if errs := ins[other].log.lines("level=ERROR", txnID); len(errs) != 0 {
		t.Errorf("ERROR lines naming %s of the instance that goes on: %q, want none", txnID, errs)
	}
	// The other instance goes on: it commits again, and keeps running.
	n := ins[other].tr.Stats().Transactions
	waitFor(t, "the other instance's commits", func() bool { return ins[other].tr.Stats().Transactions >= n+5 })
	select {
	case err := <-ins[other].ran:
		t.Fatalf("the other instance stopped too: %v", err)
	default:
	}
	ins[other].stop()
	if err := <-ins[other].ran; err != nil {
		t.Errorf("the other instance's Run: %v", err)
	}
}

// TestAbortedWriteWording: a transaction whose writes fail with
// INVALID_PRODUCER_EPOCH or PRODUCER_FENCED was aborted by the broker (it
// outlived its transaction timeout, or another producer with the same
// transactional id fenced this one: on a real Kafka 4.1 a fenced
// session's produce requests get INVALID_PRODUCER_EPOCH), and the log line
// says so, as a warning: the stage retries, and a fence counts towards
// maxFences, whose ERROR line names the cause. Any other rejected write is
// an ERROR line saying a write was rejected.
func TestAbortedWriteWording(t *testing.T) {
	cluster := newCluster(t, 1, "in")
	ctx := context.Background()
	var log lockedLog
	tr, err := NewTransactRunner(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, TransactConfig{Name: "s", Group: "g", Input: "in"},
		&restoreProc{}, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.reader.Close()
	defer func() { tr.closeSession() }()
	f := func(cause error, level string, want ...string) {
		t.Helper()
		log.mu.Lock()
		log.buf.Reset()
		log.mu.Unlock()
		tr.abortStreak = 0
		tr.aborted(ctx, fmt.Errorf("produce to in.out: %w", cause), false)
		// The lines about the write: the runner's own (its group's
		// "partitions assigned") may land in the log at any time.
		lines := log.lines("level=", "produce to in.out")
		if len(lines) != 1 || !strings.Contains(lines[0], "level="+level) {
			t.Errorf("%v: log %q, want one %s line", cause, lines, level)
			return
		}
		for _, w := range want {
			if !strings.Contains(lines[0], w) {
				t.Errorf("%v: log %q, want it to say %q", cause, lines[0], w)
			}
		}
	}
	brokerAborted := []string{"the broker aborted the transaction", "transaction timeout", "fenced", "retrying from the last commit"}
	f(kerr.InvalidProducerEpoch, "WARN", brokerAborted...)
	f(kerr.ProducerFenced, "WARN", brokerAborted...)
	f(kerr.InvalidRecord, "ERROR", "a write was rejected", "INVALID_RECORD")
}
