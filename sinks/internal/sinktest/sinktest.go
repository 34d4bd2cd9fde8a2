// Package sinktest holds what the sinks' integration tests share: a fresh
// topic on the real Kafka, producing samples to it, a pipeline.Sink wrapper
// that "kills" the sink between its write and the offset commit, a TCP
// proxy that can be cut to simulate a server outage, and a logger that
// records what it logs. It is imported by tests only.
package sinktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Kafka returns the config of the real Kafka (TK_KAFKA) and a client for
// producing and admin work, closed when the test ends. It skips or fails
// the test as testenv.Service does when TK_KAFKA is unset.
func Kafka(t testing.TB) (kafka.Config, *kgo.Client) {
	t.Helper()
	addr := testenv.Service(t, "TK_KAFKA")
	kc := kafka.Config{Brokers: strings.Split(addr, ","), ConnectTimeout: 10 * time.Second, SessionTimeout: 10 * time.Second}
	cl, err := kafka.Connect(context.Background(), kc, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kc, cl
}

// Name returns prefix followed by a random suffix, for topics, groups and
// databases no other test run uses.
func Name(prefix string) string {
	var r [5]byte
	_, _ = rand.Read(r[:])
	return prefix + hex.EncodeToString(r[:])
}

// Topic creates a fresh topic with the given number of partitions and
// deletes it when the test ends.
func Topic(t testing.TB, cl *kgo.Client, prefix string, partitions int32) string {
	t.Helper()
	name := Name(prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: name, Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = kadm.NewClient(cl).DeleteTopics(ctx, name)
	})
	return name
}

// ProduceSamples encodes recs as samples messages keyed by the device of
// their first row and produces them synchronously, in order.
func ProduceSamples(t testing.TB, cl *kgo.Client, topic string, recs []arrow.RecordBatch) {
	t.Helper()
	var hs []kgo.RecordHeader
	for _, h := range schemas.SamplesHeaders() {
		hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	out := make([]*kgo.Record, 0, len(recs))
	for _, rec := range recs {
		v, err := schemas.EncodeSamples(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		first := rec.NewSlice(0, 1)
		ss, err := schemas.Samples(first)
		first.Release()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &kgo.Record{Topic: topic, Key: []byte(ss[0].Device), Value: v, Headers: hs})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, out...).FirstErr(); err != nil {
		t.Fatalf("cannot produce to %s: %v", topic, err)
	}
}

// KillAfterWrite wraps a pipeline.Sink: its KillAt-th Flush that writes
// rows makes them durable in the wrapped sink and then fails with
// pipeline.ErrStop, so the runner stops without committing the offsets of
// what was just written, as a process killed between the write and the
// commit would. From then on the sink is dead: every Add and Flush fails,
// so the flush the runner attempts when it leaves the group commits
// nothing either. Flushes are counted from 1; KillAt 0 never kills.
type KillAfterWrite struct {
	pipeline.Sink
	KillAt int

	mu      sync.Mutex
	flushes int
	killed  bool
	rows    int
}

// ErrKilled is what the killing Flush returns, wrapped with pipeline.ErrStop.
var ErrKilled = fmt.Errorf("%w: killed between the write and the offset commit (test)", pipeline.ErrStop)

// Flush flushes the wrapped sink, then fails if this is the flush to kill.
func (k *KillAfterWrite) Flush(ctx context.Context) (int, error) {
	if dead, _ := k.Killed(); dead {
		return 0, ErrKilled
	}
	n, err := k.Sink.Flush(ctx)
	if err != nil || n == 0 {
		return n, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.flushes++
	if k.flushes == k.KillAt {
		k.killed, k.rows = true, n
		return 0, ErrKilled
	}
	return n, nil
}

// Add adds to the wrapped sink until the kill.
func (k *KillAfterWrite) Add(ctx context.Context, r *kgo.Record) error {
	if dead, _ := k.Killed(); dead {
		return ErrKilled
	}
	return k.Sink.Add(ctx, r)
}

// Killed reports whether the kill happened and how many rows the killed
// flush had written.
func (k *KillAfterWrite) Killed() (bool, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.killed, k.rows
}

// Drain runs st until it has flushed and committed everything up to the
// topics' current end offsets, or fails the test after timeout.
func Drain(t testing.TB, r *pipeline.Runner, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	end, err := r.EndOffsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.DrainTo(end)
	if err := r.Run(ctx); err != nil {
		t.Fatalf("runner: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("runner did not drain within %v", timeout)
	}
}

// Proxy forwards TCP connections to a target until cut. While cut it
// refuses new connections (its port is closed) and it has closed the ones
// it carried, as a stopped server would. While stalled (StallAfter) it
// keeps its connections open but forwards nothing, as a server that stops
// answering would.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	// budget is how many more client bytes go to the target before the
	// stall, or -1 for no stall to come; resume is closed when a stall
	// ends (nil while none is pending or on).
	budget  int64
	stalled bool
	resume  chan struct{}

	accepted atomic.Int64 // connections accepted (Accepted)
}

// NewProxy starts a proxy to target on a free local port; it is closed when
// the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, budget: -1}
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

// Addr returns the proxy's address, stable across Cut and Restore.
func (p *Proxy) Addr() string { return p.addr }

// Accepted returns how many connections the proxy has accepted: the
// dials of its clients.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			go p.pipe(c)
		}
	}()
}

func (p *Proxy) pipe(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	// A small receive buffer, so that a stall soon stops the client's
	// writes instead of filling an autotuned window of many megabytes.
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(128 << 10)
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn, fromClient bool) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			for b := buf[:n]; len(b) > 0; {
				k := p.admit(len(b), fromClient)
				if _, werr := dst.Write(b[:k]); werr != nil {
					done <- struct{}{}
					return
				}
				b = b[k:]
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}
	go cp(u, c, true)
	go cp(c, u, false)
	<-done
	c.Close()
	u.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// admit returns how many of the next n bytes may be forwarded now,
// waiting while the proxy is stalled; fromClient says whether they go from
// the client to the target, which counts against the stall budget.
func (p *Proxy) admit(n int, fromClient bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for p.stalled {
			r := p.resume
			p.mu.Unlock()
			<-r
			p.mu.Lock()
		}
		if !fromClient || p.budget < 0 {
			return n
		}
		if p.budget > 0 {
			k := int(min(int64(n), p.budget))
			p.budget -= int64(k)
			return k
		}
		p.stalled = true // the budget is spent
	}
}

// StallAfter makes the proxy stop forwarding, in both directions, once n
// more bytes have gone from its clients to the target: connections stay
// open and nothing more is read from them, so a client's writes block when
// the socket buffers are full, as when a server hangs or the path to it
// drops every packet. Resume (or Cut) ends the stall.
func (p *Proxy) StallAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budget = n
	if p.resume == nil {
		p.resume = make(chan struct{})
	}
}

// Stalled reports whether the proxy has stopped forwarding.
func (p *Proxy) Stalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

// Resume ends a stall (or a pending one): the proxy forwards again what it
// holds and what the connections still carry.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budget, p.stalled = -1, false
	if p.resume != nil {
		close(p.resume)
		p.resume = nil
	}
}

// Cut closes the port and every connection the proxy carries.
func (p *Proxy) Cut() {
	p.Resume()
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Restore opens the port again after Cut.
func (p *Proxy) Restore(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("cannot reopen the proxy port: %v", err)
	}
	p.serve(ln)
}

// Log is a slog handler that keeps every record's level and message (and
// passes the record on to t.Log), so a test can count log lines.
type Log struct {
	mu    sync.Mutex
	lines []Line
	next  slog.Handler
}

// Line is one logged record.
type Line struct {
	Level slog.Level
	Msg   string
	Text  string // the whole line as the text handler wrote it
}

// NewLog returns a logger that records what it logs and writes it to t.
func NewLog(t testing.TB) (*slog.Logger, *Log) {
	l := &Log{next: slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})}
	return slog.New(&logHandler{l: l, next: l.next}), l
}

// Lines returns the records logged at level or above.
func (l *Log) Lines(level slog.Level) []Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Line
	for _, x := range l.lines {
		if x.Level >= level {
			out = append(out, x)
		}
	}
	return out
}

type logHandler struct {
	l     *Log
	next  slog.Handler
	attrs []slog.Attr
}

func (h *logHandler) Enabled(ctx context.Context, lv slog.Level) bool { return h.next.Enabled(ctx, lv) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s", a)
	}
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s", a); return true })
	h.l.mu.Lock()
	h.l.lines = append(h.l.lines, Line{Level: r.Level, Msg: r.Message, Text: r.Message + b.String()})
	h.l.mu.Unlock()
	return h.next.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{l: h.l, next: h.next.WithAttrs(as), attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{l: h.l, next: h.next.WithGroup(name), attrs: h.attrs}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
