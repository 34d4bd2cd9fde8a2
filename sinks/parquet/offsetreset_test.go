package parquet

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestCommittedRowsKeptWhenOffsetsGoBack is a restart whose group offsets
// went back to a point inside a committed file: the group's offsets
// expired (offsets.retention.minutes) or were reset to the earliest, after
// the topic's retention had deleted its head, so the re-read starts at
// offset 5 while a committed file holds offsets 0-9. Every row of offsets
// 0-4, which nobody can read again, must stay in the lake (rows of 5-9 may
// then be in two files). Before, the file of 0-9 was taken for an
// uncommitted flush that the re-read overlaps and removed, and the rows of
// offsets 0-4 were gone from the lake for good.
func TestCommittedRowsKeptWhenOffsetsGoBack(t *testing.T) {
	root := t.TempDir()
	run(t, newWriter(t, Config{Root: root}), 0, 9) // flushed and committed
	w := newWriter(t, Config{Root: root})
	run(t, w, 5, 12, 7) // the restart reads from the topic's new start

	missingRows(t, root, 12)
}

// sampleRecord returns a Kafka record of the samples in ss, as a collector
// produces it, read from topic's partition at offset with Kafka timestamp
// at.
func sampleRecord(t *testing.T, partition int32, offset int64, at time.Time, ss []schemas.Sample) *kgo.Record {
	t.Helper()
	rec := record(t, memory.DefaultAllocator, ss)
	defer rec.Release()
	v, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	var hs []kgo.RecordHeader
	for _, h := range schemas.SamplesHeaders() {
		hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return &kgo.Record{Topic: topic, Partition: partition, Offset: offset, Timestamp: at, Value: v, Headers: hs}
}

// TestStageTruncatedLogKeepsEarlierRows: the Stage buffered offsets 0-9 of
// a partition when the client reads it again from offset 5, as after Kafka
// truncated the partition's log at a leader change (the client resets to
// the new leader's end offset, and offsets 5 and on hold other messages).
// Before, Add dropped every buffered row of the partition, and the rows of
// offsets 0-4, which Kafka still has and no one reads again, never reached
// the lake though their offsets were committed. Now only the rows of 5-9
// are dropped.
func TestStageTruncatedLogKeepsEarlierRows(t *testing.T) {
	w := newWriter(t, Config{})
	st := NewStage(w, memory.DefaultAllocator)
	at := time.UnixMilli(1_795_000_000_000)
	for off := int64(0); off <= 9; off++ {
		if err := st.Add(context.Background(), sampleRecord(t, 0, off, at.Add(time.Duration(off)*time.Millisecond), message(off))); err != nil {
			t.Fatal(err)
		}
	}
	other := func(off int64) []schemas.Sample { return message(off + 100) }
	for off := int64(5); off <= 12; off++ {
		if err := st.Add(context.Background(), sampleRecord(t, 0, off, at.Add(time.Second+time.Duration(off)*time.Millisecond), other(off))); err != nil {
			t.Fatal(err)
		}
	}
	var wantRows []schemas.Sample
	for off := int64(0); off <= 4; off++ {
		wantRows = append(wantRows, message(off)...)
	}
	for off := int64(5); off <= 12; off++ {
		wantRows = append(wantRows, other(off)...)
	}
	if n := w.BufferedRows(); n != len(wantRows) {
		t.Errorf("BufferedRows = %d, want %d", n, len(wantRows))
	}
	var got []schemas.Sample
	for _, f := range flush(t, w) {
		got = append(got, read(t, f.Path)...)
		if f.FirstOffset != 0 {
			t.Errorf("%s: first offset %d, want 0", f.Path, f.FirstOffset)
		}
	}
	count := map[string]int{}
	for _, s := range want(wantRows, TimestampMicros) {
		count[fmt.Sprint(s)]++
	}
	for _, s := range got {
		count[fmt.Sprint(s)]--
	}
	for s, n := range count {
		if n != 0 {
			t.Errorf("row %s: %d more in the lake than wanted", s, -n)
		}
	}
}

// missingRows fails t when a row of message(0) to message(last), on both
// partitions, is in no file of the lake under root.
func missingRows(t *testing.T, root string, last int64) {
	t.Helper()
	have := map[string]bool{}
	for _, rel := range lake(t, root) {
		fi, err := ReadFileInfo(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range read(t, filepath.Join(root, rel)) {
			have[fmt.Sprint(fi.Partition, s)] = true
		}
	}
	missing := 0
	for off := int64(0); off <= last; off++ {
		for p := range int32(2) {
			for _, s := range want(message(off), TimestampMicros) {
				if !have[fmt.Sprint(p, s)] {
					missing++
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d rows of offsets 0-%d are not in the lake; files:\n%s", missing, last, strings.Join(lake(t, root), "\n"))
	}
}
