package share

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// The group of the kill and pause tests: buckets, and the session a
// killed or paused member keeps them for.
const buckets, session = 16, 6 * time.Second

// joinOnKafka joins member a, in this process, to a fresh group (prefix
// and random hex) on the real Kafka, and returns the spec startMember
// takes for another member of it in a process of its own.
func joinOnKafka(t *testing.T, ctx context.Context, prefix string) (a *member, spec string) {
	t.Helper()
	broker := testenv.Service(t, "TK_KAFKA")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := prefix + hex.EncodeToString(b)
	a = &member{}
	g, err := Join(ctx, kafka.Config{Brokers: []string{broker}}, Config{Enabled: true, Name: id, Topic: id, Buckets: buckets, SessionTimeout: session}, "test",
		func(c Change) { a.mu.Lock(); a.owned = c.Owned; a.mu.Unlock() }, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return a, fmt.Sprintf("%s %s %d %s", broker, id, buckets, session)
}

// TestKilledMemberOnKafka kills (SIGKILL) a member process on the real
// broker: the survivor must own all buckets within the session timeout
// and 10 s (the README's bound), and when the killed process is started
// again it takes a share, no bucket ever owned by both.
func TestKilledMemberOnKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, spec := joinOnKafka(t, ctx, "tk-share-kill-")
	// bothOwn reports a bucket that a and p own, as far as p's output
	// read so far says: one still owned by both after half a second (p's
	// lines may be a moment behind).
	bothOwn := func(p *process) (int32, bool) {
		for deadline := time.Now().Add(500 * time.Millisecond); ; time.Sleep(10 * time.Millisecond) {
			x, both := int32(-1), false
			theirs := p.buckets()
			for _, b := range a.buckets() {
				if theirs[b] {
					x, both = b, true
				}
			}
			if !both || time.Now().After(deadline) {
				return x, both
			}
		}
	}
	// shared waits until a and p cover every bucket, both owning some,
	// failing on a bucket both own.
	shared := func(p *process) time.Duration {
		t.Helper()
		t0 := time.Now()
		for ctx.Err() == nil {
			if x, both := bothOwn(p); both {
				t.Fatalf("bucket %d owned by both processes (a %v, the other %v)", x, a.buckets(), p.buckets())
			}
			mine, theirs := a.buckets(), p.buckets()
			if len(mine) > 0 && len(theirs) > 0 && len(mine)+len(theirs) == buckets {
				return time.Since(t0)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("a owns %v, the other process %v: not sharing the %d buckets", a.buckets(), p.buckets(), buckets)
		return 0
	}
	p := startMember(t, spec)
	shared(p)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for len(a.buckets()) < buckets {
		if time.Since(killed) > session+10*time.Second {
			t.Fatalf("%v after the kill, a owns %v, want all %d buckets", time.Since(killed).Round(time.Millisecond), a.buckets(), buckets)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("a owns every bucket %v after the kill", time.Since(killed).Round(time.Millisecond))

	// Started again right after a kill: the dead member is still in the
	// group until its session expires.
	p2 := startMember(t, spec)
	shared(p2)
	if err := p2.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p3 := startMember(t, spec)
	took := shared(p3)
	t.Logf("restarted right after a kill: sharing after %v", took.Round(time.Millisecond))
}

// TestPausedMemberOnKafka pauses a member process (SIGSTOP: a long GC
// pause, a frozen VM) past its session: the other takes its buckets, and
// once resumed the paused process must give them up at once.
func TestPausedMemberOnKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, spec := joinOnKafka(t, ctx, "tk-share-pause-")
	p := startMember(t, spec)
	for len(a.buckets()) == 0 || len(p.buckets()) == 0 || len(a.buckets())+len(p.buckets()) != buckets {
		if ctx.Err() != nil {
			t.Fatalf("a owns %v, p %v", a.buckets(), p.buckets())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for len(a.buckets()) < buckets {
		if ctx.Err() != nil {
			t.Fatalf("a owns %v after p paused", a.buckets())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	for len(p.buckets()) > 0 {
		if time.Since(resumed) > 2*time.Second {
			t.Fatalf("%v after it resumed, p still owns %v that a owns", time.Since(resumed).Round(time.Millisecond), p.buckets())
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("p gave its buckets up %v after it resumed", time.Since(resumed).Round(time.Millisecond))
}
