package gnmi

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/internal/hostport"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/schemas"
)

// Defaults of Config.
const (
	DefaultFlushInterval  = time.Second
	DefaultMaxRows        = 4096
	DefaultBackoffInitial = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultSampleInterval = 10 * time.Second
	DefaultDialTimeout    = 10 * time.Second
	// DefaultStallTimeout is how long a stream may be silent before it is
	// restarted when no sample or heartbeat interval tells better.
	DefaultStallTimeout = 2 * time.Minute
	// DefaultMaxPast and DefaultMaxFuture bound a device timestamp around
	// the receive time: samples outside are dropped as bad_timestamp. A
	// clock that was never set reads 1970, or its vendor's epoch (1993,
	// 2000), more than 20 years back; a capture of real telemetry
	// replayed with its own timestamps is younger (before 2026-12-05 the
	// bound was one year, which dropped every such replay).
	DefaultMaxPast   = 20 * 365 * 24 * time.Hour
	DefaultMaxFuture = 24 * time.Hour
	// DefaultMaxMessageBytes bounds one SubscribeResponse.
	DefaultMaxMessageBytes = 64 << 20
)

// minCacheBytes is the smallest MaxCacheBytes and MaxMessageBytes accepted.
const minCacheBytes = 1 << 20

// Config configures the gNMI collector.
type Config struct {
	// Targets are the devices to subscribe to.
	Targets []Target `yaml:"targets"`
	// Defaults fill the fields a target leaves unset.
	Defaults Target `yaml:"defaults"`
	// Subscriptions are named subscriptions; a target takes those it names,
	// or all of them when it names none.
	Subscriptions []Subscription `yaml:"subscriptions"`
	// FlushInterval is the longest a sample waits in a batch before it is
	// produced; default DefaultFlushInterval.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// MaxRows produces a target's batch once it holds this many samples;
	// default DefaultMaxRows.
	MaxRows int `yaml:"max_rows"`
	// Backoff between reconnects of a target: exponential from Initial to
	// Max, with jitter (each wait is drawn from [d/2, d]).
	Backoff Backoff `yaml:"backoff"`
	// TargetState publishes each target's reachability as it changes
	// (schemas.MetricTargetState and MetricTargetReason, targetstate.go),
	// so that the detect stage sees a device the collector lost. Default
	// true; false publishes none.
	TargetState *bool `yaml:"target_state"`
}

// Backoff configures reconnect waits.
type Backoff struct {
	Initial time.Duration `yaml:"initial"` // default DefaultBackoffInitial
	Max     time.Duration `yaml:"max"`     // default DefaultBackoffMax
}

// Target is one device.
type Target struct {
	// Name is the device name samples carry; required and unique.
	Name string `yaml:"name"`
	// Address is host:port of the device's gNMI server.
	Address string `yaml:"address"`
	// Subscriptions names the subscriptions this target takes; default all.
	Subscriptions []string `yaml:"subscriptions"`
	// TLS for the connection; off by default (plaintext). Its files are
	// loaded again at a handshake when they changed (see tlsfiles.Live).
	TLS tlsfiles.Config `yaml:"tls"`
	// Username and Password go in the "username"/"password" metadata of
	// each RPC when Username is set. The password comes from a file (read
	// again at every subscription attempt) or the environment (fixed at
	// start) and is never logged.
	Username string        `yaml:"username"`
	Password secret.Source `yaml:"password"`
	// Timestamp is "device" (default: the notification's time, normalised
	// to ns) or "receive" (the collector's receive time).
	Timestamp string `yaml:"timestamp"`
	// Dedup drops samples whose timestamp is not newer than the series'
	// last one (resent snapshots after a reconnect, devices that stamp
	// unchanged values with their last-change time); default true. A
	// device clock seen stepping back restarts it on the new time line
	// rather than dropping (dedup.go).
	Dedup *bool `yaml:"dedup"`
	// DerivePower adds the PSU input power (voltage × current); default
	// true.
	DerivePower *bool `yaml:"derive_power"`
	// StallTimeout restarts a stream silent this long; default three sample
	// or heartbeat intervals of its subscription (at least 10s), or
	// DefaultStallTimeout; negative disables it.
	StallTimeout time.Duration `yaml:"stall_timeout"`
	// DialTimeout bounds connecting: from the Subscribe call to the first
	// response; default DefaultDialTimeout. A stream that delivers is
	// healthy whether or not a sync_response comes (one warning when none
	// came within DialTimeout of the first response).
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// MaxPast and MaxFuture bound the device timestamps accepted, around
	// the receive time: samples stamped earlier than MaxPast ago or later
	// than MaxFuture ahead are dropped and counted as bad_timestamp;
	// defaults DefaultMaxPast (20 years) and DefaultMaxFuture (1 day);
	// negative disables that bound (e.g. to replay an old capture).
	MaxPast   time.Duration `yaml:"max_past"`
	MaxFuture time.Duration `yaml:"max_future"`
	// MaxCacheBytes bounds the estimated memory of each subscription's
	// series caches (metric and keys of each path seen, for decoding and
	// deduplication); past it they start over. Default
	// DefaultMaxCacheBytes (64 MiB).
	MaxCacheBytes int `yaml:"max_cache_bytes"`
	// MaxMessageBytes is the largest SubscribeResponse accepted from the
	// target; a larger one fails the stream with ResourceExhausted (logged
	// with the sizes). Default DefaultMaxMessageBytes (64 MiB).
	MaxMessageBytes int `yaml:"max_message_bytes"`
}

// Subscription is one SubscriptionList sent to each target that takes it.
type Subscription struct {
	Name string `yaml:"name"`
	// Prefix is common to the paths, e.g. "/interfaces".
	Prefix string `yaml:"prefix"`
	// Paths in the usual string form, e.g.
	// "/interfaces/interface[name=*]/state/counters".
	Paths []string `yaml:"paths"`
	// Mode is stream (default), once or poll.
	Mode string `yaml:"mode"`
	// StreamMode is sample (default), on_change or target_defined.
	StreamMode string `yaml:"stream_mode"`
	// SampleInterval of SAMPLE subscriptions; default
	// DefaultSampleInterval. For once and poll, the interval between
	// requests.
	SampleInterval time.Duration `yaml:"sample_interval"`
	// HeartbeatInterval asks ON_CHANGE (and suppress_redundant SAMPLE)
	// subscriptions to resend unchanged values this often; 0 none.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	SuppressRedundant bool          `yaml:"suppress_redundant"`
	// UpdatesOnly skips the initial snapshot.
	UpdatesOnly bool `yaml:"updates_only"`
	// Encoding is proto (default), json_ietf or json.
	Encoding string `yaml:"encoding"`

	// fallback are the paths the default subscription falls back to when
	// a target refuses it (basePaths); nil for any other.
	fallback []string
}

// basePaths are the default subscription's paths every OpenConfig device
// serves; the others (LLDP, BGP, BFD) are dropped for a target that
// refuses them.
var basePaths = [...]string{"/interfaces/interface/state", "/components/component"}

// DefaultPaths returns the paths of the subscription a config without any
// gets (named "default", STREAM SAMPLE every DefaultSampleInterval): every
// interface counter and state, every component, the LLDP neighbours (their
// system-name and port-id give the inventory its links), and the session
// state of every BGP neighbour and BFD peer. The neighbour and session
// states are sampled like oper-status, so every state reaches the pipeline
// at the same cadence. A device that has no data under a path (no LLDP
// neighbour, no BGP) may send nothing for it or refuse it: a target that
// refuses the default subscription (NotFound, InvalidArgument or
// Unimplemented before any response) is subscribed again at once to the
// interfaces and components only, with one WARN line.
func DefaultPaths() []string {
	return []string{
		basePaths[0],
		basePaths[1],
		"/lldp/interfaces/interface/neighbors/neighbor/state",
		schemas.MetricBGPSessionState,
		schemas.MetricBFDSessionState,
	}
}

// publishesState reports whether the collector publishes its targets'
// state: TargetState, true when unset.
func (c Config) publishesState() bool { return c.TargetState == nil || *c.TargetState }

// WithDefaults returns c with defaults applied: unset fields of targets
// come from Defaults, and a config with no subscription gets one of
// DefaultPaths.
func (c Config) WithDefaults() Config {
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.MaxRows == 0 {
		c.MaxRows = DefaultMaxRows
	}
	if c.TargetState == nil {
		on := true
		c.TargetState = &on
	}
	if c.Backoff.Initial == 0 {
		c.Backoff.Initial = DefaultBackoffInitial
	}
	if c.Backoff.Max == 0 {
		c.Backoff.Max = max(DefaultBackoffMax, c.Backoff.Initial)
	}
	if len(c.Subscriptions) == 0 {
		c.Subscriptions = []Subscription{{Name: "default", Paths: DefaultPaths(), fallback: basePaths[:]}}
	}
	c.Subscriptions = slices.Clone(c.Subscriptions)
	for i := range c.Subscriptions {
		s := &c.Subscriptions[i]
		if s.Mode == "" {
			s.Mode = "stream"
		}
		if s.StreamMode == "" {
			s.StreamMode = "sample"
		}
		if s.Encoding == "" {
			s.Encoding = "proto"
		}
		if s.SampleInterval == 0 && (s.StreamMode == "sample" || s.Mode != "stream") {
			s.SampleInterval = DefaultSampleInterval
		}
	}
	c.Targets = slices.Clone(c.Targets)
	for i := range c.Targets {
		c.Targets[i] = c.Targets[i].inherit(c.Defaults)
	}
	return c
}

// inheritTLS fills what a target's tls leaves unset from the defaults',
// as every other field is filled: a target that names its server_name
// (a device dialled by its IP) or turns TLS on keeps the defaults' CA and
// client certificate (replaced whole, mutual TLS was dropped without a
// word, and a lone server_name turned TLS off). TLS on and
// insecure_skip_verify are on when either says so; the client
// certificate and its key go together.
func inheritTLS(t, d tlsfiles.Config) tlsfiles.Config {
	t.Enabled = t.Enabled || t.Enable || d.Enabled || d.Enable
	t.Enable = false
	t.CAFile = cmp.Or(t.CAFile, d.CAFile)
	if t.CertFile == "" && t.KeyFile == "" {
		t.CertFile, t.KeyFile = d.CertFile, d.KeyFile
	}
	t.ServerName = cmp.Or(t.ServerName, d.ServerName)
	t.InsecureSkipVerify = t.InsecureSkipVerify || d.InsecureSkipVerify
	return t
}

func (t Target) inherit(d Target) Target {
	if len(t.Subscriptions) == 0 {
		t.Subscriptions = d.Subscriptions
	}
	t.TLS = inheritTLS(t.TLS, d.TLS)
	if t.Username == "" {
		t.Username, t.Password = d.Username, d.Password
	}
	if t.Timestamp == "" {
		t.Timestamp = d.Timestamp
	}
	if t.Timestamp == "" {
		t.Timestamp = "device"
	}
	if t.Dedup == nil {
		t.Dedup = d.Dedup
	}
	if t.DerivePower == nil {
		t.DerivePower = d.DerivePower
	}
	if t.StallTimeout == 0 {
		t.StallTimeout = d.StallTimeout
	}
	if t.DialTimeout == 0 {
		t.DialTimeout = d.DialTimeout
	}
	if t.DialTimeout == 0 {
		t.DialTimeout = DefaultDialTimeout
	}
	t.MaxPast = cmp.Or(t.MaxPast, d.MaxPast, DefaultMaxPast)
	t.MaxFuture = cmp.Or(t.MaxFuture, d.MaxFuture, DefaultMaxFuture)
	t.MaxCacheBytes = cmp.Or(t.MaxCacheBytes, d.MaxCacheBytes, DefaultMaxCacheBytes)
	t.MaxMessageBytes = cmp.Or(t.MaxMessageBytes, d.MaxMessageBytes, DefaultMaxMessageBytes)
	return t
}

// Validate reports the first bad field as "path: problem".
func (c Config) Validate() error {
	if c.FlushInterval < 0 || c.MaxRows < 1 {
		return errors.New("flush_interval: must be positive, and max_rows at least 1")
	}
	if c.Backoff.Initial < 0 || c.Backoff.Max < c.Backoff.Initial {
		return errors.New("backoff: initial must be positive and at most max")
	}
	name := func(s Subscription) string { return s.Name }
	if err := cfgcheck.Named("subscriptions", c.Subscriptions, name, Subscription.validate); err != nil {
		return err
	}
	subs := make(map[string]bool, len(c.Subscriptions))
	for _, s := range c.Subscriptions {
		subs[s.Name] = true
	}
	return cfgcheck.Named("targets", c.Targets, func(t Target) string { return t.Name },
		func(t Target) error { return t.validate(subs) })
}

func (s Subscription) validate() error {
	if s.Name == "" {
		return errors.New("name: required")
	}
	if _, err := ParsePath(s.Prefix); s.Prefix != "" && err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	if len(s.Paths) == 0 {
		return errors.New("paths: at least one path is required")
	}
	for j, p := range s.Paths {
		if _, err := ParsePath(p); err != nil {
			return fmt.Errorf("paths[%d]: %w", j, err)
		}
	}
	if _, ok := listModes[s.Mode]; !ok {
		return fmt.Errorf("mode: %q is not stream, once or poll", s.Mode)
	}
	if _, ok := streamModes[s.StreamMode]; !ok {
		return fmt.Errorf("stream_mode: %q is not sample, on_change or target_defined", s.StreamMode)
	}
	if _, ok := encodings[s.Encoding]; !ok {
		return fmt.Errorf("encoding: %q is not proto, json_ietf or json", s.Encoding)
	}
	if s.SampleInterval < 0 || s.HeartbeatInterval < 0 {
		return errors.New("sample_interval: intervals must not be negative")
	}
	if s.Mode != "stream" && s.SampleInterval == 0 {
		return errors.New("sample_interval: once and poll need an interval between requests")
	}
	return nil
}

func (t Target) validate(subs map[string]bool) error {
	if t.Name == "" {
		return errors.New("name: required")
	}
	if err := hostport.Check(t.Address, "username and password"); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	for j, s := range t.Subscriptions {
		if !subs[s] {
			return fmt.Errorf("subscriptions[%d]: no subscription is named %q", j, s)
		}
	}
	if err := t.TLS.Validate(); err != nil {
		return fmt.Errorf("tls.%w", err)
	}
	if t.Timestamp != "device" && t.Timestamp != "receive" {
		return fmt.Errorf("timestamp: %q is not device or receive", t.Timestamp)
	}
	if !t.Password.IsZero() && t.Username == "" {
		return errors.New("username: required with a password")
	}
	if t.Username != "" {
		if t.Password.IsZero() {
			// An empty password would be sent: a forgotten one, almost always.
			return errors.New("password: required with a username: give {file: PATH} or {env: VAR}")
		}
		if _, err := t.Password.Load(); err != nil {
			return fmt.Errorf("password: %w", err)
		}
	}
	if t.DialTimeout < 0 {
		return errors.New("dial_timeout: must not be negative")
	}
	if t.MaxCacheBytes < minCacheBytes {
		return fmt.Errorf("max_cache_bytes: %d is below the minimum of %d", t.MaxCacheBytes, minCacheBytes)
	}
	if t.MaxMessageBytes < minCacheBytes {
		return fmt.Errorf("max_message_bytes: %d is below the minimum of %d", t.MaxMessageBytes, minCacheBytes)
	}
	return nil
}

var (
	listModes   = map[string]pb.SubscriptionList_Mode{"stream": pb.SubscriptionList_STREAM, "once": pb.SubscriptionList_ONCE, "poll": pb.SubscriptionList_POLL}
	streamModes = map[string]pb.SubscriptionMode{"sample": pb.SubscriptionMode_SAMPLE, "on_change": pb.SubscriptionMode_ON_CHANGE, "target_defined": pb.SubscriptionMode_TARGET_DEFINED}
	encodings   = map[string]pb.Encoding{"proto": pb.Encoding_PROTO, "json_ietf": pb.Encoding_JSON_IETF, "json": pb.Encoding_JSON}
)

// request builds the SubscribeRequest of s; it must be valid.
func (s Subscription) request() *pb.SubscribeRequest {
	sl := &pb.SubscriptionList{Mode: listModes[s.Mode], Encoding: encodings[s.Encoding], UpdatesOnly: s.UpdatesOnly}
	if s.Prefix != "" {
		sl.Prefix, _ = ParsePath(s.Prefix)
	}
	for _, p := range s.Paths {
		path, _ := ParsePath(p)
		sub := &pb.Subscription{Path: path}
		if s.Mode == "stream" {
			sub.Mode = streamModes[s.StreamMode]
			sub.SampleInterval = uint64(s.SampleInterval)
			sub.HeartbeatInterval = uint64(s.HeartbeatInterval)
			sub.SuppressRedundant = s.SuppressRedundant
		}
		sl.Subscription = append(sl.Subscription, sub)
	}
	return &pb.SubscribeRequest{Request: &pb.SubscribeRequest_Subscribe{Subscribe: sl}}
}

// stallTimeout returns how long a stream of s on t may be silent.
func (t Target) stallTimeout(s Subscription) time.Duration {
	switch {
	case t.StallTimeout < 0:
		return 0
	case t.StallTimeout > 0:
		return t.StallTimeout
	}
	// A stream that sends only changes is silent up to a heartbeat; one
	// that samples sends every sample interval, whatever its heartbeat.
	iv := s.SampleInterval
	if s.Mode == "stream" && (s.StreamMode != "sample" || s.SuppressRedundant) {
		if s.HeartbeatInterval == 0 {
			return 0 // on-change without heartbeats may be silent for ever
		}
		iv = max(s.SampleInterval, s.HeartbeatInterval)
	}
	if iv > 0 {
		return max(3*iv, 10*time.Second)
	}
	return DefaultStallTimeout
}

// resendInterval returns how often a target sends every leaf of s again,
// changed or not, which ages out the LLDP neighbours it stops sending
// (DecoderConfig.ResendInterval): the sample interval of a STREAM SAMPLE
// subscription, the interval between ONCE or POLL requests. It is 0 for
// ON_CHANGE and TARGET_DEFINED (the target sends a change once, a delete
// when a neighbour goes) and for suppress_redundant SAMPLE (an unchanged
// neighbour is not sent again; heartbeats are not relied on).
func (s Subscription) resendInterval() time.Duration {
	if s.Mode == "stream" && (s.StreamMode != "sample" || s.SuppressRedundant) {
		return 0
	}
	return s.SampleInterval
}

// PlaintextCredentials reports whether t sends its username and password
// over a connection without TLS, where anyone on the path can read them.
func (t Target) PlaintextCredentials() bool { return t.Username != "" && !t.TLS.Enabled }

// String identifies a target in logs without secrets.
func (t Target) String() string {
	if t.TLS.Enabled {
		return t.Name + "@" + t.Address + " (tls)"
	}
	return t.Name + "@" + t.Address
}
