package parquet

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestLongTopicNameRefusedAtAdd hands the Writer a message of a valid
// Kafka topic name (up to 249 characters) too long to make a file name of
// (at most 255 bytes with the temporary name's prefix and suffix): Add must
// refuse it, saying so, or Flush must write it. Before, Add took it and
// every Flush failed with "file name too long", which the runner retries
// for ever with consumption paused.
func TestLongTopicNameRefusedAtAdd(t *testing.T) {
	w := newWriter(t, Config{Root: t.TempDir()})
	long := strings.Repeat("t", 230)
	rec := record(t, memory.DefaultAllocator, mixed(t0))
	defer rec.Release()
	if err := w.Add(long, 0, 0, rec); err != nil {
		if !strings.Contains(err.Error(), "too long") {
			t.Fatalf("Add refused the topic without saying why: %v", err)
		}
		return
	}
	if _, err := w.Flush(context.Background()); err != nil {
		t.Fatalf("Add took the message, and Flush cannot write it: %v", err)
	}
}

// TestLongestTopicNameWritten checks the bound of
// TestLongTopicNameRefusedAtAdd: the longest topic name Add takes for
// partition 0 (189 characters: its temporary file names with offsets of
// 19 digits fill 255 bytes) is written at the largest offset, and one
// more character is refused. Before, every length up to 249 was taken,
// and names from about 190 on were never written.
func TestLongestTopicNameWritten(t *testing.T) {
	w := newWriter(t, Config{Root: t.TempDir()})
	rec := record(t, memory.DefaultAllocator, mixed(t0))
	defer rec.Release()
	if err := w.Add(strings.Repeat("t", 190), 0, 0, rec); err == nil || !strings.Contains(err.Error(), "at most 189") {
		t.Fatalf("Add of a 190-character topic = %v, want it refused naming 189", err)
	}
	if err := w.Add(strings.Repeat("t", 189), 0, math.MaxInt64, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}
