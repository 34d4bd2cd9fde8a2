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
	"unicode/utf8"

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
	// relabel are the incidents RestoreIncidents restored while
	// Alertmanager could not be read, by id (true: open): the next Flush
	// reads the labels it holds for them before it posts (relabelRestored).
	relabel map[string]bool
	body    bytes.Buffer
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
		relabel:  map[string]bool{},
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

// annotationName returns k, or, if Alertmanager might reject k as an
// annotation name (and with it the alert), k with every character outside
// [a-zA-Z0-9_] replaced by an underscore ("runbook-url" becomes
// "runbook_url"): an annotation must not keep an alert from paging.
func annotationName(k string) string {
	if validName(k) {
		return k
	}
	var b strings.Builder
	for i, c := range k {
		if i == 0 && c >= '0' && c <= '9' {
			b.WriteByte('_')
		}
		if isNameChar(c) {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// validName reports whether n is a label or annotation name every
// Alertmanager takes: [a-zA-Z_][a-zA-Z0-9_]* (Prometheus' legacy names;
// 0.28 and later take UTF-8 names too).
func validName(n string) bool {
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		return false
	}
	for _, c := range n {
		if !isNameChar(c) {
			return false
		}
	}
	return true
}

func isNameChar(c rune) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
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
// HTTP 401, 403 (password from the environment or none), 404, 405 or a
// redirect to a GET the error wraps pipeline.ErrStop. A request refused as
// too large (413) or invalid (400, 422) is split (postSplitting). Before
// it posts, it reads the labels of the incidents RestoreIncidents could
// not read them for, and fails, keeping everything, until Alertmanager
// answers (relabelRestored). Flush blocks for at most Config.Timeout per
// request.
func (s *Sink) Flush(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.relabelRestored(ctx); err != nil {
		return 0, err
	}
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
			a = firingUntil(a, now, ttl)
			next[ev.fp] = active{alert: a, sentAt: now}
		} else {
			a = endedBy(a, now)
			delete(next, ev.fp)
		}
		out = append(out, a)
	}
	for fp, a := range next {
		if a.sentAt.IsZero() || now.Sub(a.sentAt) >= s.cfg.ResendInterval {
			a.alert = firingUntil(a.alert, now, ttl)
			a.sentAt = now
			next[fp] = a
			out = append(out, a.alert)
		}
	}
	if err := s.postAll(ctx, out); err != nil {
		return 0, err
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

// firingUntil returns the firing alert a to post at now: endsAt now + ttl,
// and startsAt no later than now. The startsAt of a detection is device
// time; one ahead of the bridge's clock (a device without NTP) would set
// endsAt as far ahead, and an alert whose bridge stopped posting it would
// fire that long instead of ttl.
func firingUntil(a alert, now time.Time, ttl time.Duration) alert {
	if a.StartsAt.After(now) {
		a.StartsAt = now
	}
	a.EndsAt = now.Add(ttl)
	return a
}

// postAll posts alerts in requests of at most MaxBatch alerts. The caller
// holds s.mu.
func (s *Sink) postAll(ctx context.Context, alerts []alert) error {
	for len(alerts) > 0 {
		n := min(len(alerts), MaxBatch)
		if err := s.postSplitting(ctx, alerts[:n]); err != nil {
			return err
		}
		alerts = alerts[n:]
	}
	return nil
}

// postSplitting posts alerts in one request, or, when the server refuses
// it as too large (HTTP 413: a proxy's body size limit in front of
// Alertmanager, 1 MiB by default in nginx), in two halves, and so on down
// to one alert. A burst of alerts so reaches Alertmanager however small
// the limit; stopping instead would fail on the same burst at every
// restart. An alert too large alone goes with its annotations cut
// (tooLarge). The caller holds s.mu.
//
// Likewise for a request Alertmanager rejects as invalid (HTTP 400, 422):
// it is split down to the alerts it rejects alone (rejectedAlone: posted
// with valid annotation names, or dropped with a WARN line and counted),
// so one bad alert neither takes the others with it (a 422 stores none of
// the request) nor has the whole request counted dropped; posting the
// valid ones again is harmless.
func (s *Sink) postSplitting(ctx context.Context, alerts []alert) error {
	err := s.post(ctx, alerts)
	var rejected *rejectedError
	switch {
	case errors.As(err, &rejected) && len(alerts) == 1:
		return s.rejectedAlone(ctx, alerts[0], rejected)
	case errors.Is(err, errTooLarge) && len(alerts) == 1:
		return s.tooLarge(ctx, alerts[0])
	case rejected == nil && !errors.Is(err, errTooLarge):
		return err
	}
	half := len(alerts) / 2
	if err := s.postSplitting(ctx, alerts[:half]); err != nil {
		return err
	}
	return s.postSplitting(ctx, alerts[half:])
}

// maxAnnotation is the most bytes of an annotation value an alert too
// large for the server alone is posted with.
const maxAnnotation = 256

// tooLarge posts a, which the server refused alone as too large, with
// every annotation cut to maxAnnotation bytes: a page with a short
// description is better than none. If that is still too large (its labels
// are), a is dropped, with a WARN line and counted as too_large: no retry
// can post it. The caller holds s.mu.
func (s *Sink) tooLarge(ctx context.Context, a alert) error {
	size := s.body.Len()
	cut := a
	cut.Annotations = make(map[string]string, len(a.Annotations))
	for k, v := range a.Annotations {
		cut.Annotations[k] = truncate(v, maxAnnotation)
	}
	err := s.post(ctx, []alert{cut})
	var rejected *rejectedError
	switch {
	case errors.As(err, &rejected):
		s.dropRejected(a, rejected)
		return nil
	case err == nil:
		s.log.Warn("alert too large for the server alone (HTTP 413); posted it with its annotations cut: raise the request body limit of the proxy in front of Alertmanager",
			"labels", a.Labels, "bytes", size)
		return nil
	case errors.Is(err, errTooLarge):
		s.metrics.addDropped("too_large", 1)
		s.log.Warn("alert too large for the server even with its annotations cut (HTTP 413); dropping it: raise the request body limit of the proxy in front of Alertmanager",
			"fingerprint", schemas.Fingerprint(a.Labels), "alertname", truncate(a.Labels["alertname"], maxAnnotation),
			"device", truncate(a.Labels["device"], maxAnnotation), "bytes", s.body.Len())
		return nil
	}
	return err
}

// truncate returns v cut to at most n bytes, on a rune boundary, with an
// ellipsis when cut.
func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	const more = "…"
	i := n - len(more)
	for i > 0 && !utf8.RuneStart(v[i]) {
		i--
	}
	return v[:i] + more
}

// rejectedAlone handles the alert a Alertmanager rejected alone as
// invalid: if an annotation name may be why (Alertmanager before 0.28
// takes only [a-zA-Z_][a-zA-Z0-9_]* names), a is posted again with those
// names made valid (annotationName), so the alert pages; otherwise, or if
// that is rejected too (a label name: the labels are the alert's
// identity), it is dropped. The caller holds s.mu.
func (s *Sink) rejectedAlone(ctx context.Context, a alert, e *rejectedError) error {
	fixed, changed := a, false
	fixed.Annotations = make(map[string]string, len(a.Annotations))
	for k, v := range a.Annotations {
		n := annotationName(k)
		changed = changed || n != k
		fixed.Annotations[n] = v
	}
	if !changed {
		s.dropRejected(a, e)
		return nil
	}
	err := s.post(ctx, []alert{fixed})
	var again *rejectedError
	switch {
	case err == nil:
		s.log.Warn("alertmanager rejected an alert's annotation names; posted it with them made valid", "labels", a.Labels, "reason", e.reason)
		return nil
	case errors.As(err, &again):
		s.dropRejected(a, again)
		return nil
	case errors.Is(err, errTooLarge):
		return s.tooLarge(ctx, fixed)
	}
	return err
}

// dropRejected counts and logs the alert a Alertmanager rejected alone:
// no retry can post it.
func (s *Sink) dropRejected(a alert, e *rejectedError) {
	s.metrics.addDropped("rejected", 1)
	s.log.Warn("alertmanager rejected an alert; dropping it", "status", e.status, "labels", a.Labels, "reason", e.reason)
}

// rejectedError is post's error for an HTTP 400 or 422: Alertmanager
// rejected alerts of the request as invalid.
type rejectedError struct {
	status int
	reason string
}

func (e *rejectedError) Error() string {
	return fmt.Sprintf("alertmanager rejected alerts (HTTP %d): %s", e.status, e.reason)
}

// errTooLarge is post's error for an HTTP 413.
var errTooLarge = errors.New("request too large")

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
	case c == http.StatusRequestEntityTooLarge:
		s.metrics.incErrors()
		return fmt.Errorf("alertmanager %s: cannot post %d alerts (%d bytes): HTTP 413: %w", s.cfg.URL, len(alerts), s.body.Len(), errTooLarge)
	case c >= 300 && c < 400:
		// A 301, 302 or 303 keepTLS did not follow: following it
		// would turn the POST into a GET, answered 200 without posting.
		s.metrics.incErrors()
		return fmt.Errorf("%w: alertmanager %s redirects POST /api/v2/alerts to %s (HTTP %d), which a client follows as a GET that posts nothing: set url to where Alertmanager answers",
			pipeline.ErrStop, s.cfg.URL, location(resp), c)
	case c == http.StatusBadRequest || c == http.StatusUnprocessableEntity:
		// Alertmanager stores the valid alerts of a request it answers 400
		// and none of one it answers 422 (the body does not match its
		// schema); postSplitting finds the alerts it rejects.
		s.metrics.incErrors()
		return &rejectedError{status: c, reason: msg}
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
// redirects. It does not follow a redirect that changes the method (a
// 301, 302 or 303 of a POST, which net/http follows as a GET that
// Alertmanager answers 200 with its alerts, so the alerts posted would be
// lost without an error): the caller gets the redirect itself.
func keepTLS(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.Method != via[0].Method {
		return http.ErrUseLastResponse
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errors.New("refusing a redirect from https to " + req.URL.Scheme + " (it would send the credentials in the clear): set url to where Alertmanager answers")
	}
	return nil
}

// location returns where resp redirects, without credentials, or "(no
// Location)".
func location(resp *http.Response) string {
	u, err := resp.Location()
	if err != nil {
		return "(no Location)"
	}
	return u.Redacted()
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
