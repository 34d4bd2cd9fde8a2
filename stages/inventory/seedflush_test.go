package inventory

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSeedFlushNumbersAbove: a stage seeded with the largest flush number
// in its topic, an hour ahead of its clock (the stage before it ran with
// the clock ahead), numbers its next flush above it; FlushNumber reads a
// record's number, 0 without one. Before, a restarted stage numbered its
// flushes by its clock alone, below the unfinished flush of the one
// before, and a follower could wait for that flush to end.
func TestSeedFlushNumbersAbove(t *testing.T) {
	inv, _ := fleet(4, 2)
	f := newFixture(t, Fixed(inv), slog.New(slog.DiscardHandler))
	ahead := time.Now().Add(time.Hour).UnixNano()
	f.st.SeedFlush(ahead)
	if n, err := f.st.Flush(f.ctx); err != nil || n == 0 {
		t.Fatalf("flush: %d records, %v", n, err)
	}
	if f.st.flushSeq <= ahead {
		t.Errorf("the flush is numbered %d, not above the seeded %d", f.st.flushSeq, ahead)
	}
	r := &kgo.Record{Headers: []kgo.RecordHeader{{Key: flushHeader, Value: []byte(strconv.FormatInt(ahead, 10))}}}
	if got := FlushNumber(r); got != ahead {
		t.Errorf("FlushNumber = %d, want %d", got, ahead)
	}
	if got := FlushNumber(&kgo.Record{}); got != 0 {
		t.Errorf("FlushNumber of a record without the header = %d, want 0", got)
	}
}
