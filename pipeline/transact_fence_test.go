package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/telekernel/telekernel/kafka"
)

// TestOnlyFencesCountAsFences: the stage stops after maxFenceStreak
// sessions in a row fenced by another instance (PRODUCER_FENCED, which a
// second instance with the same transactional ID gives, on a real Kafka
// 4.1), not after as many transactions the broker aborted for their
// timeout (a broker away longer than it): their commit gets
// INVALID_PRODUCER_EPOCH (checked against a real Kafka 4.1 with a
// transaction stalled past its timeout three times: the stage went on).
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
	timedOut := fmt.Errorf("end transaction: unable to commit transaction offsets: topic in partition 0: %w", kerr.InvalidProducerEpoch)
	for i := range maxFenceStreak + 1 {
		tr.renewStreak = 0 // the backoff's
		if err := tr.renew(ctx, timedOut); err != nil {
			t.Fatalf("timed-out transaction %d: %v", i+1, err)
		}
	}
	fenced := fmt.Errorf("end transaction: %w", kerr.ProducerFenced)
	for i := range maxFenceStreak {
		tr.renewStreak = 0
		err := tr.renew(ctx, fenced)
		if last := i == maxFenceStreak-1; last != (err != nil) {
			t.Fatalf("fence %d: %v", i+1, err)
		}
		if err != nil && !strings.Contains(err.Error(), "another live instance") {
			t.Fatalf("fence %d: %v, want it to name another instance", i+1, err)
		}
	}
}
