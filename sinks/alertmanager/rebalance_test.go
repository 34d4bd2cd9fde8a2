package alertmanager

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// postLog is an Alertmanager stand-in that records, in the order it
// received them, the alerts posted under /NAME/api/v2/alerts as
// "NAME firing" or "NAME resolved" (endsAt in the past or not).
type postLog struct {
	*httptest.Server
	mu    sync.Mutex
	posts []string
}

func newPostLog(t *testing.T) *postLog {
	l := &postLog{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/api/v2/alerts")
		if !ok || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var as []alert
		if err := json.NewDecoder(r.Body).Decode(&as); err != nil {
			t.Errorf("cannot decode body: %v", err)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, a := range as {
			state := "firing"
			if !a.EndsAt.After(time.Now()) {
				state = "resolved"
			}
			l.posts = append(l.posts, who+" "+state)
		}
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *postLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.posts...)
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestNoStaleAlertAfterRebalance: a member whose Alertmanager is
// unreachable for longer than the group's rebalance timeout loses the
// detections' partition to a member that joined; the new owner reads it
// from the committed offset and posts the alert firing, then resolved.
// When the old member's Alertmanager is reachable again it must not post
// the firing alert it held: Alertmanager would show the resolved alert
// firing until its endsAt (4 × resend_interval). The runner tells the
// sink to drop a lost partition's detections (pipeline.PartitionDropper).
// On kfake; it waits out the rebalance timeout (60s).
func TestNoStaleAlertAfterRebalance(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a rebalance timeout")
	}
	c, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: c.ListenAddrs(), SessionTimeout: 6 * time.Second}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const det = "tk.detections"
	if err := kafka.EnsureTopics(ctx, prod, kafka.TopicSpec{Name: det, Partitions: 1}, kafka.TopicSpec{Name: det + ".dlq", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	produce := func(d *schemas.Detection) {
		r := record(t, d)
		r.Topic = det
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	am := newPostLog(t)
	newDown := func(name string, up bool) *sinktest.DownSink {
		return sinktest.NewDownSink(newSink(t, Config{URL: am.URL + "/" + name}), up)
	}
	newRunner := func(s pipeline.Sink) *pipeline.Runner {
		r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: "alertmanager", Group: "tk-alertmanager", Topics: []string{det}, DeadLetterTopic: det + ".dlq", FlushInterval: 100 * time.Millisecond},
			s, pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	produce(detection("a", schemas.StateFiring, schemas.SeverityWarning))
	a := newDown("a", false)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); _ = newRunner(a).Run(ctx) }()
	waitFor(t, "A's flush to fail", 30*time.Second, func() bool { tries, _ := a.Counts(); return a.Pending() == 1 && tries > 0 })

	b := newDown("b", true)
	wg.Add(1)
	go func() { defer wg.Done(); _ = newRunner(b).Run(ctx) }()
	waitFor(t, "B to post the firing alert", 2*time.Minute, func() bool { _, n := b.Counts(); return n == 1 })
	produce(detection("a", schemas.StateResolved, schemas.SeverityWarning))
	waitFor(t, "B to post the resolution", 30*time.Second, func() bool { _, n := b.Counts(); return n == 2 })

	a.Up()
	waitFor(t, "A's sink to have nothing pending", 30*time.Second, func() bool { return a.Pending() == 0 })
	time.Sleep(2 * time.Second)

	posts := am.all()
	_, fromA := a.Counts()
	t.Logf("alerts posted, in order: %v; A flushed %d detections", posts, fromA)
	if len(posts) == 0 || posts[len(posts)-1] != "b resolved" {
		t.Errorf("the last post is not B's resolution: Alertmanager shows the resolved alert firing")
	}
	if fromA != 0 {
		t.Errorf("A flushed %d detections after B owned the partition, want none", fromA)
	}
}
