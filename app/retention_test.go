package app

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTrimConsumed checks the embedded broker's retention: records below
// the lowest offset the groups reading a topic have committed are deleted;
// a partition one of them has not committed on, and a topic no group
// reads, keep everything.
func TestTrimConsumed(t *testing.T) {
	_, cl, ctx := trimCluster(t, 2, "in", "other")
	for _, topic := range []string{"in", "other"} {
		for p := int32(0); p < 2; p++ {
			for i := 0; i < 10; i++ {
				if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte("v")}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	adm := kadm.NewClient(cl)
	commit := func(group string, offs map[int32]int64) {
		var o kadm.Offsets
		for p, at := range offs {
			o.Add(kadm.Offset{Topic: "in", Partition: p, At: at, LeaderEpoch: -1})
		}
		if _, err := adm.CommitOffsets(ctx, group, o); err != nil {
			t.Fatal(err)
		}
	}
	commit("a", map[int32]int64{0: 7, 1: 9})
	commit("b", map[int32]int64{0: 4}) // nothing on partition 1 yet
	n, err := trimConsumed(ctx, adm, []consumer{{"a", "in"}, {"b", "in"}})
	if err != nil {
		t.Fatal(err)
	}
	starts, err := adm.ListStartOffsets(ctx, "in", "other")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[int32]int64{"in": {0: 4, 1: 0}, "other": {0: 0, 1: 0}}
	starts.Each(func(o kadm.ListedOffset) {
		if o.Offset != want[o.Topic][o.Partition] {
			t.Errorf("%s/%d starts at %d, want %d", o.Topic, o.Partition, o.Offset, want[o.Topic][o.Partition])
		}
	})
	if n != 1 {
		t.Errorf("trimmed %d partitions, want 1", n)
	}
}

// trimCluster starts an in-process broker with topics of partitions each
// and returns it with a client that produces to the partition a record
// names, and a context for the test; all end with the test.
func trimCluster(t *testing.T, partitions int32, topics ...string) (*kfake.Cluster, *kgo.Client, context.Context) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(partitions, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cluster, cl, ctx
}
