package share

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// member is one Group with the buckets its callback reported.
type member struct {
	g     *Group
	mu    sync.Mutex
	owned Owned
}

func (m *member) buckets() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owned.Buckets()
}

// TestGroupOnKafka: three members on the real broker own disjoint bucket
// sets that cover all buckets; when one leaves, the other two cover all
// again, and a member that joins later takes a share without any bucket
// being owned twice at any observation.
func TestGroupOnKafka(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	cfg := Config{Enabled: true, Name: "tk-share-test-" + id, Topic: "tk-share-test-" + id, Buckets: 16, SessionTimeout: 6 * time.Second}
	kc := kafka.Config{Brokers: []string{broker}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	join := func() *member {
		m := &member{}
		g, err := Join(ctx, kc, cfg, "test", func(c Change) { m.mu.Lock(); m.owned = c.Owned; m.mu.Unlock() },
			WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		m.g = g
		return m
	}
	// wait until the members own every bucket exactly once with none idle.
	wait := func(ms ...*member) {
		t.Helper()
		var last map[int32]int
		for t0 := time.Now(); time.Since(t0) < 60*time.Second; time.Sleep(100 * time.Millisecond) {
			last = map[int32]int{}
			idle := false
			for _, m := range ms {
				bs := m.buckets()
				idle = idle || len(bs) == 0
				for _, x := range bs {
					last[x]++
				}
			}
			for x, n := range last {
				if n > 1 {
					t.Fatalf("bucket %d owned by %d members at once", x, n)
				}
			}
			if len(last) == int(cfg.Buckets) && !idle {
				return
			}
		}
		t.Fatalf("members did not cover the %d buckets: %v", cfg.Buckets, last)
	}
	a, b2, c := join(), join(), join()
	wait(a, b2, c)
	c.g.Close()
	if len(c.buckets()) != 0 {
		t.Errorf("a closed member still owns %v", c.buckets())
	}
	wait(a, b2)
	d := join()
	wait(a, b2, d)
	for _, m := range []*member{a, b2, d} {
		m.g.Close()
	}
}

// TestCloseWithinBoundWhileKafkaIsAway closes a member while the broker
// holds its heartbeats and its leave: Close gives up waiting after
// LeaveWait and still reports every bucket lost. Before, it waited for
// the client, which retries the leave for 30 s.
func TestCloseWithinBoundWhileKafkaIsAway(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	gate := testenv.HoldRequests(cluster, kmsg.Heartbeat, kmsg.LeaveGroup)
	defer gate.Release() // before the cluster closes
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := &member{}
	g, err := Join(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Buckets: 4}, "test",
		func(c Change) { m.mu.Lock(); m.owned = c.Owned; m.mu.Unlock() }, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	for len(m.buckets()) < 4 {
		if ctx.Err() != nil {
			t.Fatalf("the member owns %v, want the 4 buckets", m.buckets())
		}
		time.Sleep(20 * time.Millisecond)
	}
	gate.Hold()
	t0 := time.Now()
	g.Close()
	if took := time.Since(t0); took > LeaveWait+time.Second {
		t.Errorf("Close took %v with the leave held, want at most LeaveWait (%v) and a second", took.Round(time.Millisecond), LeaveWait)
	}
	if len(m.buckets()) != 0 {
		t.Errorf("a closed member still owns %v", m.buckets())
	}
}
