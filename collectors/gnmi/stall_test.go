package gnmi_test

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestSlowBrokerIsNoStall: while the broker holds every produce request
// for 2 s (ten stall timeouts), the collector's publishing waits, the
// streams it feeds stop reading, and the simulated fleet, stepped in
// lockstep, stops sending to every device: the devices are silent because
// of our side, so no stream is cut as stalled and no target goes DOWN.
// Before the stall timer left out the collector's publish waits, both
// devices were reported DOWN (stalled) here.
func TestSlowBrokerIsNoStall(t *testing.T) {
	gate, pub, a := heldBrokerFleet(t)
	cfg := fastConfig(targetsOf(a, tlsfiles.Config{}))
	// Batches go out on the flush timer (20 ms), as in a run's collector:
	// the timer waits on one stream's publish, holding its batch, while the
	// other stream, given nothing by the held-back fleet, waits for a
	// message.
	const stall = 200 * time.Millisecond
	for i := range cfg.Targets {
		cfg.Targets[i].StallTimeout = stall
	}
	logs := &testenv.LogBuffer{}
	c, stop := runCollector(t, cfg, pub, slog.New(slog.NewTextHandler(logs, nil)))
	defer stop()
	waitFor(t, 10*time.Second, "subscriptions", func() bool { return c.Stats().Connects == 2 })

	ctx, cancel := context.WithCancel(context.Background())
	var longest atomic.Int64 // the longest Step, which waits while a subscriber's queue is full
	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		for ctx.Err() == nil {
			start := time.Now()
			if _, err := a.Step(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
			longest.Store(max(longest.Load(), int64(time.Since(start))))
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	gate.Hold()
	time.Sleep(10 * stall)
	gate.Release()
	time.Sleep(500 * time.Millisecond)
	cancel()
	<-stepped
	stop()

	if got := time.Duration(longest.Load()); got < 3*stall {
		t.Fatalf("the longest step took %v: the held broker never held the fleet back (want ≥ %v)", got, 3*stall)
	}
	if n := c.Stats().Failures; n != 0 || strings.Contains(logs.String(), "state=DOWN") {
		t.Errorf("%d stream failures while only the broker was slow; log:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "state=UP"); n != 2 {
		t.Errorf("%d UP states, want one per device", n)
	}
	t.Logf("the fleet was held back for up to %v; %d samples published", time.Duration(longest.Load()).Round(time.Millisecond), pub.Stats().Samples)
}

// heldBrokerFleet returns a publisher to a kfake broker whose produce
// requests gate can hold (testenv.HoldProduce), and a simulated fleet of
// two devices stepped in lockstep with what is read from it. The client's
// buffer is small and a device has 16 interfaces, so publishing waits a
// few steps after the broker stops answering.
func heldBrokerFleet(t *testing.T) (*testenv.Gate, *publish.Publisher, *agent.Agent) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	gate := testenv.HoldProduce(cluster)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.MaxBufferedBytes(256<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	pub, err := publish.New(cl, publish.Config{Topic: "samples", MaxBatchBytes: 128 << 10})
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
	return gate, pub, a
}
