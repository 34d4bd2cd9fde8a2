package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// failedPoll is a poll that returned err for topic's partition p.
func failedPoll(topic string, p int32, err error) kgo.Fetches {
	return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: topic, Partitions: []kgo.FetchPartition{{Partition: p, Err: err}}}}}}
}

// TestFetchErrorsLoggedOnce: one fetch error returned by every poll is
// logged once, then every fetchErrorEvery with the polls since; another
// partition's or another error is logged at once, and an error back after
// a while without it is logged as new. A poll's timeout is no error.
func TestFetchErrorsLoggedOnce(t *testing.T) {
	logs := &testenv.LogBuffer{}
	f := newFetchErrors(slog.New(slog.NewTextHandler(logs, nil)))
	now := time.Unix(1_800_000_000, 0)
	f.now = func() time.Time { return now }
	gone := errors.New("UNKNOWN_TOPIC_ID: This server does not host this topic ID.")
	poll := func(n int, p int32, err error, every time.Duration) {
		for range n {
			if got := f.report(failedPoll("in", p, err)); got != 1 {
				t.Fatalf("report counted %d errors, want 1", got)
			}
			now = now.Add(every)
		}
	}
	lines := func() []string { return strings.Split(strings.TrimSpace(logs.String()), "\n") }

	poll(3000, 0, gone, time.Millisecond) // 3 s of a deleted topic
	if l := lines(); len(l) != 1 || !strings.Contains(l[0], `msg="fetch error"`) || !strings.Contains(l[0], "UNKNOWN_TOPIC_ID") {
		t.Fatalf("3000 polls of one error logged:\n%s\nwant one WARN line", logs.String())
	}
	// Then a poll a second: the 28th is 30 s after the first line.
	poll(28, 0, gone, time.Second)
	if l := lines(); len(l) != 2 || !strings.Contains(l[1], `msg="fetch error, still"`) || !strings.Contains(l[1], "polls_since_logged=3027") {
		t.Fatalf("the error lasting %v logged:\n%s\nwant a second line with the 3027 polls since the first", fetchErrorEvery, logs.String())
	}
	poll(1, 1, gone, 0)
	poll(1, 0, errors.New("NOT_LEADER_OR_FOLLOWER"), 0)
	if n := len(lines()); n != 4 {
		t.Fatalf("another partition's and another error logged %d lines in all, want 4:\n%s", n, logs.String())
	}
	now = now.Add(2 * fetchErrorEvery)
	poll(1, 1, gone, 0)
	if l := lines(); len(l) != 5 || !strings.Contains(l[4], `msg="fetch error"`) {
		t.Fatalf("an error back after %v without it:\n%s\nwant it logged as new", 2*fetchErrorEvery, logs.String())
	}
	if n := f.report(failedPoll("in", 0, context.DeadlineExceeded)); n != 0 || len(lines()) != 5 {
		t.Errorf("a poll's timeout: counted %d, logged:\n%s", n, logs.String())
	}
}

// anySink takes any record and flushes nothing anywhere.
type anySink struct{ pending atomic.Int64 }

func (s *anySink) Add(context.Context, *kgo.Record) error { s.pending.Add(1); return nil }
func (s *anySink) Flush(context.Context) (int, error)     { return int(s.pending.Swap(0)), nil }
func (s *anySink) Pending() int                           { return int(s.pending.Load()) }

// TestIntegrationTopicRecreatedUnderRunner deletes the input topic of a
// running stage on the real Kafka, creates it again and writes to it: the
// stage reads nothing of the new topic (its position is past the new end)
// until restarted. Before, it said nothing of it; now one ERROR line names
// the partition, its end and the stage's position, and what to do.
func TestIntegrationTopicRecreatedUnderRunner(t *testing.T) {
	ctx, kc, id, _ := transactInput(t, 3)
	logs := &testenv.LogBuffer{}
	r, err := NewRunner(ctx, kc, RunnerConfig{Name: "s", Group: id, Topics: []string{id}, FlushInterval: 100 * time.Millisecond},
		&anySink{}, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()
	for deadline := time.Now().Add(30 * time.Second); r.Stats().Records < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the runner read %d of 3 records in 30 s:\n%s", r.Stats().Records, logs.String())
		}
	}
	cl := testClient(t, ctx, kc)
	if _, err := kadm.NewClient(cl).DeleteTopics(ctx, id); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: id, Partitions: 1})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cannot create %s again: %v", id, err)
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: id, Value: []byte("y")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := `msg="an input partition ends before the offset this stage reached on it`
	for deadline := time.Now().Add(6 * lagInterval); !strings.Contains(logs.String(), want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no ERROR within %v of the topic recreated:\n%.3000s", 6*lagInterval, logs.String())
		}
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, want) {
			line = l
		}
	}
	for _, f := range []string{"level=ERROR", "topic=" + id, "partition=0", "end_offset=1", "position=3"} {
		if !strings.Contains(line, f) {
			t.Errorf("the line lacks %s: %s", f, line)
		}
	}
	// Once: the next samples of the lag do not log it again.
	time.Sleep(lagInterval + time.Second)
	if n := strings.Count(logs.String(), want); n != 1 {
		t.Errorf("logged %d times, want once while it lasts", n)
	}
}
