package share

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
)

// Change is one step of the membership: the buckets owned after it, and
// those gained and lost by it.
type Change struct {
	Owned        Owned
	Gained, Lost []int32
	// Reason is "assigned", "revoked", "lost" (the session ended, e.g. the
	// broker was unreachable for longer than the session timeout) or
	// "left" (Close).
	Reason string
}

// Group is this process's membership in a collector group. Its methods are
// safe for concurrent use.
type Group struct {
	cl       *kgo.Client
	log      *slog.Logger
	name     string // the consumer group
	topic    string
	buckets  int32 // group.buckets: targets hash over this many buckets
	onChange func(Change)
	joined   atomic.Bool // an assignment came since drain last looked
	leaving  atomic.Bool // Close was called: what is revoked or lost is "left"
	// partitions is the control topic's partition count last reported
	// (buckets while it matches): a count is logged once.
	partitions atomic.Int32

	mu    sync.Mutex // serialises the callbacks and guards owned
	owned Owned
	done  chan struct{}
}

// Option configures a Group.
type Option func(*Group)

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(g *Group) { g.log = l } }

// Join creates the control topic if needed with cfg.Buckets partitions,
// checks its partition count and joins the consumer group
// cfg.Name+"."+kind; it returns once the client is connected, before the
// first assignment (which arrives through onChange) and before the join
// itself, whose failure is logged at ERROR. Targets hash over
// cfg.Buckets, never over the topic's count, so processes started before
// and after the topic grew agree: Join fails if the topic has fewer
// partitions (some buckets would have no owner), and logs one ERROR if it
// has more (those partitions hold no target); the count is checked again
// at every assignment (the group's leader rebalances when it sees new
// partitions, within the client's metadata max age).
//
// onChange is called serially, inside the rebalance: buckets
// lost are handed to another process only after it returns, so a caller
// that stops the lost targets in it never collects a target at the same
// time as another process. It must not call Close.
func Join(ctx context.Context, kc kafka.Config, cfg Config, kind string, onChange func(Change), opts ...Option) (*Group, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("group.%w", err)
	}
	g := &Group{log: slog.Default(), name: cfg.Name + "." + kind, topic: cfg.Topic, buckets: cfg.Buckets, onChange: onChange, done: make(chan struct{})}
	for _, o := range opts {
		o(g)
	}
	g.partitions.Store(cfg.Buckets)
	n, err := controlTopic(ctx, kc, cfg)
	if err != nil {
		return nil, err
	}
	if n < cfg.Buckets {
		return nil, fmt.Errorf("group: the control topic %s has %d partitions, fewer than group.buckets (%d): the targets of buckets %d to %d would be collected by nobody; "+
			"grow the topic (kafka-topics --alter --topic %s --partitions %d) or set group.buckets: %d in the config of every process of the group and restart them together",
			cfg.Topic, n, cfg.Buckets, n, cfg.Buckets-1, cfg.Topic, cfg.Buckets, n)
	}
	g.checked(n)
	g.owned = NewOwned(cfg.Buckets)
	kc.SessionTimeout = 0 // ours, below, not the stages'
	g.cl, err = kafka.Connect(ctx, kc,
		kgo.ConsumerGroup(g.name), kgo.ConsumeTopics(cfg.Topic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(cfg.SessionTimeout), kgo.HeartbeatInterval(cfg.SessionTimeout/5),
		// A process cut off from the coordinator must give its buckets up
		// before the coordinator hands them to another, a session timeout
		// after the last heartbeat it received. The client's defaults (a
		// failed heartbeat retried for a session timeout, a request that
		// hangs cut after 10 s) gave up seconds after that: both
		// processes collected the targets meanwhile. Now the last try
		// ends within 4/5 of the session after the last heartbeat
		// answered (the next goes a fifth later, tries for two fifths,
		// and one that hangs is cut after a fifth, at most the client's
		// default 10 s).
		kgo.RequestTimeoutOverhead(min(cfg.SessionTimeout/5, 10*time.Second)),
		// While it rejoins in a rebalance the process keeps its buckets
		// (cooperative) and sends no heartbeat. If its JoinGroup never
		// reaches the coordinator, or the answer is lost, the coordinator
		// drops it a session after its last heartbeat and gives its
		// buckets to the others, while it waits for the answer for the
		// rebalance timeout and the overhead: with the client's default
		// (60 s), and a join tried again for a session, it collected them
		// 55 s after the others had taken them. The rebalance timeout is
		// now the session, so it gives them up at most the overhead after
		// the others take them (TestCutOffWhileRejoiningGivesUpSoon). Not
		// shorter: the coordinator also drops a member that has not
		// rejoined within the rebalance timeout, such as one still
		// stopping the targets of buckets just revoked (their last
		// batches going to a slow Kafka), and gives its other buckets
		// away while it still collects them
		// (TestSlowRevokeDuringRebalance).
		kgo.RebalanceTimeout(cfg.SessionTimeout),
		kgo.RetryTimeoutFn(func(key int16) time.Duration {
			switch kmsg.Key(key) {
			case kmsg.Heartbeat, kmsg.SyncGroup:
				return cfg.SessionTimeout * 2 / 5
			case kmsg.JoinGroup:
				return cfg.SessionTimeout
			}
			return 30 * time.Second
		}),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
			go g.check(ctx, cl) // a rebalance follows a change of the partitions
			g.apply("assigned", m[g.topic], nil)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { g.apply("revoked", nil, m[g.topic]) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { g.apply("lost", nil, m[g.topic]) }),
	)
	if err != nil {
		return nil, err
	}
	g.log.Info("joining the collector group", "group", g.name, "topic", cfg.Topic, "buckets", cfg.Buckets, "partitions", n, "session_timeout", cfg.SessionTimeout)
	go g.drain()
	return g, nil
}

// controlTopic creates the control topic with cfg.Buckets partitions if it
// is missing and returns its partition count.
func controlTopic(ctx context.Context, kc kafka.Config, cfg Config) (int32, error) {
	kc.SessionTimeout = 0
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: cfg.Topic, Partitions: cfg.Buckets}); err != nil {
		return 0, err
	}
	// A topic just created (by us or a process starting beside us) may
	// not be in every broker's metadata yet.
	var n int32
	err = kafka.RetryFreshTopic(ctx, func() error {
		td, err := kadm.NewClient(cl).ListTopics(ctx, cfg.Topic)
		if err == nil {
			err = td.Error()
		}
		if err == nil && len(td[cfg.Topic].Partitions) == 0 {
			err = errors.New("the topic has no partitions")
		}
		n = int32(len(td[cfg.Topic].Partitions))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("group: cannot read the partitions of %s: %w", cfg.Topic, err)
	}
	return n, nil
}

// check reads the control topic's partition count through cl and reports
// it if it is not group.buckets (checked). A failed read is logged at
// debug: the next assignment checks again.
func (g *Group) check(ctx context.Context, cl *kgo.Client) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// A request of our own: kadm's would answer from the client's
	// metadata cache, which may predate the change.
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(g.topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil && len(resp.Topics) != 1 {
		err = fmt.Errorf("%d topics in the metadata response", len(resp.Topics))
	}
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		g.log.Debug("cannot read the partitions of the control topic", "topic", g.topic, "err", err)
		return
	}
	g.checked(int32(len(resp.Topics[0].Partitions)))
}

// checked reports, once per count, a control topic of n partitions that is
// not group.buckets. Targets hash over group.buckets whatever n is, so
// every process of the group keeps assigning each target to one bucket:
// partitions above it hold no target (their owners collect less), and
// buckets above n (a topic deleted and created smaller) have no owner.
func (g *Group) checked(n int32) {
	if g.partitions.Swap(n) == n || n == g.buckets {
		return
	}
	if n > g.buckets {
		g.log.Error("the control topic has more partitions than group.buckets: targets are assigned over the first buckets only, and a process owning the others collects fewer targets or none",
			"topic", g.topic, "partitions", n, "buckets", g.buckets,
			"hint", fmt.Sprintf("to use them, set group.buckets: %d in the config of every process of the group and restart them all together (processes with different group.buckets assign targets differently)", n))
		return
	}
	g.log.Error("the control topic has fewer partitions than group.buckets: the targets of the missing buckets are collected by nobody",
		"topic", g.topic, "partitions", n, "buckets", g.buckets,
		"hint", fmt.Sprintf("grow the topic: kafka-topics --alter --topic %s --partitions %d", g.topic, g.buckets))
}

// drain polls the control topic so that the client never buffers what
// someone might write there; the records are ignored. Errors slow the loop
// down and are reported (report).
func (g *Group) drain() {
	defer close(g.done)
	logged := map[string]bool{}
	for {
		f := g.cl.PollFetches(context.Background())
		if f.IsClientClosed() {
			return
		}
		if g.joined.Swap(false) {
			clear(logged)
		}
		errs := f.Errors()
		if len(errs) == 0 {
			continue
		}
		g.report(errs, logged)
		time.Sleep(time.Second)
	}
}

// report logs the errors of one poll. A failure to join the group (the
// client retries it) is logged at ERROR once per reason (logged) until the
// process is assigned again: the process collects nothing meanwhile. Other
// errors are logged at debug. Every error is looked at: a poll returns the
// topic's errors before the group's, and a group error behind one was
// never logged.
func (g *Group) report(errs []kgo.FetchError, logged map[string]bool) {
	for _, fe := range errs {
		var gs *kgo.ErrGroupSession
		switch {
		case !errors.As(fe.Err, &gs):
			g.log.Debug("control topic fetch failed", "topic", g.topic, "err", fe.Err)
		case !logged[gs.Error()]:
			logged[gs.Error()] = true
			g.log.Error("not in the collector group: this process collects none of its targets until it is assigned buckets again (retrying; logged once per reason)",
				"group", g.name, "err", gs.Err, "hint", joinHint(gs.Err, g.name, g.topic))
		}
	}
}

// joinHint says what to check when joining group on topic fails with err.
func joinHint(err error, group, topic string) string {
	switch {
	case errors.Is(err, kerr.InvalidSessionTimeout):
		return "set group.session_timeout within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms"
	case errors.Is(err, kerr.GroupAuthorizationFailed):
		return "grant this Kafka principal READ on the consumer group " + group
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return "grant this Kafka principal DESCRIBE and READ on the topic " + topic
	case errors.Is(err, kerr.CoordinatorNotAvailable), errors.Is(err, kerr.CoordinatorLoadInProgress), errors.Is(err, kerr.NotCoordinator):
		// Kafka answers, but no broker serves groups: while a broker
		// restarts for a moment, or for good when the __consumer_offsets
		// topic cannot be created or has no leader.
		return "Kafka answers but no broker coordinates the group; if this lasts, check the __consumer_offsets topic (it is not created while offsets.topic.replication.factor exceeds the brokers) and that its partitions have a leader"
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return "check kafka.sasl.username, the password its source holds and kafka.sasl.mechanism"
	}
	return "check that Kafka is reachable and this process may join the consumer group " + group
}

func (g *Group) apply(reason string, add, del []int32) {
	if reason == "assigned" {
		g.joined.Store(true)
	} else if g.leaving.Load() {
		reason = "left" // the client revokes everything as it leaves
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var gained, lost []int32
	for _, b := range add {
		if !g.owned.set[b] {
			gained = append(gained, b)
		}
	}
	for _, b := range del {
		if g.owned.set[b] {
			lost = append(lost, b)
		}
	}
	if len(gained) == 0 && len(lost) == 0 {
		return
	}
	g.owned = g.owned.with(gained, lost)
	if g.onChange != nil {
		g.onChange(Change{Owned: g.owned, Gained: gained, Lost: lost, Reason: reason})
	}
}

// Owned returns the buckets owned now.
func (g *Group) Owned() Owned {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.owned
}

// LeaveWait bounds how long Close waits to leave the group.
const LeaveWait = 5 * time.Second

// Close leaves the group, so the others take this process's buckets at
// once instead of after the session timeout, and reports the loss of every
// bucket to onChange ("left"). It waits for the client to close at most
// LeaveWait: a broker that is away holds the leave (the client retries it
// for 30 s), and the others then take the buckets after the session
// timeout.
func (g *Group) Close() {
	g.leaving.Store(true)
	closed := make(chan struct{})
	go func() { g.cl.Close(); <-g.done; close(closed) }()
	select {
	case <-closed:
	case <-time.After(LeaveWait):
		g.log.Warn("leaving the collector group did not finish in time; the others take this process's targets after the session timeout",
			"waited", LeaveWait.String())
	}
	g.mu.Lock()
	all := g.owned.Buckets()
	g.mu.Unlock()
	g.apply("left", nil, all)
}
