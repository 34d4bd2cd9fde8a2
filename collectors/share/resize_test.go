package share

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// TestControlTopicGrown: an operator grows the control topic (kafka-topics
// --alter --partitions 8) under a group of 4 buckets while process a runs,
// then process b starts, or restarts, with the same config. Every target
// must still be collected by exactly one of them. Before, a process hashed
// targets over the partition count it read at its start (a over 4, b over
// 8), so from b's start some targets were collected by both and others by
// neither, and nothing said so. Now both hash over group.buckets (4), the
// partitions above it hold no target, and each process says so in one
// ERROR line naming the topic, both counts and what to do.
func TestControlTopicGrown(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	cfg := Config{Enabled: true, Topic: "ctl", Buckets: 4, SessionTimeout: 6 * time.Second}
	join := func(logs *testenv.LogBuffer) *member {
		m := &member{}
		g, err := Join(ctx, kc, cfg, "test", func(c Change) { m.mu.Lock(); m.owned = c.Owned; m.mu.Unlock() },
			WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		if err != nil {
			t.Fatal(err)
		}
		m.g = g
		return m
	}
	var logsA, logsB testenv.LogBuffer
	a := join(&logsA)
	defer a.g.Close()
	for len(a.buckets()) < 4 {
		if ctx.Err() != nil {
			t.Fatalf("a owns %v, want the 4 buckets", a.buckets())
		}
		time.Sleep(20 * time.Millisecond)
	}

	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreatePartitions(ctx, 4, "ctl") // 4 more: 8
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	b := join(&logsB)
	defer b.g.Close()

	// Once the two share the buckets, count the owners of each target.
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("device-%04d", i)
	}
	var zero, twice []string
	for {
		zero, twice = nil, nil
		a.mu.Lock()
		oa := a.owned
		a.mu.Unlock()
		b.mu.Lock()
		ob := b.owned
		b.mu.Unlock()
		for _, n := range names {
			switch k := btoi(oa.Owns(n)) + btoi(ob.Owns(n)); k {
			case 0:
				zero = append(zero, n)
			case 2:
				twice = append(twice, n)
			}
		}
		if oa.Len() > 0 && ob.Len() > 0 && len(zero) == 0 && len(twice) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("a owns buckets %v (of %d), b %v (of %d): %d of %d targets collected by nobody (%v…), %d by both (%v…)",
				oa.Buckets(), oa.n, ob.Buckets(), ob.n, len(zero), len(names), first(zero), len(twice), first(twice))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Each process says it once, whatever the rebalances since.
	want := `level=ERROR msg="the control topic has more partitions than group.buckets`
	waitLog := func(name string, logs *testenv.LogBuffer) {
		t.Helper()
		for !strings.Contains(logs.String(), want) {
			if ctx.Err() != nil {
				t.Fatalf("%s did not report the grown control topic:\n%s", name, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		line := logs.String()[strings.Index(logs.String(), want):]
		line = line[:strings.Index(line, "\n")]
		for _, s := range []string{"topic=ctl", "partitions=8", "buckets=4", "group.buckets: 8"} {
			if !strings.Contains(line, s) {
				t.Errorf("%s's ERROR line does not name %s: %s", name, s, line)
			}
		}
		if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
			t.Errorf("%s logged %d ERROR lines, want 1:\n%s", name, n, logs.String())
		}
	}
	waitLog("b", &logsB)
	waitLog("a", &logsA)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func first(s []string) []string { return s[:min(len(s), 3)] }

// TestControlTopicFewerPartitions: a control topic with fewer partitions
// than group.buckets (created by hand, or by processes of a smaller
// group.buckets) would leave the targets of the missing buckets to nobody:
// Join refuses, naming the topic, both counts and what to do.
func TestControlTopicFewerPartitions(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "ctl"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	g, err := Join(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Topic: "ctl", Buckets: 4}, "test", nil,
		WithLogger(slog.New(slog.DiscardHandler)))
	if err == nil {
		g.Close()
		t.Fatal("Join on a control topic of 2 partitions for 4 buckets succeeded")
	}
	for _, s := range []string{"ctl has 2 partitions, fewer than group.buckets (4)", "buckets 2 to 3", "--partitions 4", "group.buckets: 2"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Join error %q does not say %q", err, s)
		}
	}
}
