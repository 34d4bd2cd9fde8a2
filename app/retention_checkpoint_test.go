package app

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
)

// TestTrimKeepsCheckpointReplay checks that the embedded broker's
// retention keeps a transact stage's input since its last committed
// checkpoint (detect.transaction.checkpoint_interval set: a restore after
// an aborted transaction replays the input from the checkpoint's marker to
// the committed offset), trims a stage that checkpoints in every
// transaction (no marker) to its committed offsets, and ignores a marker
// of an aborted transaction. Before, records were deleted up to the
// committed offsets, past the checkpoint a restore replays from, so the
// restored state missed them ("the input since the partition's checkpoint
// was partly deleted by retention").
func TestTrimKeepsCheckpointReplay(t *testing.T) {
	cluster, cl, ctx := trimCluster(t, 2, "in", "in2")
	adm := kadm.NewClient(cl)
	for _, topic := range []string{"g-changelog", "h-changelog"} {
		if _, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, topic); err != nil {
			t.Fatal(err)
		}
	}
	for _, topic := range []string{"in", "in2"} {
		for p := int32(0); p < 2; p++ {
			for range 10 {
				if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte("v")}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// The changelogs as the transact runner writes them: each checkpoint
	// is a transaction of the changed state, then the markers.
	txn, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionalID("retention-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	write := func(commit kgo.TransactionEndTry, rs ...*kgo.Record) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := txn.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	state := func(topic string, p int32, v string) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: p, Key: []byte("n"), Value: []byte(v)}
	}
	marker := func(topic string, p int32, at uint64) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: p, Key: []byte(pipeline.CheckpointKey), Value: binary.BigEndian.AppendUint64(nil, at)}
	}
	// g checkpoints every interval: its last checkpoints stand at 5 and
	// 10; a later one at 8 was aborted.
	write(kgo.TryCommit, state("g-changelog", 0, "3"), state("g-changelog", 1, "3"), marker("g-changelog", 0, 3), marker("g-changelog", 1, 3))
	write(kgo.TryCommit, state("g-changelog", 0, "5"), state("g-changelog", 1, "10"), marker("g-changelog", 0, 5), marker("g-changelog", 1, 10))
	write(kgo.TryAbort, state("g-changelog", 0, "8"), marker("g-changelog", 0, 8))
	// h checkpoints in every transaction: no markers.
	write(kgo.TryCommit, state("h-changelog", 0, "7"), state("h-changelog", 1, "9"))
	cluster.Compact()

	commit := func(group, topic string, offs map[int32]int64) {
		t.Helper()
		var o kadm.Offsets
		for p, at := range offs {
			o.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
		}
		if _, err := adm.CommitOffsets(ctx, group, o); err != nil {
			t.Fatal(err)
		}
	}
	commit("g", "in", map[int32]int64{0: 10, 1: 10})
	commit("h", "in2", map[int32]int64{0: 7, 1: 9})
	reader, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	cs := []consumer{{"g", "in"}, {"h", "in2"}}
	if _, err := trimConsumed(ctx, adm, cs, checkpoints(reader, cs)); err != nil {
		t.Fatal(err)
	}
	starts, err := adm.ListStartOffsets(ctx, "in", "in2")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[int32]int64{"in": {0: 5, 1: 10}, "in2": {0: 7, 1: 9}}
	starts.Each(func(o kadm.ListedOffset) {
		if o.Offset != want[o.Topic][o.Partition] {
			t.Errorf("%s/%d starts at %d, want %d", o.Topic, o.Partition, o.Offset, want[o.Topic][o.Partition])
		}
	})
}
