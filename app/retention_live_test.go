package app

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/kafka"
)

// TestTrimKeepsLiveView checks that the embedded broker's retention keeps
// the records the live view has not read yet, though every stage reading
// the topic committed them. Before, they were deleted: the view's reader
// found its position gone, went on from the new start, and the view and
// the run's summary (which counts what the view read) missed them.
func TestTrimKeepsLiveView(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "det"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	w, err := live.NewWatcher(ctx, live.Config{Kafka: kc, Detections: "det"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Records the view counts as decode errors: it reads every one.
	produce := func(n int) {
		t.Helper()
		for range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "det", Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(10)
	adm := kadm.NewClient(cl)
	if _, err := adm.CommitOffsets(ctx, "correlate", kadm.OffsetsFromRecords(kgo.Record{Topic: "det", Offset: 9})); err != nil {
		t.Fatal(err)
	}
	// The view has read nothing yet (Run has not started): it stands at
	// offset 0, where it started. The floor is the one run.go passes to
	// retainEmbedded.
	view := func(context.Context) (map[string]map[int32]int64, error) { return w.Positions(), nil }
	if got := w.Positions()["det"][0]; got != 0 {
		t.Fatalf("the view stands at %d, want 0", got)
	}
	if _, err := trimConsumed(ctx, adm, []consumer{{"correlate", "det"}}, view); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go w.Run(runCtx) //nolint:errcheck // nil once runCtx is done
	produce(1)
	if err := w.CatchUp(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if n := w.Snapshot().Errors; n != 11 {
		t.Errorf("the view read %d records, want all 11", n)
	}
}
