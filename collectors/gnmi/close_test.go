package gnmi

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/connectivity"
)

// TestRunClosesConnections: once Run returns, every target's gRPC
// connection is shut down (it used to stay open until the process ended,
// which an embedding program or a test running many collectors pays for),
// and a SetTargets after that starts no new one.
func TestRunClosesConnections(t *testing.T) {
	pub := FakePublisher(t)
	cfg := Config{
		Targets:       []Target{{Name: "a", Address: "127.0.0.1:1"}, {Name: "b", Address: "127.0.0.1:2"}},
		Subscriptions: []Subscription{{Name: "all", Paths: []string{"/"}}},
	}
	c, err := New(cfg, pub, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// A reload that comes after Run's context ended starts nothing.
	if err := c.SetTargets(append(cfg.Targets, Target{Name: "c", Address: "127.0.0.1:3"})); err != nil {
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
