package app

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
)

// TestTrimWithoutChangelog: a group without a changelog topic (a sink, or
// a stage before its runner created one) is trimmed to its committed
// offsets and does not stop the trim of a stage whose last committed
// checkpoint, a large one (more records than checkpointWindow), holds its
// input back to the checkpoint's marker. Before, as now, it was so (kadm
// lists a missing topic with an error of its own, and the marker follows
// the checkpoint's state, inside the window read): this guards the case
// TestTrimAfterLargeAbortedCheckpoint builds on.
func TestTrimWithoutChangelog(t *testing.T) { trimAfterCheckpoint(t, false) }

// TestTrimAfterLargeAbortedCheckpoint: as TestTrimWithoutChangelog, with
// a later checkpoint of more records than checkpointWindow aborted (a
// rejected write, a fenced producer): the stage's input is still trimmed
// to its last committed checkpoint. Before, the window read held only the
// aborted records, which a read-committed reader skips, so the input was
// not trimmed at all until the next checkpoint committed.
func TestTrimAfterLargeAbortedCheckpoint(t *testing.T) { trimAfterCheckpoint(t, true) }

func trimAfterCheckpoint(t *testing.T, abortLarge bool) {
	cluster, cl, ctx := trimCluster(t, 1, "in", "out")
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, "g-changelog"); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"in", "out"} {
		for range 10 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	txn, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionalID("trim-after-checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var rs []*kgo.Record
	for i := range 3 * checkpointWindow {
		rs = append(rs, &kgo.Record{Topic: "g-changelog", Key: []byte{byte(i)}, Value: []byte("state")})
	}
	rs = append(rs, &kgo.Record{Topic: "g-changelog", Key: []byte(pipeline.CheckpointKey), Value: binary.BigEndian.AppendUint64(nil, 4)})
	if err := txn.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if abortLarge {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := txn.ProduceSync(ctx, rs[:len(rs)-1]...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
			t.Fatal(err)
		}
	}
	for group, topic := range map[string]string{"g": "in", "sink": "out"} {
		var o kadm.Offsets
		o.Add(kadm.Offset{Topic: topic, Partition: 0, At: 8, LeaderEpoch: -1})
		if _, err := adm.CommitOffsets(ctx, group, o); err != nil {
			t.Fatal(err)
		}
	}
	reader, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	cs := []consumer{{"g", "in"}, {"sink", "out"}}
	if _, err := trimConsumed(ctx, adm, cs, checkpoints(reader, cs)); err != nil {
		t.Fatal(err)
	}
	starts, err := adm.ListStartOffsets(ctx, "in", "out")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"in": 4, "out": 8}
	starts.Each(func(o kadm.ListedOffset) {
		if o.Offset != want[o.Topic] {
			t.Errorf("%s/%d starts at %d, want %d", o.Topic, o.Partition, o.Offset, want[o.Topic])
		}
	})
}
