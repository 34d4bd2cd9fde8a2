package parquet

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// TestIntegrationTopicRecreated runs the Parquet stage on the real Kafka
// over a topic that is deleted and recreated under the same name between
// two runs, with samples in the same hour. Kafka drops the group's offsets
// of a deleted topic, so the second run reads the new topic from offset 0
// and its files have the names of the first run's committed files. Before,
// those were taken for files of an uncommitted flush and replaced ("removed
// a file of an uncommitted earlier flush", logged at INFO): the lake held
// 160 of the 320 rows produced. Now the first run's files are kept under
// another name and the lake holds every row once.
func TestIntegrationTopicRecreated(t *testing.T) {
	kc, cl := sinktest.Kafka(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	topic := sinktest.Topic(t, cl, "tk-test-pqrecreate-", 2)
	group := sinktest.Name("tk-test-pqrecreate-")
	root := t.TempDir()
	recs, want := counterFleet(mem, 8, 4, 10) // 320 rows in 80 messages, all in hour 10
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	log, _ := sinktest.NewLog(t)
	drain := func() {
		t.Helper()
		w, err := New(Config{Root: root}, WithLogger(log))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pipeline.NewRunner(context.Background(), kc, pipeline.RunnerConfig{
			Name: "parquet", Group: group, Topics: []string{topic}, FlushRows: 1 << 20, FlushInterval: 200 * time.Millisecond,
		}, NewStage(w, mem), pipeline.NewMetrics(prometheus.NewRegistry()), log)
		if err != nil {
			t.Fatal(err)
		}
		sinktest.Drain(t, r, 30*time.Second)
	}
	half := len(recs) / 2
	sinktest.ProduceSamples(t, cl, topic, recs[:half])
	drain()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).DeleteTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	// The deletion completes in the background: retry the creation.
	for {
		err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: 2})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("cannot recreate %s: %v", topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, cl2 := sinktest.Kafka(t) // cl knows the deleted topic's ID
	sinktest.ProduceSamples(t, cl2, topic, recs[half:])
	drain()

	t.Logf("lake:\n%s", strings.Join(lake(t, root), "\n"))
	var got []string
	for _, rel := range lake(t, root) {
		for _, s := range read(t, filepath.Join(root, rel)) {
			got = append(got, s.Device+"/"+s.Keys+"/"+time.Unix(0, s.TS).UTC().Format(time.RFC3339Nano))
		}
	}
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
	}
	missing, twice := 0, 0
	for _, s := range want {
		switch seen[s.Device+"/"+s.Keys+"/"+time.Unix(0, s.TS).UTC().Format(time.RFC3339Nano)] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	if missing > 0 || twice > 0 || len(got) != len(want) {
		t.Errorf("the lake holds %d rows, want %d: %d rows produced are missing, %d are there more than once", len(got), len(want), missing, twice)
	}
}

// runTimed is run with AddTimed: message off of either partition holds
// msg(off) and has the Kafka timestamp stamp(off).
func runTimed(t *testing.T, w *Writer, from, to int64, msg func(off int64) []schemas.Sample, stamp func(off int64) time.Time, flushAt ...int64) {
	t.Helper()
	for off := from; off <= to; off++ {
		for p := range int32(2) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			rec := record(t, mem, msg(off))
			if err := w.AddTimed(topic, p, off, stamp(off), rec); err != nil {
				t.Fatalf("AddTimed(%d, %d): %v", p, off, err)
			}
			rec.Release()
			mem.AssertSize(t, 0)
		}
		if slices.Contains(flushAt, off) || off == to {
			flush(t, w)
		}
	}
}

// shifted is message with the rows of hour 11 in the messages after
// message's: every third from offset 1.
func shifted(off int64) []schemas.Sample {
	if off == 0 {
		return mixed(t0)
	}
	return message(off - 1)
}

// TestRecreatedTopicFilesKept: a topic's files of offsets 0-9 are
// committed; the topic is deleted and recreated, and its new messages 0-9
// are written in two flushes (0-1, 2-9), whose files overlap the old ones
// without having their names. The old hour-11 file starts at offset 1,
// whose new message has no rows of hour 11: the first flush to overlap it
// is the second, which no longer holds message 1. The old files must stay
// whole, out of the way of later flushes, and a re-delivery of the new
// messages from 2 (the second flush was not committed) still replaces the
// files it overlaps. Before, the flushes removed the old files that their
// offsets overlap as files of an uncommitted flush, losing their rows.
func TestRecreatedTopicFilesKept(t *testing.T) {
	root := t.TempDir()
	rows := func(msg func(int64) []schemas.Sample, from, to int64) int64 {
		var n int64
		for off := from; off <= to; off++ {
			n += 2 * int64(len(msg(off)))
		}
		return n
	}
	before := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	after := before.Add(72 * time.Hour)
	stampOf := func(base time.Time) func(int64) time.Time {
		return func(off int64) time.Time { return base.Add(time.Duration(off) * time.Millisecond) }
	}
	runTimed(t, newWriter(t, Config{Root: root}), 0, 9, shifted, stampOf(before))
	old := lake(t, root)

	runTimed(t, newWriter(t, Config{Root: root}), 0, 9, message, stampOf(after), 1)
	want := rows(shifted, 0, 9) + rows(message, 0, 9)
	if n, err := CountRows(root); err != nil || n != want {
		t.Fatalf("after the recreated topic's flushes: %d rows (%v), want %d; files:\n%s", n, err, want, strings.Join(lake(t, root), "\n"))
	}
	var kept []string
	for _, rel := range lake(t, root) {
		if strings.Contains(rel, ".ts") {
			kept = append(kept, rel)
			fi, err := ReadFileInfo(filepath.Join(root, rel))
			if err != nil || !fi.FirstTime.Equal(stampOf(before)(fi.FirstOffset)) {
				t.Errorf("%s: FirstTime %v (%v), want %v", rel, fi.FirstTime, err, stampOf(before)(fi.FirstOffset))
			}
		}
	}
	if len(kept) != len(old) {
		t.Errorf("kept %d of the %d old files under another name: %v", len(kept), len(old), kept)
	}

	w := newWriter(t, Config{Root: root})
	runTimed(t, w, 2, 11, message, stampOf(after), 6)
	want = rows(shifted, 0, 9) + rows(message, 0, 11)
	if n, err := CountRows(root); err != nil || n != want {
		t.Errorf("after the re-delivery: %d rows (%v), want %d; files:\n%s", n, err, want, strings.Join(lake(t, root), "\n"))
	}
	if w.Stats().Replaced == 0 {
		t.Errorf("the re-delivery replaced no file: the test does not exercise overlaps")
	}
}

// TestZombieFileKeptNotLost: member A buffers offsets 0-9 of both
// partitions and loses them while its flush runs (a flush past the
// rebalance timeout); member B re-reads from 0, writes and commits 0-4;
// A's flush then writes 0-9, replacing B's files, and A's commit fails; B
// goes on with 5-11. Before, B's flush removed A's files of 0-9 as files of
// an uncommitted flush, and the rows of 0-4, which B had committed, were
// gone. Now A's files are kept: rows of 5-9 are in two files, none is lost.
func TestZombieFileKeptNotLost(t *testing.T) {
	root := t.TempDir()
	stamp := func(off int64) time.Time { return time.UnixMilli(1_795_000_000_000 + off) }
	a := newWriter(t, Config{Root: root})
	for off := int64(0); off <= 9; off++ {
		for p := range int32(2) {
			rec := record(t, memory.DefaultAllocator, message(off))
			if err := a.AddTimed(topic, p, off, stamp(off), rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
		}
	}
	b := newWriter(t, Config{Root: root})
	runTimed(t, b, 0, 4, message, stamp)
	flush(t, a)
	runTimed(t, b, 5, 11, message, stamp)

	missingRows(t, root, 11)
}
