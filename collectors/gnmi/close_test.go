package gnmi

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/connectivity"

	"github.com/telekernel/telekernel/collectors/publish"
)

// TestRunClosesConnections: once Run returns, every target's gRPC
// connection is shut down (it used to stay open until the process ended,
// which an embedding program or a test running many collectors pays for).
func TestRunClosesConnections(t *testing.T) {
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
	pub, err := publish.New(cl, publish.Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Targets:       []Target{{Name: "a", Address: "127.0.0.1:1"}, {Name: "b", Address: "127.0.0.1:2"}},
		Subscriptions: []Subscription{{Name: "all", Paths: []string{"/"}}},
	}
	c, err := New(cfg, pub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.targets) != 2 {
		t.Fatalf("%d targets, want 2", len(c.targets))
	}
	for name, tg := range c.targets {
		if s := tg.conn.GetState(); s != connectivity.Shutdown {
			t.Errorf("target %s: connection %v after Run returned, want SHUTDOWN", name, s)
		}
	}
}
