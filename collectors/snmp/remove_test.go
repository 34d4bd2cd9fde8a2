package snmp

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/secret"
)

// TestRemovedTargetStopsPolling removes a target (its bucket moved to
// another process of the group, or a reload dropped it) while its poll is
// in flight: once SetTargets returns, the target is collected no more. The
// poll is abandoned at once, nothing of it is published or counted, and
// the target leaves no series in /metrics. Before, the poll went on (up to
// an interval) and published after SetTargets had returned, while the new
// owner may already poll the target, and its counts brought back the
// target's series that SetTargets had just deleted.
func TestRemovedTargetStopsPolling(t *testing.T) {
	a := newRebootAgent(t)
	seen := make(chan struct{}, 1)
	a.mu.Lock()
	a.uptime, a.bulkDelay, a.bulkSeen = 1000, 1500*time.Millisecond, seen
	a.mu.Unlock()
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	reg := prometheus.NewRegistry()
	pub, err := publish.New(cl, publish.Config{Topic: "samples"}, publish.WithMetrics(publish.NewMetrics(reg)))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	t.Setenv("TK_TEST_COMMUNITY", "public")
	off := false
	tg := Target{Name: "r1", Address: a.conn.LocalAddr().String(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"},
		MIBs: []string{MIBInterfaces}, Interval: 3 * time.Second, Timeout: 2 * time.Second, Retries: -1}
	c, err := New(Config{Targets: []Target{tg}, TargetState: &off}, pub, WithMetrics(NewMetrics(reg)), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-seen: // the poll walks: its answer comes in 1.5 s
	case <-time.After(10 * time.Second):
		t.Fatal("the target was not polled within 10s")
	}
	t0 := time.Now()
	if err := c.SetTargets(nil); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	time.Sleep(2 * time.Second) // the agent's answer came; the poll would be done
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := pub.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if took > time.Second {
		t.Errorf("SetTargets took %v with the removed target's poll in flight, want it abandoned at once", took.Round(time.Millisecond))
	}
	if st := pub.Stats(); st.Samples != 0 {
		t.Errorf("%d samples of the removed target were published after SetTargets returned", st.Samples)
	}
	for _, name := range []string{"telekernel_snmp_polls_total", "telekernel_snmp_oids_total", "telekernel_publish_last_success_timestamp_seconds"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 0 {
			t.Errorf("%s: %d series of the removed target (%v), want none", name, n, err)
		}
	}
}
