package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
)

// stoppedStage is a stage that stops at once, committing nothing.
type stoppedStage struct{ end map[string]map[int32]int64 }

func (s *stoppedStage) Run(context.Context) error              { return nil }
func (s *stoppedStage) DrainTo(end map[string]map[int32]int64) { s.end = end }
func (s *stoppedStage) Stats() pipeline.Stats                  { return pipeline.Stats{} }

// TestDrainReportsStagesBehind checks run's drain verdict against the
// groups' committed offsets: a stage whose group committed the end of its
// own input topic is drained; one that stopped short is named with how far
// behind it is, and each is judged against its own topic.
func TestDrainReportsStagesBehind(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(3, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kafka.Connect(ctx, kafka.Config{Brokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 12 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "a", Partition: int32(i % 3), Value: []byte("x")},
			&kgo.Record{Topic: "b", Value: []byte("y")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// Group ga committed the end of a; gb committed nothing of b.
	endA, err := pipeline.EndOffsets(ctx, cl, "a")
	if err != nil {
		t.Fatal(err)
	}
	offs := kadm.Offsets{}
	for p, o := range endA["a"] {
		offs.AddOffset("a", p, o, -1)
	}
	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, "ga", offs); err != nil {
		t.Fatal(err)
	}
	stages := []stage{
		{name: "sa", st: &stoppedStage{}, group: "ga", topic: "a"},
		{name: "sb", st: &stoppedStage{}, group: "gb", topic: "b"},
	}
	done := map[string]chan struct{}{"sa": make(chan struct{}), "sb": make(chan struct{})}
	close(done["sa"])
	close(done["sb"])

	v := verdict{timeout: drainTimeout}
	err = drain(ctx, cl, stages[:1], done, v)
	if err != nil {
		t.Errorf("stage sa committed the end of a, drain says: %v", err)
	}
	err = drain(ctx, cl, stages, done, v)
	if err == nil {
		t.Fatal("drain says ok with stage sb 12 records behind")
	}
	if msg := err.Error(); strings.Contains(msg, "stage sa") || !strings.Contains(msg, "stage sb did not drain b (it stopped early): 12 records behind on") ||
		!strings.HasSuffix(msg, "; what its final flush does not commit is re-read on the next start") {
		t.Errorf("drain error %q does not name sb alone with its lag, re-read on the next start", msg)
	}
	// On the embedded broker the records are gone with the process. (A
	// deadline shortens the wait for commits to show to 100 ms.)
	v.embedded = true
	short, cancelShort := context.WithTimeout(ctx, checkReserve+100*time.Millisecond)
	defer cancelShort()
	if err := drain(short, cl, stages, done, v); err == nil || strings.Contains(err.Error(), "re-read") ||
		!strings.HasSuffix(err.Error(), "; what its final flush does not commit is lost: the embedded broker keeps it in memory only") {
		t.Errorf("drain error on the embedded broker %q does not say the records are lost", err)
	}
	if got := stages[1].st.(*stoppedStage).end; got["b"] == nil || got["a"] != nil {
		t.Errorf("stage sb was told to drain %v, not the end of its own topic b", got)
	}
}
