package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// TestRevocationWarnsOnce: a member whose sink is down gives one of its
// two partitions to a member that joins. franz-go also calls the
// revocation callback with nothing revoked; the runner flushed (a try at
// the down sink that holds the rebalance) and warned that "the new owner
// will re-read uncommitted records" each time, three lines for one
// partition moved.
func TestRevocationWarnsOnce(t *testing.T) {
	cluster := newCluster(t, 2, "in")
	kc := kafka.Config{Brokers: cluster.ListenAddrs(), SessionTimeout: 6 * time.Second}
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for p := range int32(2) {
		r := samplesRecord(t, "in", 3, 1e18)
		r.Partition = p
		if err := prod.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	newRunner := func(sink Sink, interval time.Duration, log *slog.Logger) *Runner {
		t.Helper()
		r, err := NewRunner(context.Background(), kc, RunnerConfig{Name: "s", Group: "g", Topics: []string{"in"}, FlushInterval: interval},
			sink, NewMetrics(prometheus.NewRegistry()), log)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var logs testenv.LogBuffer
	a := &failSink{}
	ra := newRunner(a, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	aDone := make(chan error, 1)
	go func() { aDone <- ra.Run(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); a.added.Load() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("A did not read both partitions")
		}
	}
	b := &lockedSink{}
	rb := newRunner(b, 20*time.Millisecond, slog.New(slog.DiscardHandler))
	bDone := make(chan error, 1)
	go func() { bDone <- rb.Run(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); rb.Stats().Flushed == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("B did not get a partition")
		}
	}
	time.Sleep(time.Second) // the rebalance's last callbacks
	stop()
	if err := <-bDone; err != nil {
		t.Fatalf("B: %v", err)
	}
	if err := <-aDone; err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("A: %v, want the rows it could not flush", err)
	}
	var warned []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "partition revocation") {
			warned = append(warned, l)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "in:[") {
		t.Fatalf("%d revocation warnings, want one naming the revoked partition:\n%s", len(warned), strings.Join(warned, "\n"))
	}
}
