package power

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestTransactSurvivesEndTxnError fails the first two transaction commits
// on the broker (EndTxn answers INVALID_TXN_STATE without committing, as a
// commit lost in a broker outage): the stage must not stop, but start a
// new session from the last commit and still emit every power window
// exactly once.
func TestTransactSurvivesEndTxnError(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "samples", "power", "detections", "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	var failed atomic.Int32
	cluster.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		r := req.(*kmsg.EndTxnRequest)
		if !r.Commit || failed.Load() >= 2 {
			return nil, nil, false
		}
		failed.Add(1)
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = kerr.InvalidTxnState.Code
		return resp, nil, true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	fleet, err := sim.New(sim.Config{Devices: 4, Interfaces: 8, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Interval: time.Minute,
		Power: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	stagetest.ProduceFleet(t, ctx, prod, "samples", fleet, 75)
	var logs testenv.LogBuffer
	m := pipeline.NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.NewTextHandler(&logs, nil))
	pw, err := New(Config{}, "power", "detections", m, log)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pipeline.NewTransactRunner(ctx, kc, pipeline.TransactConfig{Name: "power", Group: "gp", Input: "samples", DeadLetterTopic: "dlq",
		// The new session's first offset fetch waits until the broker
		// aborted the failed transaction, after this timeout.
		TransactionTimeout: 2 * time.Second}, pw, m, log)
	if err != nil {
		t.Fatal(err)
	}
	end, err := pipeline.EndOffsets(ctx, prod, "samples")
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatalf("the stage stopped on a failed commit: %v", err)
	}
	if failed.Load() != 2 {
		t.Fatalf("%d commits failed, want 2", failed.Load())
	}
	if n := strings.Count(logs.String(), "starting a new session from the last commit"); n != 1 {
		t.Errorf("%d warnings of a new session, want 1 (the second failure is in the same streak):\n%s", n, logs.String())
	}
	// 4 devices × 4 closed 15-minute windows, each once.
	recs := stagetest.ConsumeAll(t, ctx, kc.Brokers, "power", 16)
	keys := map[string]int{}
	for _, r := range recs {
		keys[string(r.Key)]++
	}
	if len(recs) != 16 || len(keys) != 4 || keys["sim-00"] != 4 {
		t.Fatalf("%d power messages by device %v; want 4 × 4", len(recs), keys)
	}
}
