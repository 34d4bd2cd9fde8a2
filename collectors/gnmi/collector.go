package gnmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/telekernel/telekernel/collectors/internal/collector"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/schemas"
)

// Stats counts what the collector did, over all targets.
type Stats struct {
	Responses, Updates, Samples uint64
	Dropped                     map[string]uint64
	Connects, Failures          uint64 // attempts that delivered a first response / attempts that failed
}

// Collector subscribes to gNMI targets and publishes their samples. Create
// it with New, start it with Run, change its targets with SetTargets.
type Collector struct {
	cfg Config
	b   collector.Base[Metrics]

	mu      sync.Mutex
	targets map[string]*target
	ctx     context.Context // of Run, once started
	// pctx is for producing: it outlives ctx by a grace period, so
	// batches in flight at shutdown still reach Kafka, but a down broker
	// cannot hold the shutdown for ever.
	pctx context.Context
	wg   sync.WaitGroup

	connects, failures atomic.Uint64
	bp                 backpressure // the publishes' waits, for the stall timers
	// counts is what Stats reads; it never waits for c.mu, which
	// SetTargets holds while a removed target's streams produce their
	// last batches (blocking while Kafka is slow).
	counts struct {
		sync.Mutex
		ended DecoderStats         // of the streams of stopped targets
		live  map[*stream]struct{} // the other streams
	}
}

// Option configures a Collector.
type Option func(*Collector)

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *Collector) { c.b.Log = l } }

// WithMetrics counts into m (see NewMetrics); default none.
func WithMetrics(m *Metrics) Option { return func(c *Collector) { c.b.Metrics = m } }

// WithAllocator sets the Arrow allocator of the batches; default a
// arrowpool.Allocator.
func WithAllocator(mem memory.Allocator) Option { return func(c *Collector) { c.b.Mem = mem } }

// New validates cfg and returns a collector publishing through pub.
func New(cfg Config, pub *publish.Publisher, opts ...Option) (*Collector, error) {
	cfg, b, err := collector.New[Config, Metrics]("gnmi", cfg, pub)
	if err != nil {
		return nil, err
	}
	c := &Collector{cfg: cfg, b: b, targets: map[string]*target{}}
	for _, o := range opts {
		o(c)
	}
	c.b.Log = c.b.Log.With("component", "gnmi")
	return c, nil
}

// Run subscribes to every target and runs until ctx ends; then it stops the
// streams, produces what they collected and waits for Kafka to acknowledge
// it (bounded by 30 s). Each target runs on its own, so a failing target
// never holds up the others.
func (c *Collector) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.ctx != nil {
		c.mu.Unlock()
		return errors.New("gnmi: Run called twice")
	}
	c.ctx = ctx
	pctx, pcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pcancel()
	c.pctx = pctx
	c.mu.Unlock()
	// The grace period starts at the stop whatever the loop below is doing:
	// its flush may wait for a broker that is away.
	defer context.AfterFunc(ctx, func() { time.AfterFunc(ShutdownGrace, pcancel) })()
	if err := c.SetTargets(c.cfg.Targets); err != nil {
		return err
	}
	tick := time.NewTicker(max(c.cfg.FlushInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// The stop's losses count from here: the streams' last
			// batches, canceled after ShutdownGrace, are lost before
			// the wait below begins.
			mark := c.b.Pub.Mark()
			c.wg.Wait() // every stream produced its batch on the way out
			c.closeConns()
			return c.b.Pub.WaitSince(pctx, mark)
		case <-tick.C:
			c.flushOld(pctx)
		}
	}
}

// closeConns closes the gRPC connection of every target, whose streams
// have ended, so a Run that returned leaves no connection or goroutine of
// its own behind.
func (c *Collector) closeConns() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.targets {
		t.conn.Close()
	}
}

// ShutdownGrace bounds how long Run, once its context ended, waits for the
// last batches to reach Kafka.
const ShutdownGrace = 30 * time.Second

// SetTargets replaces the target list while the collector runs: new targets
// start, removed ones stop (their pending samples are produced), and those
// whose settings changed restart. Subscriptions are looked up in the
// collector's config. Before Run it sets the list Run starts; once Run's
// context has ended it only validates. A list that does not validate is
// an error, but the targets it leaves out stop all the same.
func (c *Collector) SetTargets(targets []Target) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := c.cfg
	cfg.Targets = targets
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		// The targets that go stop all the same (a revoked bucket's are
		// another process's once this returns); those that stay keep
		// their config. A target's password or TLS file caught mid-rotation
		// must not keep another target subscribed.
		c.setTargets(c.staying(targets))
		return fmt.Errorf("gnmi: %w", err)
	}
	c.setTargets(cfg.Targets)
	return nil
}

// staying returns the targets of the running config whose names are in
// targets.
func (c *Collector) staying(targets []Target) []Target {
	names := map[string]bool{}
	for _, t := range targets {
		names[t.Name] = true
	}
	var out []Target
	if c.ctx == nil {
		for _, t := range c.cfg.Targets {
			if names[t.Name] {
				out = append(out, t)
			}
		}
		return out
	}
	for name, t := range c.targets {
		if names[name] {
			out = append(out, t.cfg)
		}
	}
	return out
}

// setTargets makes targets, valid and defaulted, the ones collected; c.mu
// is held.
func (c *Collector) setTargets(targets []Target) {
	if c.ctx == nil {
		c.cfg.Targets = targets
		return
	}
	if c.ctx.Err() != nil {
		return // Run is returning: nothing new starts
	}
	want := map[string]Target{}
	for _, t := range targets {
		want[t.Name] = t
	}
	// Cancel every target that goes before waiting for any: a wait lasts
	// until the target's last batch is produced, which, with Kafka away,
	// would hold the next target's subscription open meanwhile (and
	// another process may collect it already).
	var gone []*target
	for name, t := range c.targets {
		if nt, ok := want[name]; !ok || !reflect.DeepEqual(nt, t.cfg) {
			t.cancel()
			gone = append(gone, t)
			delete(c.targets, name)
		}
	}
	for _, t := range gone {
		t.stop()
		if _, ok := want[t.cfg.Name]; !ok {
			c.b.Log.Info("target removed", "target", t.cfg.Name)
			c.forget(t.cfg.Name)
		}
	}
	for _, tc := range targets {
		if _, ok := c.targets[tc.Name]; ok {
			continue
		}
		t, err := c.startTarget(tc)
		if err != nil {
			c.b.Log.Error("cannot start target", "target", tc.Name, "err", err)
			continue
		}
		c.targets[tc.Name] = t
	}
}

// Unsubscribe ends the subscriptions of every target, for devices that are
// done sending (a simulated fleet at the end of its span), and waits until
// their streams produced what they collected or ctx ends. It publishes no
// target state: the devices were not lost, and their silence from now on
// is not a stall. The collector keeps running, so Run still waits for
// Kafka on its way out; SetTargets afterwards starts only targets that are
// new or changed.
func (c *Collector) Unsubscribe(ctx context.Context) error {
	c.mu.Lock()
	var targets []*target
	for _, t := range c.targets {
		t.cancel()
		targets = append(targets, t)
	}
	c.mu.Unlock()
	for _, t := range targets {
		done := make(chan struct{})
		go func() { t.done.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (c *Collector) forget(name string) {
	c.b.Pub.Forget(name)
	if c.b.Metrics != nil {
		c.b.Metrics.forget(name)
	}
}

// Stats returns the counters so far. It does not wait while Kafka is slow:
// a stream blocked publishing holds its lock, so Stats reads the copy of
// the counts each stream keeps (streamCounts), current as of the stream's
// last message or flush.
func (c *Collector) Stats() Stats {
	c.counts.Lock()
	total := c.counts.ended
	for s := range c.counts.live {
		addStats(&total, s.counts.get())
	}
	c.counts.Unlock()
	st := Stats{Responses: total.Responses, Updates: total.Updates, Samples: total.Samples, Dropped: map[string]uint64{},
		Connects: c.connects.Load(), Failures: c.failures.Load()}
	for i, r := range dropReasons {
		st.Dropped[r] = total.Dropped[i]
	}
	return st
}

func addStats(dst *DecoderStats, s DecoderStats) {
	dst.Responses += s.Responses
	dst.Updates += s.Updates
	dst.Samples += s.Samples
	dst.Deletes += s.Deletes
	dst.Syncs += s.Syncs
	dst.LLDPAged += s.LLDPAged
	dst.ClockSteps += s.ClockSteps
	for i := range dst.Dropped {
		dst.Dropped[i] += s.Dropped[i]
	}
}

// flushOld produces the batches whose oldest sample waited FlushInterval,
// publishes the UP of a target back from DOWN whose stream delivered
// FlushInterval ago and has had nothing to flush since (target.upAt), and
// brings every stream's metrics up to date.
func (c *Collector) flushOld(ctx context.Context) {
	c.mu.Lock()
	var streams []*stream
	for _, t := range c.targets {
		streams = append(streams, t.streams...)
	}
	c.mu.Unlock()
	now := time.Now()
	for _, s := range streams {
		if s.mu.TryLock() { // a stream busy decoding flushes itself
			if s.batch.Len() > 0 && now.Sub(s.since) >= c.cfg.FlushInterval {
				s.flushLocked(ctx)
			} else {
				// Not at once when the stream delivers: a device replayed
				// at full speed sends its next step within the interval,
				// and that batch stamps the UP on the device's own time
				// line (a batch under way does so when it is flushed).
				if s.batch.Len() == 0 && !s.deliveredAt.IsZero() && now.Sub(s.deliveredAt) >= c.cfg.FlushInterval {
					s.deliveredAt = time.Time{}
					s.t.upAt(0)
				}
				if s.m != nil {
					s.m.add(s.dec.Stats()) // counts stay current when nothing is published
				}
			}
			s.mu.Unlock()
		}
	}
}

// target is one device: a connection and a stream per subscription.
type target struct {
	c       *Collector
	cfg     Target
	conn    *grpc.ClientConn
	cancel  context.CancelFunc
	streams []*stream
	done    sync.WaitGroup
	upCount atomic.Int32 // streams delivering
	ts      targetState  // the reachability published (targetstate.go)
}

func (c *Collector) startTarget(tc Target) (*target, error) {
	creds := insecure.NewCredentials()
	live, err := tc.TLS.Live("gnmi.targets["+tc.Name+"].tls", c.b.Log.With("target", tc.Name))
	if err != nil {
		return nil, err
	}
	if live != nil {
		creds = liveTLS{TransportCredentials: credentials.NewTLS(live.Config()), live: live}
	}
	// The connection reconnects on the collector's backoff, not gRPC's (1 s
	// growing to 120 s): while gRPC waits, every Subscribe fails at once,
	// so a device back after a long outage waited up to two minutes, not
	// backoff.max.
	bo := backoff.DefaultConfig
	bo.BaseDelay, bo.MaxDelay = c.cfg.Backoff.Initial, c.cfg.Backoff.Max
	dopts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: tc.DialTimeout}),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(Codec{}), grpc.MaxCallRecvMsgSize(tc.MaxMessageBytes))}
	if tc.Username != "" {
		pw, err := tc.Password.Live("gnmi.targets["+tc.Name+"].password", c.b.Log.With("target", tc.Name))
		if err != nil {
			return nil, fmt.Errorf("password: %w", err)
		}
		dopts = append(dopts, grpc.WithPerRPCCredentials(userPass{user: tc.Username, pass: pw}))
	}
	conn, err := grpc.NewClient(tc.Address, dopts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(c.ctx)
	t := &target{c: c, cfg: tc, conn: conn, cancel: cancel}
	for _, s := range c.cfg.Subscriptions {
		if len(tc.Subscriptions) > 0 && !slices.Contains(tc.Subscriptions, s.Name) {
			continue
		}
		b := publish.NewBatch(c.b.Mem, tc.Name, schemas.SourceGNMI)
		st := &stream{t: t, sub: s, req: s.request(), batch: b,
			log: c.b.Log.With("target", tc.Name, "address", tc.Address, "subscription", s.Name)}
		if st.dec, err = NewDecoder(b, c.decoderConfig(tc, st)); err != nil {
			cancel()
			_ = conn.Close()
			return nil, err
		}
		if c.b.Metrics != nil {
			st.m = c.b.Metrics.forStream(tc.Name)
		}
		t.streams = append(t.streams, st)
	}
	c.counts.Lock()
	if c.counts.live == nil {
		c.counts.live = map[*stream]struct{}{}
	}
	for _, st := range t.streams {
		c.counts.live[st] = struct{}{}
	}
	c.counts.Unlock()
	for _, st := range t.streams {
		t.done.Add(1)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer t.done.Done()
			st.run(ctx)
		}()
	}
	return t, nil
}

// decoderConfig configures the decoder of st, a stream of target tc.
func (c *Collector) decoderConfig(tc Target, st *stream) DecoderConfig {
	dc := DecoderConfig{Dedup: tc.Dedup, DerivePower: tc.DerivePower,
		MaxPast: max(tc.MaxPast, 0), MaxFuture: max(tc.MaxFuture, 0), MaxCacheBytes: tc.MaxCacheBytes,
		// Produce while decoding, so a notification of any size goes out
		// in batches Kafka accepts; st.mu is held by decode.
		Full: func() { st.flushLocked(c.pctx) }, MaxRows: c.cfg.MaxRows, MaxBatchBytes: c.b.Pub.MaxBatchBytes() - batchSlack,
		ResendInterval: st.sub.resendInterval()}
	if tc.Timestamp == "receive" {
		dc.Timestamp = TimestampReceive
	}
	return dc
}

// batchSlack is what one more row may add to a batch after the decoder's
// size check (a row, its metric and keys), so the record stays under the
// publisher's limit; a larger row is split off by the publisher.
const batchSlack = 4 << 10

// maxIdleRecvBuffer is the receive buffer a stream keeps between messages;
// a larger one, left by a huge notification, is dropped after decoding.
const maxIdleRecvBuffer = 1 << 20

// stop ends the target's streams and waits until they produced their
// batches.
func (t *target) stop() {
	t.cancel()
	t.done.Wait()
	t.conn.Close()
	t.c.counts.Lock()
	for _, s := range t.streams {
		addStats(&t.c.counts.ended, s.dec.Stats())
		delete(t.c.counts.live, s)
	}
	t.c.counts.Unlock()
}

// liveTLS is gRPC's TLS credentials over files that are loaded again when
// they change (see tlsfiles.Live): each handshake, a reconnect after a
// disconnect or a refused handshake, uses the CA bundle and the client
// certificate the files hold then, so certificates that cert-manager
// renewed need no restart.
type liveTLS struct {
	credentials.TransportCredentials
	live *tlsfiles.Live
}

// ClientHandshake does the handshake with the config the files hold now.
func (l liveTLS) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return credentials.NewTLS(l.live.Config()).ClientHandshake(ctx, authority, conn)
}

// Clone returns a copy that follows the same files.
func (l liveTLS) Clone() credentials.TransportCredentials {
	return liveTLS{TransportCredentials: l.TransportCredentials.Clone(), live: l.live}
}

// userPass sends the username and password metadata of each RPC. The
// password file is read again at each RPC (a subscription attempt, after a
// disconnect or a refusal), so a password the operator rotated by
// rewriting the file is used without a restart.
type userPass struct {
	user string
	pass *secret.Live
}

func (u userPass) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	u.pass.Reload()
	return map[string]string{"username": u.user, "password": u.pass.Value().Reveal()}, nil
}

// RequireTransportSecurity is false: many lab devices run gNMI in the clear.
func (u userPass) RequireTransportSecurity() bool { return false }

// stream is one subscription to one target, with its reconnect loop.
type stream struct {
	t   *target
	sub Subscription
	req *pb.SubscribeRequest
	log *slog.Logger
	m   *streamMetrics

	mu    sync.Mutex // guards batch, dec and since (the flusher takes it)
	batch *publish.Batch
	dec   *Decoder
	since time.Time // when the batch's first row came
	// counts is a copy of dec's counts for Stats, which must not wait
	// for mu: mu is held across publishing, which blocks while Kafka is
	// slow or away.
	counts streamCounts
	// attemptFirst is the first device timestamp published since the
	// stream last (re)connected, 0 before (see target.upAt).
	attemptFirst int64
	// deliveredAt is when the attempt's first response came (zero before,
	// and once flushOld has looked for a pending UP with nothing to
	// stamp it).
	deliveredAt time.Time

	lastErr    string // reason of the last failure, to log each reason once
	clockSteps uint64 // the decoder's clock steps logged
	// dropsLogged counts, per drop reason, the decoder's drops that a
	// warning has covered, and dropWarned is when the last one went out.
	dropsLogged  [dropReasonCount]uint64
	dropWarned   [dropReasonCount]time.Time
	failures     int
	inRow        int // failed attempts since the stream last delivered
	msg          RawMessage
	up           bool        // delivering; see setUp
	warnedNoSync atomic.Bool // the missing sync_response was logged
}

// streamCounts is a copy of a stream's decoder counts that Stats reads
// without the stream's lock. Safe for concurrent use.
type streamCounts struct {
	mu sync.Mutex
	st DecoderStats
}

func (c *streamCounts) set(st DecoderStats) {
	c.mu.Lock()
	c.st = st
	c.mu.Unlock()
}

func (c *streamCounts) get() DecoderStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// run subscribes until ctx ends, reconnecting with backoff.
func (s *stream) run(ctx context.Context) {
	defer func() {
		s.mu.Lock()
		s.flushLocked(s.t.c.pctx) // what was collected, though ctx ended
		s.batch.Release()
		s.mu.Unlock()
	}()
	cfg := s.t.c.cfg.Backoff
	backoff := cfg.Initial
	for ctx.Err() == nil {
		delivered, err := s.once(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errOnceRepeat) {
			continue
		}
		if delivered {
			backoff = cfg.Initial
		}
		if !delivered && s.narrow(err) {
			continue
		}
		s.fail(err)
		// Wait d/2 plus a random part of d/2, so targets that failed
		// together do not reconnect together.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(2*backoff, cfg.Max)
	}
}

// narrow cuts the default subscription, when the target refused it, down
// to its base paths (interfaces and components), so a device without the
// LLDP, BGP or BFD models still streams its counters; once per stream (a
// target restarted by a config reload tries the full list again). It
// reports whether it did.
func (s *stream) narrow(err error) bool {
	if len(s.sub.fallback) == 0 {
		return false
	}
	switch status.Code(err) {
	case codes.NotFound, codes.InvalidArgument, codes.Unimplemented:
	default:
		return false
	}
	s.log.Warn("the target refused the default subscription; subscribing to its interfaces and components only",
		"dropped", s.sub.Paths[len(s.sub.fallback):], "reason", describe(err))
	s.sub.Paths, s.sub.fallback = slices.Clone(s.sub.fallback), nil
	s.req = s.sub.request()
	return true
}

// fail logs a failure: a new reason at warn level, a repeated one at debug.
// The collector's count goes up last, so whoever sees it finds the rest.
func (s *stream) fail(err error) {
	s.failures++
	s.inRow++
	defer s.t.c.failures.Add(1)
	reason := describe(err)
	s.setUp(false)
	// What the stream collected goes out before the target's DOWN (and
	// stamps it on the device's time line). The next attempt is a new
	// subscription, whose first cycle re-learns the LLDP neighbours.
	s.mu.Lock()
	if s.batch.Len() > 0 {
		s.flushLocked(s.t.c.pctx)
	}
	s.dec.Reconnected()
	s.mu.Unlock()
	s.t.unreachable(err, s.inRow)
	if s.m != nil {
		s.m.failures(reasonCode(err)).Inc()
	}
	if reason != s.lastErr {
		s.log.Warn("target failed; retrying with backoff", "reason", reason)
		s.lastErr = reason
		return
	}
	s.log.Debug("target failed again", "reason", reason, "failures", s.failures)
}

// Errors of a stream.
var (
	errStalled    = errors.New("stream stalled: nothing received within the stall timeout")
	errNoResponse = errors.New("no response within the dial timeout")
)

// once runs one subscription attempt and reports whether it delivered a
// response. A stream is healthy while it delivers, with or without a
// sync_response: the dial timeout bounds the wait for the first response,
// the stall timeout the silence after it.
func (s *stream) once(ctx context.Context) (delivered bool, err error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := s.t.cfg.stallTimeout(s.sub)
	watchdog := time.AfterFunc(s.t.cfg.DialTimeout, func() { cancel(errNoResponse) })
	defer watchdog.Stop()
	defer s.setUp(false)
	s.mu.Lock()
	s.attemptFirst, s.deliveredAt = 0, time.Time{}
	s.mu.Unlock()
	st, err := s.t.conn.NewStream(sctx, &pb.GNMI_ServiceDesc.Streams[0], pb.GNMI_Subscribe_FullMethodName)
	if err != nil {
		return false, cause(sctx, err)
	}
	if err := st.SendMsg(s.req); err != nil {
		if err == io.EOF {
			// The server ended the stream first (e.g. it refused the
			// credentials): its status comes with RecvMsg.
			err = st.RecvMsg(&s.msg)
		}
		return false, cause(sctx, err)
	}
	var synced atomic.Bool
	var stalls *stallWatch
	defer func() {
		if stalls != nil {
			stalls.stop()
		}
	}()
	for {
		if err := st.RecvMsg(&s.msg); err != nil {
			if err == io.EOF && s.sub.Mode == "once" && delivered {
				// ONCE ends after its snapshot: ask again after the interval.
				select {
				case <-ctx.Done():
				case <-time.After(s.sub.SampleInterval):
				}
				return true, errOnceRepeat
			}
			return delivered, cause(sctx, err)
		}
		// Decoding, and publishing while Kafka is slow or away (Publish
		// blocks then), does not count as the device's silence (stall.go).
		watchdog.Stop()
		if stalls != nil {
			stalls.handling()
		}
		res, derr := s.decode(s.t.c.pctx, time.Now())
		if stalls != nil {
			stalls.handled()
		}
		if derr != nil {
			return delivered, derr
		}
		if res.Sync {
			synced.Store(true)
		}
		if delivered {
			continue
		}
		delivered = true
		s.delivering()
		if stall > 0 {
			stalls = newStallWatch(stall, &s.t.c.bp, cancel)
		}
		if !synced.Load() {
			noSync := time.AfterFunc(s.t.cfg.DialTimeout, func() { s.warnNoSync(&synced) })
			defer noSync.Stop()
		}
		if s.sub.Mode == "poll" {
			pollEvery := time.NewTicker(s.sub.SampleInterval)
			defer pollEvery.Stop()
			go s.poll(sctx, st, pollEvery)
		}
	}
}

// warnNoSync warns, once per stream, that no sync_response came; the
// stream goes on.
func (s *stream) warnNoSync(synced *atomic.Bool) {
	if !synced.Load() && s.warnedNoSync.CompareAndSwap(false, true) {
		s.log.Warn("no sync_response within the dial timeout; the stream delivers, so it is kept (warned once)",
			"dial_timeout", s.t.cfg.DialTimeout)
	}
}

var errOnceRepeat = errors.New("once subscription done; repeating")

// poll sends a Poll request on every tick.
func (s *stream) poll(ctx context.Context, st grpc.ClientStream, t *time.Ticker) {
	req := &pb.SubscribeRequest{Request: &pb.SubscribeRequest_Poll{Poll: &pb.Poll{}}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if st.SendMsg(req) != nil {
				return
			}
		}
	}
}

// dropWarnEvery spaces the warnings about the values a stream drops for
// one reason: the first at once, then one with the count at most this
// often while they go on.
const dropWarnEvery = 5 * time.Minute

// dropWhy says, per drop reason, what was dropped and what to do about it.
var dropWhy = [dropReasonCount]string{
	dropBadValue:    "values that do not fit their series are dropped: text, a fraction or a negative number in a counter, a number that cannot be read",
	dropUnsupported: "values of a type the collector does not publish are dropped: leaf-lists, ANY, protobuf bytes, JSON lists without keys, and JSON list entries of scalars only whose keys are not known, as no path from the device named them (subscribe to the entries' paths, or with encoding proto)",
	dropBadPath:     "updates whose path cannot be read are dropped: invalid UTF-8 or a malformed key",
	dropMalformed:   "updates that are not valid gNMI are dropped",
	dropBadTime:     "device timestamps outside the accepted window around the receive time: their values are dropped; to keep them, widen max_past or max_future (negative: no bound) or set timestamp: receive",
}

// warnDrops logs, at WARN, that the stream dropped n values for reason r
// (not duplicates, which deduplication drops by design), with the latest
// example's metric where the decoder knew it; for timestamps, the device
// time and the window.
func (s *stream) warnDrops(r int, n uint64, recv time.Time) {
	attrs := []any{"reason", dropReasons[r], "dropped", n}
	if ex := s.dec.example[r]; ex != "" {
		attrs = append(attrs, "example", ex)
	}
	if r == dropBadTime {
		attrs = append(attrs, "device_time", time.Unix(0, s.dec.lastBadTS).UTC(), "received", recv.UTC(),
			"max_past", time.Duration(s.dec.past), "max_future", time.Duration(s.dec.future))
	}
	s.log.Warn(dropWhy[r], attrs...)
}

// decode decodes the message in s.msg and produces the batch when it is
// full or at a sync; it logs the device's clock steps and the values it
// dropped (warnDrops).
func (s *stream) decode(ctx context.Context, recv time.Time) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.batch.Len()
	res, err := s.dec.Decode(s.msg.B, recv.UnixNano())
	s.counts.set(s.dec.Stats())
	if before == 0 && s.batch.Len() > 0 {
		s.since = recv
	}
	if n := s.dec.stats.ClockSteps; n != s.clockSteps {
		s.clockSteps = n
		s.log.Warn("the device's clock stepped back: deduplication starts over on its new time line, nothing is dropped",
			"step", time.Duration(s.dec.lastStep))
	}
	for r, n := range s.dec.stats.Dropped {
		if r != dropDup && n != s.dropsLogged[r] && (s.dropWarned[r].IsZero() || recv.Sub(s.dropWarned[r]) >= dropWarnEvery) {
			s.warnDrops(r, n-s.dropsLogged[r], recv)
			s.dropsLogged[r], s.dropWarned[r] = n, recv
		}
	}
	if cap(s.msg.B) > maxIdleRecvBuffer {
		s.msg.B = nil // a huge message's buffer is not kept for the next
	}
	if err != nil {
		return res, fmt.Errorf("malformed response: %w", err)
	}
	if s.batch.Len() >= s.t.c.cfg.MaxRows || (res.Sync && s.batch.Len() > 0) {
		s.flushLocked(ctx)
	}
	return res, nil
}

// flushLocked produces the batch; s.mu is held.
func (s *stream) flushLocked(ctx context.Context) {
	s.counts.set(s.dec.Stats()) // before the publish, which may block
	if s.m != nil {
		s.m.add(s.dec.Stats())
	}
	rec := s.batch.NewRecord()
	if rec == nil {
		s.t.flushed(nil)
		return
	}
	defer rec.Release()
	if err := s.t.c.publish(ctx, s.t.cfg.Name, rec); err != nil && ctx.Err() == nil {
		s.log.Error("cannot publish", "err", err)
	}
	if first := s.t.flushed(rec); s.attemptFirst == 0 {
		s.attemptFirst = first
	}
}

// cause prefers the reason a stream context was cancelled with.
func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	return err
}

// describe turns a stream error into one line for the log.
func describe(err error) string {
	if st, ok := status.FromError(err); ok {
		return st.Code().String() + ": " + st.Message()
	}
	return err.Error()
}

// reasonCode is the label of a failure in the metrics.
func reasonCode(err error) string {
	switch {
	case errors.Is(err, errStalled):
		return "stalled"
	case errors.Is(err, errNoResponse):
		return "no_response"
	case errors.Is(err, errOnceRepeat):
		return "once_done"
	}
	if st, ok := status.FromError(err); ok {
		return st.Code().String()
	}
	return "malformed"
}
