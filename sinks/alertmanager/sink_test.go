package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// fakeAM records the bodies POSTed to /api/v2/alerts and answers with the
// next status in statuses (200 once they are used up).
type fakeAM struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	posts    [][]alert
	auth     []string // "user:password" of each request, "Bearer TOKEN" with a token, "" without either
}

func newFakeAM(t *testing.T, statuses ...int) *fakeAM {
	f := &fakeAM{statuses: statuses}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v2/alerts" && r.Method == http.MethodGet {
			f.holding(w)
			return
		}
		if r.URL.Path != "/api/v2/alerts" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content-type %q", ct)
		}
		var as []alert
		if err := json.NewDecoder(r.Body).Decode(&as); err != nil {
			t.Errorf("cannot decode body: %v", err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		u, p, ok := r.BasicAuth()
		if ok {
			f.auth = append(f.auth, u+":"+p)
		} else if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			f.auth = append(f.auth, h)
		} else {
			f.auth = append(f.auth, "")
		}
		status := http.StatusOK
		if len(f.statuses) > 0 {
			status, f.statuses = f.statuses[0], f.statuses[1:]
		}
		if status == http.StatusOK {
			f.posts = append(f.posts, as)
		}
		w.WriteHeader(status)
		if status != http.StatusOK {
			_, _ = w.Write([]byte("{\"code\":" + http.StatusText(status) + ",\n \"message\": \"nope\"}"))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// holding answers a GET of the alerts: the last post of each label set,
// as Alertmanager holds them (filters are ignored).
func (f *fakeAM) holding(w http.ResponseWriter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	held := map[string]alert{}
	for _, p := range f.posts {
		for _, a := range p {
			held[schemas.Fingerprint(a.Labels)] = a
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(slices.Collect(maps.Values(held)))
}

func (f *fakeAM) received() [][]alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]alert(nil), f.posts...)
}

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSink(t *testing.T, cfg Config, opts ...Option) *Sink {
	t.Helper()
	s, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func add(t *testing.T, s *Sink, ds ...*schemas.Detection) {
	t.Helper()
	for _, d := range ds {
		if err := s.Add(context.Background(), record(t, d)); err != nil {
			t.Fatal(err)
		}
	}
}

func flush(t *testing.T, s *Sink, want int) {
	t.Helper()
	n, err := s.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("Flush wrote %d, want %d", n, want)
	}
}

func TestFiringThenResolved(t *testing.T) {
	am := newFakeAM(t)
	clk := &clock{t: t0.Add(time.Minute)}
	reg := prometheus.NewRegistry()
	s := newSink(t, Config{URL: am.URL, GeneratorURL: "http://grafana.local/d/tk"}, WithClock(clk.now), WithMetrics(NewMetrics(reg)))

	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d", s.Pending())
	}
	flush(t, s, 1)
	if s.Pending() != 0 || s.Firing() != 1 {
		t.Fatalf("Pending = %d, Firing = %d after flush", s.Pending(), s.Firing())
	}
	got := am.received()
	if len(got) != 1 || len(got[0]) != 1 {
		t.Fatalf("posts %+v", got)
	}
	a := got[0][0]
	wantLabels := map[string]string{
		"alertname": schemas.AlertName, "device": "edge-1", "keys": "name=Ethernet1",
		"metric": "/interfaces/interface/state/counters/in-octets",
	}
	if !equalMaps(a.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", a.Labels, wantLabels)
	}
	if !a.StartsAt.Equal(t0) || !a.EndsAt.Equal(clk.t.Add(4*DefaultResendInterval)) {
		t.Errorf("startsAt %v endsAt %v", a.StartsAt, a.EndsAt)
	}
	if a.Annotations["summary"] != "Traffic drop on edge-1" || a.Annotations["detector"] != "robust_z" || a.Annotations["score"] != "0.97" ||
		a.Annotations["severity"] != "critical" {
		t.Errorf("annotations %v", a.Annotations)
	}
	if a.GeneratorURL != "http://grafana.local/d/tk" {
		t.Errorf("generatorURL %q", a.GeneratorURL)
	}

	res := detection("edge-1", schemas.StateResolved, schemas.SeverityCritical)
	clk.t = res.EndsAt.Add(time.Second) // an endsAt still ahead is posted as now
	add(t, s, res)
	flush(t, s, 1)
	got = am.received()
	if len(got) != 2 || len(got[1]) != 1 || !got[1][0].EndsAt.Equal(*res.EndsAt) || !equalMaps(got[1][0].Labels, wantLabels) {
		t.Fatalf("resolved post %+v", got[1:])
	}
	if s.Firing() != 0 {
		t.Errorf("Firing = %d after resolve", s.Firing())
	}
	if v := testutil.ToFloat64(s.metrics.posted); v != 2 {
		t.Errorf("posted_total = %v", v)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestOneRequestPerFlush(t *testing.T) {
	am := newFakeAM(t)
	s := newSink(t, Config{URL: am.URL + "/"})
	add(t, s,
		detection("a", schemas.StateFiring, schemas.SeverityWarning),
		detection("b", schemas.StateFiring, schemas.SeverityWarning),
		detection("c", schemas.StateResolved, schemas.SeverityWarning))
	flush(t, s, 3)
	if got := am.received(); len(got) != 1 || len(got[0]) != 3 {
		t.Fatalf("want one request with 3 alerts, got %d requests", len(got))
	}
	// Nothing pending and nothing due: no request at all.
	flush(t, s, 0)
	if got := am.received(); len(got) != 1 {
		t.Fatalf("an empty flush posted: %d requests", len(got))
	}
}

func TestLargeFlushSplits(t *testing.T) {
	am := newFakeAM(t)
	s := newSink(t, Config{URL: am.URL})
	d := detection("a", schemas.StateResolved, schemas.SeverityWarning)
	for range MaxBatch + 5 {
		add(t, s, d)
	}
	flush(t, s, MaxBatch+5)
	if got := am.received(); len(got) != 2 || len(got[0]) != MaxBatch || len(got[1]) != 5 {
		t.Fatalf("requests: %d", len(got))
	}
}

func TestRetryableErrorsKeepTheBatch(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusRequestTimeout} {
		am := newFakeAM(t, status)
		s := newSink(t, Config{URL: am.URL})
		add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
		_, err := s.Flush(context.Background())
		if err == nil || errors.Is(err, pipeline.ErrStop) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("HTTP %d: err = %v, want a one-line retryable error", status, err)
		}
		if !strings.Contains(err.Error(), "will retry") || !strings.Contains(err.Error(), "nope") {
			t.Errorf("HTTP %d: err = %v", status, err)
		}
		if s.Pending() != 1 || s.Firing() != 0 {
			t.Fatalf("HTTP %d: Pending = %d, Firing = %d after a failed flush", status, s.Pending(), s.Firing())
		}
		flush(t, s, 1)
		if got := am.received(); len(got) != 1 || got[0][0].Labels["device"] != "edge-1" {
			t.Fatalf("retry posted %+v", got)
		}
	}
}

func TestConnectionErrorIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newSink(t, Config{URL: "http://" + addr, Timeout: 2 * time.Second})
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	_, err = s.Flush(context.Background())
	if err == nil || errors.Is(err, pipeline.ErrStop) || !strings.Contains(err.Error(), "is Alertmanager running there") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d", s.Pending())
	}
}

func TestConfigErrorsStop(t *testing.T) {
	for status, want := range map[int]string{
		http.StatusUnauthorized: "check username and password",
		http.StatusForbidden:    "check username and password",
		http.StatusNotFound:     "check that url is Alertmanager's base URL",
	} {
		am := newFakeAM(t, status)
		s := newSink(t, Config{URL: am.URL})
		add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
		_, err := s.Flush(context.Background())
		if !errors.Is(err, pipeline.ErrStop) || !strings.Contains(err.Error(), want) {
			t.Errorf("HTTP %d: err = %v", status, err)
		}
	}
	// A wrong path prefix answers 404 from the server itself.
	am := newFakeAM(t)
	s := newSink(t, Config{URL: am.URL + "/wrong"})
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	if _, err := s.Flush(context.Background()); !errors.Is(err, pipeline.ErrStop) {
		t.Errorf("wrong path: err = %v", err)
	}
}

func TestRejectedAlertsAreDropped(t *testing.T) {
	am := newFakeAM(t, http.StatusBadRequest)
	var logs bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	s := newSink(t, Config{URL: am.URL}, WithMetrics(m), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	add(t, s, detection("edge-1", schemas.StateResolved, schemas.SeverityCritical))
	flush(t, s, 1)
	if s.Pending() != 0 {
		t.Fatalf("Pending = %d", s.Pending())
	}
	if v := testutil.ToFloat64(m.dropped.WithLabelValues("rejected")); v != 1 {
		t.Errorf("dropped{rejected} = %v", v)
	}
	if !strings.Contains(logs.String(), "rejected an alert") {
		t.Errorf("no warning logged: %s", logs.String())
	}
}

func TestBadInputIsDeadLettered(t *testing.T) {
	s := newSink(t, Config{URL: "http://127.0.0.1:1"})
	f := func(r *kgo.Record, want error) {
		t.Helper()
		if err := s.Add(context.Background(), r); !errors.Is(err, want) {
			t.Errorf("err = %v, want %v", err, want)
		}
	}
	f(&kgo.Record{Value: []byte("{not json")}, schemas.ErrMalformed)
	f(&kgo.Record{Value: []byte(`{"version":1}`)}, schemas.ErrMalformed)
	f(&kgo.Record{Value: []byte(`{"version":2}`)}, schemas.ErrUnknownVersion)
	r := record(t, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: schemas.HeaderSchemaVersion, Value: []byte("9")})
	r.Headers = r.Headers[len(r.Headers)-1:]
	f(r, schemas.ErrUnknownVersion)
	if s.Pending() != 0 {
		t.Errorf("Pending = %d", s.Pending())
	}
}

func TestFiringAlertsAreReposted(t *testing.T) {
	am := newFakeAM(t)
	clk := &clock{t: t0}
	s := newSink(t, Config{URL: am.URL, ResendInterval: time.Minute}, WithClock(clk.now))
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	flush(t, s, 1)
	clk.t = t0.Add(30 * time.Second)
	flush(t, s, 0)
	if got := am.received(); len(got) != 1 {
		t.Fatalf("re-posted before the resend interval: %d requests", len(got))
	}
	clk.t = t0.Add(time.Minute)
	flush(t, s, 0)
	got := am.received()
	if len(got) != 2 || len(got[1]) != 1 || !got[1][0].EndsAt.Equal(clk.t.Add(4*time.Minute)) {
		t.Fatalf("re-post: %+v", got)
	}
	// Resolved: no more re-posts.
	add(t, s, detection("edge-1", schemas.StateResolved, schemas.SeverityCritical))
	flush(t, s, 1)
	clk.t = t0.Add(time.Hour)
	flush(t, s, 0)
	if got := am.received(); len(got) != 3 {
		t.Fatalf("a resolved alert was re-posted: %d requests", len(got))
	}
}

// TestSeverityChangeResolvesTheOldAlert: with severity_label, a change of
// severity changes the label set, so the old alert is resolved.
func TestSeverityChangeResolvesTheOldAlert(t *testing.T) {
	am := newFakeAM(t)
	clk := &clock{t: t0.Add(time.Minute)}
	s := newSink(t, Config{URL: am.URL, SeverityLabel: true}, WithClock(clk.now))
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityWarning))
	flush(t, s, 1)
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	flush(t, s, 1)
	got := am.received()[1]
	if len(got) != 2 || got[0].Labels["severity"] != "warning" || !got[0].EndsAt.Equal(clk.t) ||
		got[1].Labels["severity"] != "critical" || !got[1].EndsAt.After(clk.t) {
		t.Fatalf("second post %+v", got)
	}
	// The resolved detection says critical too; the old warning is long resolved.
	add(t, s, detection("edge-1", schemas.StateResolved, schemas.SeverityCritical))
	flush(t, s, 1)
	if s.Firing() != 0 {
		t.Fatalf("Firing = %d", s.Firing())
	}
}

func TestRestoreRepostsFiringAlerts(t *testing.T) {
	am := newFakeAM(t)
	s := newSink(t, Config{URL: am.URL})
	s.Restore(detection("a", schemas.StateFiring, schemas.SeverityCritical),
		detection("b", schemas.StateFiring, schemas.SeverityCritical),
		detection("b", schemas.StateResolved, schemas.SeverityCritical))
	if s.Firing() != 1 {
		t.Fatalf("Firing = %d", s.Firing())
	}
	flush(t, s, 0)
	if got := am.received(); len(got) != 1 || len(got[0]) != 1 || got[0][0].Labels["device"] != "a" {
		t.Fatalf("posts %+v", got)
	}
}

func TestBasicAuthNeverLogsThePassword(t *testing.T) {
	const pw = "s3cret-alertmanager-pw"
	t.Setenv("TK_TEST_AM_PASSWORD", pw)
	am := newFakeAM(t, http.StatusUnauthorized)
	var logs bytes.Buffer
	s := newSink(t, Config{URL: am.URL, Username: "tk", Password: secret.Source{Env: "TK_TEST_AM_PASSWORD"}},
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	_, err := s.Flush(context.Background())
	if !errors.Is(err, pipeline.ErrStop) {
		t.Fatalf("err = %v", err)
	}
	flush(t, s, 1)
	am.mu.Lock()
	auth := append([]string(nil), am.auth...)
	am.mu.Unlock()
	if len(auth) != 2 || auth[1] != "tk:"+pw {
		t.Fatalf("basic auth seen by the server: %q", auth)
	}
	if strings.Contains(logs.String(), pw) || strings.Contains(err.Error(), pw) {
		t.Fatalf("password leaked: %s / %v", logs.String(), err)
	}
	if !strings.Contains(logs.String(), "plain http") {
		t.Errorf("no warning about basic auth over http: %s", logs.String())
	}
}

// TestDropPartition: DropPartition forgets the detections (incidents) of
// one input partition and keeps the others', an alert's detection from
// another partition included, and the alerts already posted firing.
func TestDropPartition(t *testing.T) {
	am := newFakeAM(t)
	clk := &clock{t: t0.Add(11 * time.Minute)} // after the resolved detections' endsAt
	s := newSink(t, Config{URL: am.URL}, WithClock(clk.now))
	addFrom := func(p int32, d *schemas.Detection) {
		r := record(t, d)
		r.Topic, r.Partition = "tk.detections", p
		if err := s.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	addFrom(2, detection("posted", schemas.StateFiring, schemas.SeverityWarning))
	flush(t, s, 1)
	addFrom(0, detection("a", schemas.StateFiring, schemas.SeverityWarning))
	addFrom(1, detection("b", schemas.StateFiring, schemas.SeverityWarning))
	addFrom(0, detection("c", schemas.StateFiring, schemas.SeverityWarning))
	addFrom(1, detection("c", schemas.StateResolved, schemas.SeverityWarning)) // c moved to partition 1
	s.DropPartition("tk.detections", 0)
	s.DropPartition("tk.detections", 7) // nothing of it
	s.DropPartition("tk.other", 1)      // another topic
	if s.Pending() != 2 {
		t.Fatalf("Pending = %d after dropping partition 0, want 2", s.Pending())
	}
	s.DropPartition("tk.detections", 2) // already posted: still firing
	flush(t, s, 2)
	got := am.received()
	var devices []string
	for _, a := range got[1] {
		devices = append(devices, a.Labels["device"])
	}
	if strings.Join(devices, ",") != "b,c" || !got[1][1].EndsAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("posted %v (c ends %v), want b firing and c resolved", devices, got[1][1].EndsAt)
	}
	if s.Firing() != 2 {
		t.Errorf("Firing = %d, want 2 (posted, b)", s.Firing())
	}

	inc := newSink(t, Config{URL: am.URL, Source: SourceIncidents}, WithClock(clk.now))
	for p, in := range []*schemas.Incident{incident("x", "par1", 2, nil, t0), incident("y", "par1", 2, nil, t0)} {
		r := incidentRecord(t, in)
		r.Topic, r.Partition = "tk.incidents", int32(p)
		if err := inc.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	inc.DropPartition("tk.incidents", 0)
	if inc.Pending() != 1 {
		t.Errorf("incidents: Pending = %d after dropping partition 0, want 1 (y)", inc.Pending())
	}
}
