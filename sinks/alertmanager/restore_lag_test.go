package alertmanager

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertstate"
)

// restoreAsOf restores s as app.newAlertmanager does at a restart: the
// alerts firing as the bridge's group (tk-alertmanager) has consumed
// tk.detections up to its committed offsets, from tk.alerts written by the
// alertstate stage's group (tk-alertstate) and the detections between the
// two groups' offsets (alertstate.LoadAsOf).
func restoreAsOf(ctx context.Context, t *testing.T, kc kafka.Config, s *Sink) {
	t.Helper()
	state, _, err := alertstate.LoadAsOf(ctx, kc, "tk.alerts", alertstate.AsOf{
		Detections: "tk.detections", StateGroup: "tk-alertstate", Group: "tk-alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	var seeds []*schemas.Detection
	for _, d := range state {
		if d.State == schemas.StateFiring {
			seeds = append(seeds, d)
		}
	}
	s.Restore(seeds...)
}

// TestRestoreFromLaggingAlertState: a restarted bridge seeds its firing
// alerts as its group has consumed tk.detections, then follows
// tk.detections from its group's committed offsets.
//
// tk.alerts is written by another consumer group (the alertstate stage,
// its own deployment in the sizing table), which can be behind the
// bridge: here it has written alert a's firing state but not yet its
// resolution, which the bridge already posted and committed before its
// restart. The restore applies the resolution (between the two groups'
// offsets), so the restarted bridge posts nothing and keeps nothing
// firing. Before, it restored tk.alerts alone: a firing, posted firing
// again and re-posted every resend_interval, a resolved alert firing for
// ever in Alertmanager.
func TestRestoreFromLaggingAlertState(t *testing.T) {
	ctx, kc, prod := lagCluster(t)
	const det, alerts = "tk.detections", "tk.alerts"
	firing := record(t, detection("a", schemas.StateFiring, schemas.SeverityWarning))
	resolved := record(t, detection("a", schemas.StateResolved, schemas.SeverityWarning))
	for _, r := range []*kgo.Record{firing, resolved} {
		r.Topic = det
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	// The alertstate stage has processed the firing detection only.
	as, err := alertstate.New(alertstate.Config{Topic: alerts}, prod)
	if err != nil {
		t.Fatal(err)
	}
	if err := as.Add(ctx, firing); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// ... and committed its offset in its group.
	var off kadm.Offsets
	off.AddOffset(det, 0, 1, -1)
	if _, err := kadm.NewClient(prod).CommitOffsets(ctx, "tk-alertstate", off); err != nil {
		t.Fatal(err)
	}

	am := newPostLog(t)
	runBridge := func(s *Sink, until func() bool) {
		t.Helper()
		r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: "alertmanager", Group: "tk-alertmanager", Topics: []string{det},
			DeadLetterTopic: det + ".dlq", FlushInterval: 100 * time.Millisecond},
			s, pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		waitFor(t, "the bridge", 40*time.Second, until)
		time.Sleep(300 * time.Millisecond) // a flush and commit after the posts
		stop()
		if err := <-done; err != nil {
			t.Fatalf("bridge run: %v", err)
		}
	}

	// First run of the bridge: posts a firing, then resolved, commits both.
	s1 := newSink(t, Config{URL: am.URL + "/run1"})
	runBridge(s1, func() bool { return len(am.all()) >= 2 })
	if got := am.all(); len(got) != 2 || got[1] != "run1 resolved" {
		t.Fatalf("first run posted %v, want [run1 firing run1 resolved]", got)
	}

	// Restart, as app.newAlertmanager does it.
	s2 := newSink(t, Config{URL: am.URL + "/run2"})
	restoreAsOf(ctx, t, kc, s2)
	if s2.Firing() != 0 {
		t.Errorf("restored %d firing alert(s), want none: a was resolved and committed", s2.Firing())
	}
	start, until := len(am.all()), time.Now().Add(8*time.Second)
	// Until it posts, or long enough to join, read and flush a few times.
	runBridge(s2, func() bool { return len(am.all()) > start || time.Now().After(until) })

	posts := am.all()
	t.Logf("posts in order: %v; the restarted bridge keeps %d alert(s) firing", posts, s2.Firing())
	if last := posts[len(posts)-1]; !strings.HasSuffix(last, " resolved") {
		t.Errorf("after the restart the bridge posted %q: alert a, resolved and committed before the restart, fires again in Alertmanager", last)
	}
	if s2.Firing() != 0 {
		t.Errorf("the restarted bridge keeps re-posting %d resolved alert(s) every resend_interval, for ever", s2.Firing())
	}
}

// TestRestoreMissesNoFiringAlert is the other side of the lag: the bridge
// posted alert a firing and committed; the alertstate stage had not
// consumed it (its group never committed) when the bridge restarted. The
// restore replays tk.detections up to the bridge's offset, so a is
// restored firing and re-posted. Before, the restarted bridge restored
// nothing and never read a's firing detection again: Alertmanager resolved
// a by its endsAt (4 x resend_interval) while it still fired.
func TestRestoreMissesNoFiringAlert(t *testing.T) {
	ctx, kc, prod := lagCluster(t)
	const det, alerts = "tk.detections", "tk.alerts"
	firing := record(t, detection("a", schemas.StateFiring, schemas.SeverityWarning))
	firing.Topic = det
	if err := prod.ProduceSync(ctx, firing).FirstErr(); err != nil {
		t.Fatal(err)
	}
	am := newPostLog(t)
	run := func(s *Sink, until func() bool) {
		t.Helper()
		r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: "alertmanager", Group: "tk-alertmanager", Topics: []string{det},
			DeadLetterTopic: det + ".dlq", FlushInterval: 100 * time.Millisecond},
			s, pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		waitFor(t, "the bridge", 40*time.Second, until)
		time.Sleep(300 * time.Millisecond)
		stop()
		if err := <-done; err != nil {
			t.Fatalf("bridge run: %v", err)
		}
	}
	s1 := newSink(t, Config{URL: am.URL + "/run1"})
	run(s1, func() bool { return len(am.all()) >= 1 })

	s2 := newSink(t, Config{URL: am.URL + "/run2"}) // alertstate has not written a yet
	restoreAsOf(ctx, t, kc, s2)
	until := time.Now().Add(3 * time.Second)
	run(s2, func() bool { return time.Now().After(until) })
	t.Logf("posts: %v", am.all())
	if posts := am.all(); posts[len(posts)-1] != "run2 firing" {
		t.Errorf("the restarted bridge's last post is %q, want \"run2 firing\"", posts[len(posts)-1])
	}
	if s2.Firing() != 1 {
		t.Errorf("the restarted bridge re-posts %d alerts, want 1: alert a still fires but expires in Alertmanager after 4 x resend_interval", s2.Firing())
	}
}

// lagCluster starts a kfake cluster with the detections topic (and its
// dead-letter topic) and the alerts topic of the restore tests, and
// returns a context bounding the test, the connection config and a
// producer; all end with the test.
func lagCluster(t *testing.T) (context.Context, kafka.Config, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	kc := kafka.Config{Brokers: c.ListenAddrs(), SessionTimeout: 6 * time.Second}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	const det, alerts = "tk.detections", "tk.alerts"
	if err := kafka.EnsureTopics(ctx, prod, kafka.TopicSpec{Name: det, Partitions: 1}, kafka.TopicSpec{Name: det + ".dlq", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if err := alertstate.EnsureTopic(ctx, prod, alerts, 1); err != nil {
		t.Fatal(err)
	}
	return ctx, kc, prod
}
