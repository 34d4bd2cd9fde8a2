package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// restoreProc records what a restore does to a processor: the partitions
// dropped, in order, and the changelog records restored per partition.
type restoreProc struct {
	dropped  []int32
	restored map[int32][]string
}

func (p *restoreProc) Process(context.Context, *kgo.Record, func(*kgo.Record)) error { return nil }
func (p *restoreProc) Checkpoint(func(int32, []byte, []byte))                        {}
func (p *restoreProc) Committed(int)                                                 {}
func (p *restoreProc) Drop(partition int32)                                          { p.dropped = append(p.dropped, partition) }
func (p *restoreProc) Restore(partition int32, key, _ []byte) error {
	p.restored[partition] = append(p.restored[partition], string(key))
	return nil
}

// restoreFetches is a poll that returned records of partitions 1, 0 and 1
// of topic "in" (a partition may come twice, from two brokers' responses),
// and none of partition 2 (a partition with an error, say).
func restoreFetches() kgo.Fetches {
	recs := []*kgo.Record{{Offset: 0}}
	return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "in", Partitions: []kgo.FetchPartition{
		{Partition: 1, Records: recs}, {Partition: 0, Records: recs}, {Partition: 2}, {Partition: 1, Records: recs}}}}}}
}

// newRestoreRunner returns a runner with only what restoreNew uses: the
// changelog "cl", a reader on brokers, and p.
func newRestoreRunner(t *testing.T, brokers []string, p Processor) *TransactRunner {
	t.Helper()
	reader, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RetryTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reader.Close)
	return &TransactRunner{cfg: TransactConfig{Name: "s", Changelog: "cl"}, reader: reader, proc: p,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), restored: map[int32]bool{}, marked: map[int32]bool{}}
}

// TestRestoreNewOnceEach: every partition of a poll not yet restored is
// restored once, from one listing of the changelog's end offsets, with the
// records before that end; a partition already restored is left alone.
func TestRestoreNewOnceEach(t *testing.T) {
	cluster := newCluster(t, 2, "in", "cl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for _, r := range []*kgo.Record{{Partition: 0, Key: []byte("a")}, {Partition: 1, Key: []byte("b")}, {Partition: 1, Key: []byte("c")}} {
		r.Topic = "cl"
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	p := &restoreProc{restored: map[int32][]string{}}
	tr := newRestoreRunner(t, cluster.ListenAddrs(), p)
	if err := tr.restoreNew(ctx, restoreFetches(), nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.dropped, []int32{1, 0}) {
		t.Errorf("dropped %v before restoring, want [1 0] (each partition once)", p.dropped)
	}
	if got := p.restored; !slices.Equal(got[0], []string{"a"}) || !slices.Equal(got[1], []string{"b", "c"}) {
		t.Errorf("restored %v, want partition 0 [a] and 1 [b c]", got)
	}
	if !tr.restored[0] || !tr.restored[1] {
		t.Errorf("restored partitions %v, want 0 and 1", tr.restored)
	}
	p.dropped = nil
	if err := tr.restoreNew(ctx, restoreFetches(), nil); err != nil || p.dropped != nil {
		t.Errorf("a second poll of restored partitions: err %v, dropped %v; want nothing done", err, p.dropped)
	}
}

// TestRestoreNewListingFails: when the changelog's end offsets cannot be
// listed, restoreNew drops every partition it was to restore, marks none
// restored, and its error names them.
func TestRestoreNewListingFails(t *testing.T) {
	cluster := newCluster(t, 2, "in", "cl")
	p := &restoreProc{restored: map[int32][]string{}}
	tr := newRestoreRunner(t, cluster.ListenAddrs(), p)
	cluster.Close() // the broker goes away before the listing
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := tr.restoreNew(ctx, restoreFetches(), nil)
	if err == nil || !strings.Contains(err.Error(), "s: restore partitions [1 0]: ") {
		t.Fatalf("err = %v, want one naming partitions [1 0]", err)
	}
	if !slices.Equal(p.dropped, []int32{1, 0}) {
		t.Errorf("dropped %v, want [1 0]", p.dropped)
	}
	if len(tr.restored) != 0 || len(p.restored) != 0 {
		t.Errorf("restored %v (records %v) after a failed listing, want none", tr.restored, p.restored)
	}
}

// TestRestoreAfterOpenTransaction: on a real Kafka, a changelog holding a
// committed record, then a transaction left open (a process killed
// mid-transaction; the broker aborts it after its 2s timeout), then a
// transaction committed after it (the partition's next owner's) restores
// both committed records: the restore waits for the open transaction to
// end rather than stopping at the last stable offset before it.
func TestRestoreAfterOpenTransaction(t *testing.T) {
	ctx, kc, id, end := transactInput(t, 20)
	changelog := id + "-changelog"
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: changelog, Partitions: 1, Compacted: true}); err != nil {
		t.Fatal(err)
	}
	write := func(txnID, key string, commit bool) {
		p, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.TransactionalID(txnID), kgo.TransactionTimeout(2*time.Second),
			kgo.DefaultProduceTopic(changelog))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := p.ProduceSync(ctx, &kgo.Record{Key: []byte(key), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if !commit {
			t.Cleanup(p.Close) // left open: the broker aborts it
			return
		}
		if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
	write(id+"-a", "a", true)
	write(id+"-b", "b", false)
	write(id+"-c", "c", true)

	p := &restoreProc{restored: map[int32][]string{}}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "restore", Group: id, Input: id, DeadLetterTopic: id + ".dlq"}, p,
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := p.restored[0]; !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("restored %v, want [a c]: both committed records, not the aborted one", got)
	}
}

// badRestoreProc is a restoreProc that cannot read the changelog's
// records (written by a release that encodes state differently, say).
type badRestoreProc struct{ restoreProc }

func (p *badRestoreProc) Restore(int32, []byte, []byte) error {
	return errors.New("state encoding version 9 is not supported")
}

// TestRestoreBadChangelogSaysWhatToDo: a changelog record the processor
// cannot restore stops the stage, on every restart: the error names the
// record (topic, partition, offset) and says how to get past it. It said
// only "bad changelog record".
func TestRestoreBadChangelogSaysWhatToDo(t *testing.T) {
	cluster := newCluster(t, 2, "in", "cl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "cl", Partition: 1, Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	tr := newRestoreRunner(t, cluster.ListenAddrs(), &badRestoreProc{restoreProc{restored: map[int32][]string{}}})
	err = tr.restoreNew(ctx, restoreFetches(), nil)
	if !errors.Is(err, errBadChangelog) {
		t.Fatalf("err = %v, want a bad changelog record", err)
	}
	for _, want := range []string{"cl/1@0", "version 9", "delete the changelog topic cl"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestRestoreChangelogShort: partitions were added to the input after the
// changelog was made (the runner checks the counts only as it starts), so
// a partition the group now assigns has no changelog partition. Before,
// the restore failed with "no end offset for cl (<nil>)", retried for
// ever; now its error says what is wrong and what to do (the retries go
// on, and get past it once the changelog has the partition).
func TestRestoreChangelogShort(t *testing.T) {
	cluster := newCluster(t, 2, "cl")
	p := &restoreProc{restored: map[int32][]string{}}
	tr := newRestoreRunner(t, cluster.ListenAddrs(), p)
	tr.cfg.Input = "in"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fetches := kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "in", Partitions: []kgo.FetchPartition{{Partition: 2, Records: []*kgo.Record{{Offset: 0}}}}}}}}
	err := tr.restoreNew(ctx, fetches, nil)
	want := "s: restore partition 2: changelog cl has no partition 2: partitions were added to input in since the changelog was made; add as many to cl (it must have as many as in)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestRestoreChangelogGone: the changelog topic is not there at all
// (deleted under the running stage, or never created on this cluster), so
// its listing holds only the topic's error. Before, the restore said the
// changelog had no partition 1 because partitions were added to the input
// since it was made, and to add as many to it: a wrong cause and a wrong
// fix; now it says it has no end offset for the changelog, with the
// broker's error.
func TestRestoreChangelogGone(t *testing.T) {
	cluster := newCluster(t, 2, "in")
	p := &restoreProc{restored: map[int32][]string{}}
	tr := newRestoreRunner(t, cluster.ListenAddrs(), p)
	tr.cfg.Input = "in"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fetches := kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "in", Partitions: []kgo.FetchPartition{{Partition: 1, Records: []*kgo.Record{{Offset: 0}}}}}}}}
	err := tr.restoreNew(ctx, fetches, nil)
	if err == nil || strings.Contains(err.Error(), "partitions were added") || !errors.Is(err, kerr.UnknownTopicOrPartition) ||
		!strings.HasPrefix(err.Error(), "s: restore partition 1: no end offset for changelog cl: ") {
		t.Errorf("err = %v, want it to say there is no end offset for changelog cl, with UNKNOWN_TOPIC_OR_PARTITION", err)
	}
}
