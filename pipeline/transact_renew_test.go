package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
)

func TestFatalKafka(t *testing.T) {
	f := func(err error, fatal bool) {
		t.Helper()
		if got := fatalKafka(err) != ""; got != fatal {
			t.Errorf("fatalKafka(%v) fatal = %v, want %v", err, got, fatal)
		}
	}
	// The broker away, a commit of unknown outcome, a producer left failed,
	// a fenced session: a new session gets past them.
	f(errors.New("unable to dial: dial tcp 127.0.0.1:9092: connect: connection refused"), false)
	f(fmt.Errorf("end transaction: %w", kerr.CoordinatorNotAvailable), false)
	f(fmt.Errorf("end transaction: %w", kerr.InvalidProducerEpoch), false)
	f(fmt.Errorf("end transaction: %w", kerr.ProducerFenced), false)
	f(fmt.Errorf("produce to x: %w", kerr.UnknownTopicOrPartition), false)
	// Credentials, permissions, sizes and the broker's bounds: no retry helps.
	f(fmt.Errorf("begin transaction: %w", kerr.TransactionalIDAuthorizationFailed), true)
	f(fmt.Errorf("produce to x: %w", kerr.TopicAuthorizationFailed), true)
	f(fmt.Errorf("end transaction: %w", kerr.GroupAuthorizationFailed), true)
	f(kerr.SaslAuthenticationFailed, true)
	f(fmt.Errorf("produce to x: %w", kerr.MessageTooLarge), true)
	f(fmt.Errorf("begin transaction: %w", kerr.InvalidTransactionTimeout), true)
}

// TestFatalCommitErrorOneLine: a transaction's offset commit the broker
// refuses on every partition (GROUP_AUTHORIZATION_FAILED: an ACL missing)
// stops the stage with one line, though franz-go joins the partitions'
// errors a line each, and errors.Is still finds the cause.
func TestFatalCommitErrorOneLine(t *testing.T) {
	cluster := newCluster(t, 3, "in", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for p := range int32(3) {
		r := samplesRecord(t, "in", 3, 1e18)
		r.Partition = p
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cluster.ControlKey(int16(kmsg.TxnOffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		return failedTxnCommit(req.(*kmsg.TxnOffsetCommitRequest), kerr.GroupAuthorizationFailed.Code), nil, true
	})
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "detect", Group: "g", Input: "in", DeadLetterTopic: "dlq",
		Transaction: TransactionConfig{Interval: time.Second}},
		newSeriesProc(), NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithTimeout(ctx, 15*time.Second)
	defer stop()
	err = tr.Run(runCtx)
	if !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("Run returned %v; want the authorization error", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the stage's error spans %d lines: %q", strings.Count(err.Error(), "\n")+1, err.Error())
	}
}
