package gnmi_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestStopWithBrokerDown stops a collector whose publishing waits for a
// broker that does not answer: Run returns once ShutdownGrace has passed
// (what was not delivered is dropped), as it does with the broker up.
// Before, the flush timer's publish waited for the broker, the loop that
// notices the stop sat in it, the grace period never started, and Run
// hung until the broker came back.
func TestStopWithBrokerDown(t *testing.T) {
	stopWithBroker(t, func(_ *kfake.Cluster, gate *testenv.Gate) { gate.Hold() })
}

// TestStopWithBrokerGoneReportsLoss is TestStopWithBrokerDown with the
// broker gone (connections refused) rather than silent: the records held
// at the stop are failed when the grace period cancels them, before the
// final Wait starts counting, and Run must still report the loss.
func TestStopWithBrokerGoneReportsLoss(t *testing.T) {
	stopWithBroker(t, func(cluster *kfake.Cluster, _ *testenv.Gate) { cluster.Close() })
}

// stopWithBroker runs a collector publishing to an in-process broker,
// cuts the broker off with cut while the devices step, stops the
// collector, and fails unless Run returns within ShutdownGrace and 10 s
// with an error: the stop dropped what the broker had not acknowledged,
// and the exit status must say so (collectors/README.md).
func stopWithBroker(t *testing.T, cut func(*kfake.Cluster, *testenv.Gate)) {
	if testing.Short() {
		t.Skip("waits for ShutdownGrace")
	}
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	gate := testenv.HoldProduce(cluster)
	t.Cleanup(gate.Release) // before the cluster closes
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.MaxBufferedBytes(256<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	pub, err := publish.New(cl, publish.Config{Topic: "samples", MaxBatchBytes: 128 << 10}, publish.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := sim.New(sim.Config{Devices: 2, Interfaces: 16, Start: t0, Transceivers: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{QueueTicks: 1}, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	c, err := gnmi.New(fastConfig(targetsOf(a, tlsfiles.Config{})), pub, gnmi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	waitFor(t, 10*time.Second, "subscriptions", func() bool { return c.Stats().Connects == 2 })
	sctx, stopStepping := context.WithCancel(context.Background())
	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		for sctx.Err() == nil {
			_, _ = a.Step(sctx)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	defer func() { stopStepping(); <-stepped }()
	cut(cluster, gate)
	time.Sleep(time.Second) // the buffer fills; publishing waits
	cancel()
	stopped := time.Now()
	select {
	case err := <-ran:
		t.Logf("Run returned %v after the stop: %v", time.Since(stopped).Round(time.Millisecond), err)
		if err == nil {
			t.Errorf("Run returned nil after a stop that dropped unacknowledged samples (lost: %v)", pub.Stats().Lost)
		}
	case <-time.After(gnmi.ShutdownGrace + 10*time.Second):
		gate.Release()
		<-ran
		t.Fatalf("Run did not return within ShutdownGrace (%v) and 10 s of the stop with the broker cut off", gnmi.ShutdownGrace)
	}
}
