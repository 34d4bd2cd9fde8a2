package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/telekernel/telekernel/internal/hostport"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// Default topic names.
const (
	DefaultSamplesTopic      = "tk.samples"
	DefaultDetectionsTopic   = "tk.detections"
	DefaultAlertsTopic       = "tk.alerts"
	DefaultDeadLetterTopic   = "tk.deadletters"
	DefaultPartitions        = 6
	DefaultConnectTimeout    = 10 * time.Second
	defaultReplicationFactor = -1               // the broker's default
	defaultDialTimeout       = 10 * time.Second // franz-go's kgo.DialTimeout default
)

// DefaultInventoryTopic is the compacted inventory topic, one record per
// device (see stages/inventory).
const DefaultInventoryTopic = "tk.inventory"

// Config configures the connection to Kafka.
type Config struct {
	// Brokers is the bootstrap list, host:port each. Empty in the embedded
	// default, which starts an in-process broker.
	Brokers  []string        `yaml:"brokers"`
	ClientID string          `yaml:"client_id"` // default "telekernel"
	TLS      tlsfiles.Config `yaml:"tls"`
	SASL     SASLConfig      `yaml:"sasl"`
	// ConnectTimeout bounds the first contact with the cluster; default
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// SessionTimeout is how long the group waits for a silent member (a
	// crashed process) before moving its partitions; default 45s, Kafka's
	// default. Lower means faster failover and more rebalances on hiccups.
	SessionTimeout time.Duration `yaml:"session_timeout"`

	log      *slog.Logger    // see WithLogger
	password *sharedPassword // see WithLogger
}

// sharedPassword is the SASL password that the clients of one WithLogger
// config read, loaded by the first.
type sharedPassword struct {
	once sync.Once
	src  secret.Source
	live *secret.Live
	err  error

	clients atomic.Int32 // clients built, to number them in the log
	mu      sync.Mutex
	refused map[*authWatch]bool // clients whose last login the broker refused
	// failures counts the logins the broker refused, every client's.
	failures atomic.Uint64
}

// WithLogger returns c with the logger of its connections' secret reloads
// (a password file that cannot be read, or that changed); default
// slog.Default(). The clients built from the result and its copies share
// one reading of the password file, so a file that cannot be read is
// logged once per process, not once per client.
func (c Config) WithLogger(l *slog.Logger) Config {
	c.log = l
	c.password = &sharedPassword{src: c.SASL.Password}
	return c
}

// livePassword returns the SASL password, shared with the other clients
// of c's WithLogger when its source is still the one given there.
func (c Config) livePassword(log *slog.Logger) (*secret.Live, error) {
	const field = "kafka.sasl.password"
	sp := c.password
	if sp == nil || sp.src != c.SASL.Password {
		return c.SASL.Password.Live(field, log)
	}
	sp.once.Do(func() { sp.live, sp.err = sp.src.Live(field, log) })
	return sp.live, sp.err
}

// AuthError returns an error while the broker refuses the SASL login of a
// client built from c's WithLogger config (or a copy), nil otherwise and
// without WithLogger: what a process's /readyz reports, as a client whose
// login is refused cannot produce or consume.
func (c Config) AuthError() error {
	sp := c.password
	if sp == nil {
		return nil
	}
	sp.mu.Lock()
	n := len(sp.refused)
	sp.mu.Unlock()
	if n == 0 {
		return nil
	}
	return fmt.Errorf("kafka: the broker refuses the SASL login of %s (%d clients)", c.SASL.Username, n)
}

// AuthFailures returns how many SASL logins the broker refused to the
// clients built from c's WithLogger config (or a copy) since it was made,
// each retry of a refused connection counting; 0 without WithLogger. It is
// what a process serves as telekernel_kafka_auth_failures_total. Safe for
// concurrent use.
func (c Config) AuthFailures() uint64 {
	if c.password == nil {
		return 0
	}
	return c.password.failures.Load()
}

// authLogEvery is how often a client whose logins the broker keeps
// refusing says so again.
const authLogEvery = time.Minute

// authWatch tells the operator that the broker refuses a client's SASL
// login: franz-go retries such a connection without a word, so a produce
// would stall silently. It logs one ERROR line naming the mechanism, the
// user and where the password comes from (never the value), again at most
// once every authLogEvery while the logins are refused, and one line when a
// login succeeds again; it keeps the shared state AuthError reads.
type authWatch struct {
	log    *slog.Logger
	shared *sharedPassword // nil without WithLogger
	client int32           // number of the client within the config, 0 without WithLogger
	mech   string
	user   string
	source string // env:VAR or file:PATH
	hint   string

	// grace is how long a client that never logged in is refused before
	// the watch says so: Connect's first contact fails within it with one
	// line of its own (the connect timeout).
	grace time.Duration

	mu      sync.Mutex
	refused bool
	logged  time.Time // last ERROR line
	in      bool      // a login succeeded once
	first   time.Time // first refusal before any login succeeded
}

var (
	_ kgo.HookBrokerConnect = (*authWatch)(nil)
	_ kgo.HookClientClosed  = (*authWatch)(nil)
)

// OnClientClosed forgets the refusal of a client closed: it produces and
// consumes nothing any more, so AuthError (/readyz) no longer counts it.
func (w *authWatch) OnClientClosed(*kgo.Client) {
	w.mu.Lock()
	was := w.refused
	w.refused = false
	w.mu.Unlock()
	if w.shared != nil && was {
		w.shared.mu.Lock()
		delete(w.shared.refused, w)
		w.shared.mu.Unlock()
	}
}

// newAuthWatch returns the watch of one client of c.
func (c Config) newAuthWatch(log *slog.Logger, mech string) *authWatch {
	w := &authWatch{log: log, shared: c.password, mech: mech, user: c.SASL.Username, grace: c.ConnectTimeout}
	if w.grace == 0 {
		w.grace = DefaultConnectTimeout
	}
	if w.shared != nil {
		w.client = w.shared.clients.Add(1)
	}
	if f := c.SASL.Password.File; f != "" {
		w.source = "file:" + f
		w.hint = "the broker no longer takes the password this file holds: rewrite the file with the user's new password (it is read again at every login) or set the old one back on the broker"
	} else {
		w.source = "env:" + c.SASL.Password.Env
		w.hint = "the broker no longer takes the password of this environment variable, which is fixed at start: set the old password back on the broker, or restart with the new one (a {file: PATH} password is read again at every login)"
	}
	return w
}

// OnBrokerConnect sees each connection attempt's outcome, its SASL login
// included.
func (w *authWatch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	refused := errors.Is(err, kerr.SaslAuthenticationFailed)
	if !refused && err != nil {
		return // not a login: the broker is unreachable, say
	}
	if refused && w.shared != nil {
		w.shared.failures.Add(1)
	}
	now := time.Now()
	w.mu.Lock()
	was := w.refused
	w.refused = refused
	logIt := refused && (w.logged.IsZero() || now.Sub(w.logged) >= authLogEvery)
	if refused && !w.in {
		// Never logged in: within the grace, Connect's error (or the
		// next login) says it.
		if w.first.IsZero() {
			w.first = now
		}
		logIt = logIt && now.Sub(w.first) >= w.grace
	}
	if logIt {
		w.logged = now
	}
	if !refused {
		w.logged, w.in = time.Time{}, true
	}
	w.mu.Unlock()
	if w.shared != nil && was != refused {
		w.shared.mu.Lock()
		if refused {
			if w.shared.refused == nil {
				w.shared.refused = map[*authWatch]bool{}
			}
			w.shared.refused[w] = true
		} else {
			delete(w.shared.refused, w)
		}
		w.shared.mu.Unlock()
	}
	switch {
	case logIt:
		w.log.Error("kafka: the broker refuses the SASL login; this client produces and consumes nothing until a login succeeds",
			"client", w.client, "broker", net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port))), "mechanism", w.mech, "user", w.user,
			"password_source", w.source, "hint", w.hint, "repeat_every", authLogEvery)
	case was && !refused:
		w.log.Info("kafka: the broker takes the SASL login again", "client", w.client, "mechanism", w.mech, "user", w.user, "password_source", w.source)
	}
}

// SASLConfig configures SASL authentication.
type SASLConfig struct {
	Mechanism string        `yaml:"mechanism"` // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty for none
	Username  string        `yaml:"username"`
	Password  secret.Source `yaml:"password"`
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	for i, b := range c.Brokers {
		if err := hostport.Check(b, "sasl"); err != nil {
			return fmt.Errorf("brokers[%d]: %w", i, err)
		}
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.Username == "" {
			return errors.New("sasl.username: required with a mechanism")
		}
	default:
		return fmt.Errorf("sasl.mechanism: %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASL.Mechanism)
	}
	if c.ConnectTimeout < 0 {
		return errors.New("connect_timeout: must not be negative")
	}
	if c.SessionTimeout != 0 && (c.SessionTimeout < 6*time.Second || c.SessionTimeout > 30*time.Minute) {
		return fmt.Errorf("session_timeout: %v is outside the broker's usual bounds (6s to 30m)", c.SessionTimeout)
	}
	return nil
}

// logger is the logger WithLogger gave, else slog.Default().
func (c Config) logger() *slog.Logger {
	if c.log == nil {
		return slog.Default()
	}
	return c.log
}

// ValidateFiles loads the TLS files and the SASL password as a connection
// does and reports the first problem as "field: problem" (tls.ca_file,
// sasl.password, ...), so a config check fails where a start would.
func (c Config) ValidateFiles() error {
	if err := c.TLS.Validate(); err != nil {
		return fmt.Errorf("tls.%w", err)
	}
	if c.SASL.Mechanism == "" {
		return nil
	}
	if c.SASL.Password.IsZero() {
		return errors.New("sasl.password: required with a mechanism (file or env)")
	}
	if _, err := c.SASL.Password.Load(); err != nil {
		return fmt.Errorf("sasl.password: %w", err)
	}
	return nil
}

// PlaintextPassword reports whether c sends its SASL password as it is
// (PLAIN) over a connection without TLS, where anyone on the path can read
// it. SCRAM never sends the password.
func (c Config) PlaintextPassword() bool {
	return strings.EqualFold(c.SASL.Mechanism, "PLAIN") && !c.TLS.Enabled && !c.TLS.Enable
}

// Opts returns the franz-go options for the connection. The SASL password is
// read now (an error if it cannot be) and, when it comes from a file, again
// at every connection's authentication, so a password the operator rotated
// by rewriting the file is used without a restart; a file that cannot be
// read then keeps the value read before, with one warning. A password from
// the environment is fixed.
func (c Config) Opts() ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	id := c.ClientID
	if id == "" {
		id = "telekernel"
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(id)}
	if c.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(c.SessionTimeout), kgo.HeartbeatInterval(c.SessionTimeout/10))
	}
	live, err := c.TLS.Live("kafka.tls", c.logger())
	if err != nil {
		return nil, fmt.Errorf("kafka.tls.%w", err)
	}
	if live != nil {
		// Each connection reads the TLS files again when they changed
		// (cert-manager rewrites them before expiry); the dialer is
		// franz-go's default one with its default dial timeout.
		opts = append(opts, kgo.Dialer(live.DialContext(&net.Dialer{Timeout: defaultDialTimeout})))
	}
	if m := strings.ToUpper(c.SASL.Mechanism); m != "" {
		log := c.logger()
		pw, err := c.livePassword(log)
		if err != nil {
			return nil, fmt.Errorf("kafka: sasl.password: %w", err)
		}
		opts = append(opts, kgo.WithHooks(c.newAuthWatch(log, m)))
		user := c.SASL.Username
		// The mechanisms' callbacks run at every connection's
		// authentication: a password file the operator rewrote is read
		// again there, so a rotated password needs no restart.
		pass := func() string {
			pw.Reload()
			return pw.Value().Reveal()
		}
		switch m {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Plain(func(context.Context) (plain.Auth, error) {
				return plain.Auth{User: user, Pass: pass()}, nil
			})))
		case "SCRAM-SHA-256", "SCRAM-SHA-512":
			auth := func(context.Context) (scram.Auth, error) { return scram.Auth{User: user, Pass: pass()}, nil }
			if m == "SCRAM-SHA-256" {
				opts = append(opts, kgo.SASL(scram.Sha256(auth)))
			} else {
				opts = append(opts, kgo.SASL(scram.Sha512(auth)))
			}
		}
	}
	return opts, nil
}

// Connect creates a client and checks within the connect timeout that a
// broker answers, so a wrong address fails at start with one actionable line
// instead of retrying silently forever.
func Connect(ctx context.Context, c Config, extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := c.Opts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", strings.Join(c.Brokers, ","), err)
	}
	timeout := c.ConnectTimeout
	if timeout == 0 {
		timeout = DefaultConnectTimeout
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := ping(pctx, cl); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(pctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no broker answered within %v", timeout)
		}
		return nil, fmt.Errorf("kafka %s: cannot connect: %w (%s)", strings.Join(c.Brokers, ","), err, connectHint(err))
	}
	return cl, nil
}

// ping pings cl's brokers until ctx is done, and closes cl unless the
// ping succeeded in time. franz-go's ping of a broker that accepts the
// connection and never answers goes on to its own dial timeout (10 s)
// whatever ctx says, so a stop would wait that long: ping returns when
// ctx is done and closes cl behind it at once (a client of a consumer
// group must not join it meanwhile).
func ping(ctx context.Context, cl *kgo.Client) error {
	done := make(chan error, 1)
	go func() { done <- cl.Ping(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			cl.Close()
		}
		return err
	case <-ctx.Done():
		go cl.Close()
		return ctx.Err()
	}
}

// connectHint says what to check after a failed first contact.
func connectHint(err error) string {
	switch {
	case errors.Is(err, kerr.IllegalSaslState):
		return "this listener does not take SASL: point kafka.brokers at the broker's SASL_SSL or SASL_PLAINTEXT port, or remove kafka.sasl"
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return "check kafka.sasl.username, the password its source holds and kafka.sasl.mechanism"
	}
	return "is Kafka running there, and are TLS/SASL settings right?"
}

// CheckTopicName reports why name is not a legal Kafka topic name (1 to
// 249 of a-z A-Z 0-9 . _ -, not "." or ".."), or nil.
func CheckTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return fmt.Errorf("%q is not a Kafka topic name (1 to 249 characters, not . or ..)", name)
	}
	for _, r := range name {
		if !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("%q has %q: a Kafka topic name takes only a-z, A-Z, 0-9, '.', '_' and '-'", name, r)
		}
	}
	return nil
}

// TopicSpec describes a topic the process needs.
type TopicSpec struct {
	Name       string
	Partitions int32
	Compacted  bool
}

// topicReadyTimeout bounds how long EnsureTopics waits for a topic it
// created to have a leader on every partition.
const topicReadyTimeout = 30 * time.Second

// EnsureTopics creates the topics that do not exist yet and waits until
// every partition of a topic it created has a leader, so a produce right
// after it does not meet UNKNOWN_TOPIC_OR_PARTITION on a broker that is
// still spreading the new topic's metadata. Existing topics are left as
// they are, also when the principal may not create topics (the broker
// refuses the creation of an existing topic too): a topic that is missing
// then is an error saying how to create it. An existing topic of a
// Compacted spec whose cleanup.policy is not compact is an error too
// (checkCompacted).
func EnsureTopics(ctx context.Context, cl *kgo.Client, topics ...TopicSpec) error {
	adm := kadm.NewClient(cl)
	var created, existing []string
	for _, t := range topics {
		cfg := map[string]*string{}
		if t.Compacted {
			v := "compact"
			cfg["cleanup.policy"] = &v
		}
		resp, err := adm.CreateTopic(ctx, t.Partitions, defaultReplicationFactor, cfg, t.Name)
		if err == nil {
			err = resp.Err
		}
		if isDenied(err) {
			// A principal without CREATE gets this for a topic that
			// exists too: use the topic if it is there.
			if exists, lerr := topicExists(ctx, adm, t.Name); lerr != nil || !exists {
				how := fmt.Sprintf("%d partitions", t.Partitions)
				if t.Compacted {
					how += " and cleanup.policy=compact"
				}
				return fmt.Errorf("kafka: cannot create topic %s: %w (this principal may not create topics: create it with %s, or grant CREATE on it)", t.Name, err, how)
			}
			if t.Compacted {
				existing = append(existing, t.Name)
			}
			continue
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("kafka: cannot create topic %s: %w", t.Name, err)
		}
		if err == nil {
			created = append(created, t.Name)
		} else if t.Compacted {
			existing = append(existing, t.Name)
		}
	}
	if err := checkCompacted(ctx, adm, existing); err != nil {
		return err
	}
	return waitTopicsReady(ctx, adm, created)
}

// checkCompacted refuses a topic of names, which hold state (a changelog,
// a compacted topic keyed by series or id) and existed already, whose
// cleanup.policy is not compact: retention would delete its oldest
// records, the state of what changed least, and a restore would go on
// without it. A principal that may not read topic configs is not
// checked.
func checkCompacted(ctx context.Context, adm *kadm.Client, names []string) error {
	if len(names) == 0 {
		return nil
	}
	// A topic another process of the group created a moment ago may not
	// be known yet to the broker that answers: ask again for a while.
	deadline := time.Now().Add(topicReadyTimeout)
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	for unknownTopic(rcs, err) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		rcs, err = adm.DescribeTopicConfigs(ctx, names...)
	}
	if isDenied(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kafka: cannot read the configs of topics %s: %w", strings.Join(names, ", "), err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			if isDenied(rc.Err) {
				continue
			}
			return fmt.Errorf("kafka: cannot read the config of topic %s: %w", rc.Name, rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && !strings.Contains(c.MaybeValue(), "compact") {
				return fmt.Errorf("kafka: topic %s holds state, but its cleanup.policy is %q: retention would delete the state of what changed least, and a restore would go on without it; set cleanup.policy=compact on it (kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config cleanup.policy=compact)",
					rc.Name, c.MaybeValue(), rc.Name)
			}
		}
	}
	return nil
}

// unknownTopic reports whether the answer to a DescribeTopicConfigs names
// a topic the broker does not know (yet).
func unknownTopic(rcs kadm.ResourceConfigs, err error) bool {
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return true
	}
	for _, rc := range rcs {
		if errors.Is(rc.Err, kerr.UnknownTopicOrPartition) {
			return true
		}
	}
	return false
}

// isDenied reports whether err is the broker refusing an operation for
// want of a permission (an ACL).
func isDenied(err error) bool {
	return errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed)
}

// topicExists reports whether the brokers' metadata has topic name.
func topicExists(ctx context.Context, adm *kadm.Client, name string) (bool, error) {
	details, err := adm.ListTopics(ctx, name)
	if err != nil {
		return false, err
	}
	d, ok := details[name]
	return ok && d.Err == nil, nil
}

// waitTopicsReady polls the brokers' metadata until every partition of
// the named topics has a leader, the context ends or topicReadyTimeout
// passes.
func waitTopicsReady(ctx context.Context, adm *kadm.Client, names []string) error {
	if len(names) == 0 {
		return nil
	}
	deadline := time.Now().Add(topicReadyTimeout)
	for {
		pending := notReady(ctx, adm, names)
		if pending == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka: topic %s was created but has no leader after %v: check the brokers' logs", pending, topicReadyTimeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka: waiting for topic %s to get a leader: %w", pending, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// notReady returns the first of names whose metadata is missing or has a
// partition without a leader, or "" when all are ready.
func notReady(ctx context.Context, adm *kadm.Client, names []string) string {
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return names[0]
	}
	for _, n := range names {
		d, ok := details[n]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return n
		}
		for _, p := range d.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return n
			}
		}
	}
	return ""
}
