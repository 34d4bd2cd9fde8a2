package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Option tunes a Sink beyond its Config.
type Option func(*options)

type options struct {
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
}

// WithLogger sets the logger; the sink logs through a child with
// component=alertmanager. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithMetrics counts posted and dropped alerts in m (see NewMetrics). By
// default nothing is counted.
func WithMetrics(m *Metrics) Option {
	return func(o *options) { o.metrics = m }
}

// WithClock replaces time.Now, which sets the endsAt of firing alerts and
// decides when they are re-posted.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// alert is one element of Alertmanager's POST /api/v2/alerts body
// (PostableAlert).
type alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// event is a detection added and not yet flushed.
type event struct {
	fp     string
	firing bool
	from   inputPartition // of the record it came from
	// sticky keeps the labels of the alert already posted under fp (an
	// incident's), instead of resolving it when the labels change.
	sticky bool
	alert  alert // EndsAt is set at Flush for firing events
}

// inputPartition is the topic and partition of a record added.
type inputPartition struct {
	topic     string
	partition int32
}

// active is a firing alert Alertmanager has been told about.
type active struct {
	alert  alert
	sentAt time.Time // zero: post at the next Flush
}

// Sink posts detections to Alertmanager; see the package documentation. It
// implements pipeline.Sink. Add, Flush, Pending and Restore are safe for
// concurrent use, but the Runner calls them from one goroutine.
//
// It also implements pipeline.PartitionDropper: when the runner gives up
// an input partition whose records it holds unposted (the group took it
// away while a flush was being retried), DropPartition forgets them.
// Their next owner posts them, and then newer states of the same alerts;
// a late post of the older state from this member would land after those
// and show a resolved alert firing until its endsAt.
type Sink struct {
	cfg      Config
	endpoint string
	client   *http.Client
	password *secret.Live // read again from its file before each request
	token    *secret.Live // the bearer token, likewise; nil: none
	log      *slog.Logger
	metrics  *Metrics
	now      func() time.Time

	mu      sync.Mutex
	pending []event
	active  map[string]active // by detection fingerprint
	// held are the labels Alertmanager held at RestoreIncidents for the
	// incidents it restored not open (resolved while the bridge was down),
	// by incident id: their updates read again after the restart are
	// posted with them. A successful Flush of an update forgets them.
	held map[string]map[string]string
	body bytes.Buffer
}

var (
	_ pipeline.Sink             = (*Sink)(nil)
	_ pipeline.PartitionDropper = (*Sink)(nil)
)

// New validates cfg, loads the password (read again from its file before
// each request) and returns a Sink. It does not
// contact Alertmanager: the first Flush does.
func New(cfg Config, opts ...Option) (*Sink, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("alertmanager: invalid config: %w", err)
	}
	o := options{log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	log := o.log.With("component", "alertmanager")
	pw, live, err := tlsfiles.Credentials(cfg.Password, "alertmanager.password", log, cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("alertmanager: invalid config: %w", err)
	}
	var token *secret.Live
	if !cfg.BearerToken.IsZero() {
		if token, err = cfg.BearerToken.Live("alertmanager.bearer_token", log); err != nil {
			return nil, fmt.Errorf("alertmanager: invalid config: bearer_token: %w", err)
		}
	}
	var tr http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if live != nil {
		tr = &liveTransport{live: live, base: tr.(*http.Transport)}
	}
	s := &Sink{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.URL, "/") + "/api/v2/alerts",
		client:   &http.Client{Transport: tr, Timeout: cfg.Timeout, CheckRedirect: keepTLS},
		password: pw,
		token:    token,
		log:      log,
		metrics:  o.metrics,
		now:      o.now,
		active:   map[string]active{},
		held:     map[string]map[string]string{},
	}
	if cfg.Username != "" && strings.HasPrefix(cfg.URL, "http:") {
		s.log.Warn("basic authentication over plain http sends the password in clear; use an https url")
	}
	if token != nil && strings.HasPrefix(cfg.URL, "http:") {
		s.log.Warn("a bearer token over plain http is sent in clear; use an https url")
	}
	s.log.Info("configured", "config", cfg)
	return s, nil
}

// Add decodes one detection record (one incident record with
// Config.Source incidents) and queues its alert for the next Flush. A record that is not a valid detection returns an error wrapping
// schemas.ErrMalformed or schemas.ErrUnknownVersion (the Runner
// dead-letters it). Add does no I/O.
func (s *Sink) Add(_ context.Context, r *kgo.Record) error {
	if s.cfg.Source == SourceIncidents {
		return s.addIncident(r)
	}
	d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
	if err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	ev := s.event(d)
	ev.from = inputPartition{r.Topic, r.Partition}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, ev)
	return nil
}

// event builds the alert of a detection: its labels (plus severity with
// Config.SeverityLabel), its annotations plus the severity and the
// detector's figures (where not already set).
func (s *Sink) event(d *schemas.Detection) event {
	labels := make(map[string]string, len(d.Labels)+1)
	maps.Copy(labels, d.Labels)
	if s.cfg.SeverityLabel {
		labels["severity"] = d.Severity
	}
	ann := make(map[string]string, len(d.Annotations)+6)
	for k, v := range map[string]string{
		"severity": d.Severity,
		"detector": d.Detector,
		"score":    strconv.FormatFloat(d.Score, 'g', 4, 64),
		"observed": strconv.FormatFloat(d.Observed, 'g', -1, 64),
		"expected": strconv.FormatFloat(d.Expected, 'g', -1, 64),
		"band":     "[" + strconv.FormatFloat(d.Band.Lower, 'g', -1, 64) + ", " + strconv.FormatFloat(d.Band.Upper, 'g', -1, 64) + "]",
	} {
		ann[k] = v
	}
	maps.Copy(ann, d.Annotations)
	ev := event{fp: d.Fingerprint, firing: d.State == schemas.StateFiring, alert: alert{
		Labels: labels, Annotations: ann, StartsAt: d.StartsAt, GeneratorURL: s.cfg.GeneratorURL,
	}}
	if !ev.firing {
		ev.alert.EndsAt = *d.EndsAt
	}
	return ev
}

// Restore seeds the set of firing alerts, e.g. when a process starts with
// the state alertstate.LoadAsOf returns as the bridge's consumer group has
// consumed the detections (the compacted alerts topic, with the detections
// between the alertstate stage's and the bridge's committed offsets
// applied), so alerts that fired before a restart keep being re-posted
// (and do not expire in Alertmanager) and alerts the bridge resolved are
// not posted firing again. Resolved detections remove their alert from
// the set. The next Flush posts the restored firing alerts.
func (s *Sink) Restore(ds ...*schemas.Detection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		s.seed(d.Fingerprint, d.State == schemas.StateFiring, func() alert { return s.event(d).alert })
	}
}

// seed puts the alert of key into the set of firing alerts, to be posted at
// the next Flush, or removes key from it when it is not firing; build is
// called only for a firing one. s.mu must be held.
func (s *Sink) seed(key string, firing bool, build func() alert) {
	if !firing {
		delete(s.active, key)
		return
	}
	s.active[key] = active{alert: build()}
}

// DropPartition forgets the detections (incidents) added from topic's
// partition and not yet flushed (pipeline.PartitionDropper): the runner
// gave the partition up without posting them, and its next owner reads
// them again from the committed offset. Those added from other partitions,
// and the set of firing alerts already posted, are kept. Safe for
// concurrent use.
func (s *Sink) DropPartition(topic string, partition int32) {
	from := inputPartition{topic, partition}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.pending[:0]
	for _, ev := range s.pending {
		if ev.from != from {
			kept = append(kept, ev)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}

// Pending returns the number of detections added and not yet flushed.
func (s *Sink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Firing returns the number of alerts the sink keeps re-posting.
func (s *Sink) Firing() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.active)
}

// Flush posts the alerts of the detections added since the last successful
// Flush, and re-posts firing alerts last posted ResendInterval ago or more,
// in requests of at most MaxBatch alerts, and returns the number of
// detections flushed. On a retryable failure (connection error, timeout,
// HTTP 5xx, 408, 429, and 401 or 403 with a password from a file, which
// the retry reads again) it keeps everything, so a retry posts it again; on
// HTTP 401, 403 (password from the environment or none), 404 or 405 the
// error wraps pipeline.ErrStop. Flush blocks
// for at most Config.Timeout per request.
func (s *Sink) Flush(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ttl := endsAtFactor * s.cfg.ResendInterval
	out := make([]alert, 0, len(s.pending))
	next := make(map[string]active, len(s.active))
	maps.Copy(next, s.active)
	for _, ev := range s.pending {
		if l, ok := s.held[ev.fp]; ok && ev.sticky {
			if _, ok := next[ev.fp]; !ok {
				// An incident restored resolved (or not open) whose alert
				// Alertmanager holds: its first post's labels.
				ev.alert.Labels = l
			}
		}
		if prev, ok := next[ev.fp]; ok && !maps.Equal(prev.alert.Labels, ev.alert.Labels) {
			if ev.sticky {
				// An incident keeps the labels of its first post: one
				// alert for its life.
				ev.alert.Labels = prev.alert.Labels
			} else {
				// The severity label changed: resolve the alert posted
				// with the old one.
				out = append(out, resolve(prev.alert, now))
			}
		}
		a := ev.alert
		if ev.firing {
			a.EndsAt = later(now, a.StartsAt).Add(ttl)
			next[ev.fp] = active{alert: a, sentAt: now}
		} else {
			a = endedBy(a, now)
			delete(next, ev.fp)
		}
		out = append(out, a)
	}
	for fp, a := range next {
		if a.sentAt.IsZero() || now.Sub(a.sentAt) >= s.cfg.ResendInterval {
			a.alert.EndsAt = later(now, a.alert.StartsAt).Add(ttl)
			a.sentAt = now
			next[fp] = a
			out = append(out, a.alert)
		}
	}
	for len(out) > 0 {
		n := min(len(out), MaxBatch)
		if err := s.post(ctx, out[:n]); err != nil {
			return 0, err
		}
		out = out[n:]
	}
	n := len(s.pending)
	for _, ev := range s.pending {
		// Posted: the active set holds its labels while it fires.
		delete(s.held, ev.fp)
	}
	clear(s.pending)
	s.pending = s.pending[:0]
	s.active = next
	return n, nil
}

// Close releases idle connections. The Sink must not be used afterwards.
func (s *Sink) Close(context.Context) error {
	s.client.CloseIdleConnections()
	return nil
}

// resolve returns the firing alert a resolved now (a severity change
// retires the alert posted with the old label), startsAt moved back to
// now if it was later (a device clock ahead): see endedBy.
func resolve(a alert, now time.Time) alert {
	a.EndsAt = now
	return endedBy(a, now)
}

// endedBy returns the resolved alert a with an endsAt no later than now:
// the endsAt of a detection is device time, and Alertmanager takes an
// alert whose endsAt is in the future as firing (merged with the firing
// post's later endsAt, it stays active for up to 4 × ResendInterval), so a
// device whose clock runs ahead would not resolve. startsAt moves back
// with it when it was later still.
func endedBy(a alert, now time.Time) alert {
	if a.EndsAt.After(now) {
		a.EndsAt = now
	}
	if a.StartsAt.After(a.EndsAt) {
		a.StartsAt = a.EndsAt
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// post sends one request. The caller holds s.mu.
func (s *Sink) post(ctx context.Context, alerts []alert) error {
	s.body.Reset()
	if err := json.NewEncoder(&s.body).Encode(alerts); err != nil {
		return fmt.Errorf("alertmanager: cannot encode alerts: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(s.body.Bytes()))
	if err != nil {
		return fmt.Errorf("alertmanager %s: %w", s.cfg.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		s.metrics.incErrors()
		return fmt.Errorf("alertmanager %s: cannot post %d alerts: %v (is Alertmanager running there, and is the url right?)", s.cfg.URL, len(alerts), requestError(err))
	}
	defer resp.Body.Close()
	msg := bodySnippet(resp.Body)
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		s.metrics.addPosted(len(alerts))
		return nil
	case c == http.StatusBadRequest || c == http.StatusUnprocessableEntity:
		// Alertmanager stores the valid alerts of a request and rejects the
		// others; posting them again cannot help.
		s.metrics.incErrors()
		s.metrics.addDropped("rejected", len(alerts))
		s.log.Warn("alertmanager rejected alerts; dropping them", "status", c, "alerts", len(alerts), "reason", msg)
		return nil
	case (c == http.StatusUnauthorized || c == http.StatusForbidden) && s.cfg.Username != "" && s.password.FromFile():
		// Alertmanager took a new password before the file was
		// rewritten: the retry reads the file again.
		s.metrics.incErrors()
		return fmt.Errorf("alertmanager %s refused the credentials (HTTP %d): check username and the password file %s, read again before each retry (will retry)", s.cfg.URL, c, s.cfg.Password.File)
	case (c == http.StatusUnauthorized || c == http.StatusForbidden) && s.token != nil && s.token.FromFile():
		// Likewise for a token file.
		s.metrics.incErrors()
		return fmt.Errorf("alertmanager %s refused the bearer token (HTTP %d): check the bearer_token file %s, read again before each retry (will retry)", s.cfg.URL, c, s.cfg.BearerToken.File)
	case (c == http.StatusUnauthorized || c == http.StatusForbidden) && s.token != nil:
		s.metrics.incErrors()
		return fmt.Errorf("%w: alertmanager %s refused the bearer token (HTTP %d): check bearer_token", pipeline.ErrStop, s.cfg.URL, c)
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		s.metrics.incErrors()
		return fmt.Errorf("%w: alertmanager %s refused the credentials (HTTP %d): check username and password", pipeline.ErrStop, s.cfg.URL, c)
	case c == http.StatusNotFound || c == http.StatusMethodNotAllowed:
		s.metrics.incErrors()
		return fmt.Errorf("%w: alertmanager %s has no POST /api/v2/alerts (HTTP %d): check that url is Alertmanager's base URL (v0.16 or newer)", pipeline.ErrStop, s.cfg.URL, c)
	case c >= 500 || c == http.StatusRequestTimeout || c == http.StatusTooManyRequests:
		s.metrics.incErrors()
		return fmt.Errorf("alertmanager %s: cannot post %d alerts: HTTP %d: %s (will retry)", s.cfg.URL, len(alerts), c, msg)
	default:
		s.metrics.incErrors()
		return fmt.Errorf("%w: alertmanager %s: unexpected HTTP %d: %s", pipeline.ErrStop, s.cfg.URL, c, msg)
	}
}

// keepTLS refuses a redirect from https to http: net/http would resend
// the Authorization header (the password or the bearer token) in the
// clear to the same host, as a proxy unaware of the TLS in front of it
// redirects.
func keepTLS(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errors.New("refusing a redirect from https to " + req.URL.Scheme + " (it would send the credentials in the clear): set url to where Alertmanager answers")
	}
	return nil
}

// requestError returns the cause of a request's error without the
// method and URL http.Client puts around it (the caller names the URL).
func requestError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// authorize sets the User-Agent and the credentials of req.
func (s *Sink) authorize(req *http.Request) {
	req.Header.Set("User-Agent", "telekernel")
	if s.cfg.Username != "" {
		// A password file the operator rewrote is read again here, so a
		// rotated password needs no restart; one that cannot be read keeps
		// the value read before (one warning).
		s.password.Reload()
		req.SetBasicAuth(s.cfg.Username, s.password.Value().Reveal())
	}
	if s.token != nil {
		// Likewise for a token file.
		s.token.Reload()
		req.Header.Set("Authorization", "Bearer "+s.token.Value().Reveal())
	}
}

// bodySnippet reads up to 512 bytes of a response body as one line and
// drains the rest (so the connection can be reused).
func bodySnippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(empty body)"
	}
	return s
}
