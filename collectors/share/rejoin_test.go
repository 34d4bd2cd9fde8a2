package share

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
)

// TestCutOffWhileRejoiningGivesUpSoon cuts member a off from the
// coordinator just as a rebalance starts (member c joins): a's JoinGroup
// never reaches the coordinator, which drops a a session after its last
// heartbeat and hands its buckets to b and c. a cannot tell a lost
// JoinGroup from a slow rebalance; it must give them up at most a fifth of
// the session (the request timeout's overhead) after that. Before, a
// waited for the answer for the client's default rebalance timeout, 60 s,
// and collected its buckets 55 s after b and c had taken them (b and c at
// 6.5 s, a gave up at 61.7 s); now 1.2 s after.
func TestCutOffWhileRejoiningGivesUpSoon(t *testing.T) {
	cluster, cutID, hold := cutOffCluster(t)
	hold(kmsg.JoinGroup, func(r kmsg.Request) string { return r.(*kmsg.JoinGroupRequest).MemberID })
	hold(kmsg.SyncGroup, func(r kmsg.Request) string { return r.(*kmsg.SyncGroupRequest).MemberID })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	const session = 6 * time.Second
	defer cancel()
	l := &ledger{owner: map[int32]string{}}
	join := func(name string) *Group {
		g, err := Join(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Buckets: 6, SessionTimeout: session}, "test",
			func(c Change) { l.change(name, c) }, WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	owned := func(name string) int {
		l.mu.Lock()
		defer l.mu.Unlock()
		n := 0
		for _, o := range l.owner {
			if o == name {
				n++
			}
		}
		return n
	}
	a := join("a")
	defer a.Close()
	b := join("b")
	defer b.Close()
	for owned("a") == 0 || owned("b") == 0 || owned("a")+owned("b") != 6 {
		if ctx.Err() != nil {
			t.Fatalf("a and b did not share the 6 buckets: a %d, b %d", owned("a"), owned("b"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	id, _ := a.cl.GroupMetadata()
	cutID.Store(id, true) // a's heartbeats still pass: it learns of the rebalance
	cut := time.Now()
	c := join("c")
	defer c.Close()
	for owned("b")+owned("c") != 6 {
		if ctx.Err() != nil {
			t.Fatalf("b and c did not take a's buckets: a %d, b %d, c %d", owned("a"), owned("b"), owned("c"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	taken := time.Now()
	for l.owns("a") > 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	overlap := time.Since(taken)
	t.Logf("b and c own the 6 buckets %v after a was cut off; a gave its own up %v later", taken.Sub(cut).Round(time.Millisecond), overlap.Round(time.Millisecond))
	if overlap > session/5+time.Second {
		t.Errorf("a gave its buckets up %v after b and c had taken them, want within a fifth of the session (%v) and a second", overlap.Round(time.Millisecond), session/5)
	}
}
