package alertstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestNoStaleStateAfterRebalance: a member whose alertstate sink is down
// for longer than the group's rebalance timeout loses the detections'
// partition to a member that joined; the new owner reads it from the
// committed offset and writes the alert's firing state, then its
// resolution. When the old member's sink is up again it must not write
// the firing state it held: the alerts topic is compacted on the
// fingerprint, so that late, older record would be the alert's latest
// state (firing, though it resolved) until the alert changes again. The
// runner tells the sink to drop a lost partition's rows
// (pipeline.PartitionDropper). On a real Kafka with TK_KAFKA set, else on
// kfake; it waits out the rebalance timeout (60s).
func TestNoStaleStateAfterRebalance(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a rebalance timeout")
	}
	broker := os.Getenv("TK_KAFKA")
	if broker == "" {
		c, err := kfake.NewCluster(kfake.Ports(0))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		testNoStaleStateAfterRebalance(t, c.ListenAddrs(), "tk")
		return
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	testNoStaleStateAfterRebalance(t, []string{broker}, "test-alertstate-"+hex.EncodeToString(b))
}

func testNoStaleStateAfterRebalance(t *testing.T, brokers []string, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: brokers, SessionTimeout: 6 * time.Second}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	det, topic := prefix+".detections", prefix+".alerts"
	if err := kafka.EnsureTopics(ctx, prod, kafka.TopicSpec{Name: det, Partitions: 1}, kafka.TopicSpec{Name: det + ".dlq", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopic(ctx, prod, topic, 1); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = kadm.NewClient(prod).DeleteTopics(context.Background(), det, det+".dlq", topic) }()
	produce := func(d *schemas.Detection) {
		r := record(t, d)
		r.Topic = det
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	newSink := func(up bool) *sinktest.DownSink {
		cl, err := kafka.Connect(ctx, kc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		s, err := New(Config{Topic: topic}, cl)
		if err != nil {
			t.Fatal(err)
		}
		return sinktest.NewDownSink(s, up)
	}
	newRunner := func(s pipeline.Sink) *pipeline.Runner {
		r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: "alertstate", Group: prefix + "-alertstate", Topics: []string{det}, DeadLetterTopic: det + ".dlq", FlushInterval: 100 * time.Millisecond},
			s, pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	firing := detection("a", schemas.StateFiring, schemas.SeverityWarning, 0)
	resolved := detection("a", schemas.StateResolved, schemas.SeverityWarning, 5)

	produce(firing)
	a := newSink(false)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); _ = newRunner(a).Run(ctx) }()
	waitFor(t, "A's flush to fail", 30*time.Second, func() bool { tries, _ := a.Counts(); return a.Pending() == 1 && tries > 0 })

	b := newSink(true)
	wg.Add(1)
	go func() { defer wg.Done(); _ = newRunner(b).Run(ctx) }()
	waitFor(t, "B to write the firing state", 2*time.Minute, func() bool { _, n := b.Counts(); return n == 1 })
	produce(resolved)
	waitFor(t, "B to write the resolution", 30*time.Second, func() bool { _, n := b.Counts(); return n == 2 })

	a.Up()
	waitFor(t, "A's sink to have nothing pending", 30*time.Second, func() bool { return a.Pending() == 0 })
	time.Sleep(2 * time.Second)

	var ids []string
	if err := kafka.ReadAll(ctx, kc, topic, func(r *kgo.Record) {
		d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.State+"@"+d.EventTime.Format("15:04"))
	}); err != nil {
		t.Fatal(err)
	}
	_, fromA := a.Counts()
	t.Logf("alerts topic, in order: %v; A wrote %d detections", ids, fromA)
	state, err := Load(ctx, kc, topic)
	if err != nil {
		t.Fatal(err)
	}
	if got := state[firing.Fingerprint]; got == nil || got.ID != resolved.ID {
		id := "none"
		if got != nil {
			id = got.ID
		}
		t.Errorf("latest state of the alert is %s, want its resolution %s", id, resolved.ID)
	}
	if fromA != 0 {
		t.Errorf("A wrote %d detections after B owned the partition, want none", fromA)
	}
}
