package publish

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"
)

// budget bounds the bytes of the records a Publisher holds from encoding
// until Kafka acknowledged them, to the client's MaxBufferedBytes: a
// record's bytes are taken before it is encoded, so while the broker is
// down the goroutines waiting in Publish hold their Arrow records but no
// encoded copy beyond the limit (the client's own limit only blocks once a
// record is encoded, one extra record per waiting goroutine). A nil budget
// (the client has no byte limit) never waits.
type budget struct {
	sem   *semaphore.Weighted
	limit int64
}

// newBudget returns the budget of cl's MaxBufferedBytes, nil if cl is nil
// or has none.
func newBudget(cl *kgo.Client) *budget {
	if cl == nil {
		return nil
	}
	limit, _ := cl.OptValue(kgo.MaxBufferedBytes).(int64)
	if limit <= 0 {
		return nil
	}
	return &budget{sem: semaphore.NewWeighted(limit), limit: limit}
}

// acquire waits until n bytes are free (n above the limit counts as the
// whole limit) and returns the bytes taken.
func (b *budget) acquire(ctx context.Context, n int64) (int64, error) {
	if b == nil {
		return 0, nil
	}
	n = min(n, b.limit)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return 0, err
	}
	return n, nil
}

// release frees n bytes taken by acquire.
func (b *budget) release(n int64) {
	if b != nil && n > 0 {
		b.sem.Release(n)
	}
}

// encodedBound returns an upper bound of the Arrow IPC stream size of rec
// (schema, dictionaries, record batch): its buffers, each padded, plus the
// messages' metadata.
func encodedBound(rec arrow.RecordBatch) int64 {
	n := int64(sizeFixed)
	var add func(d arrow.ArrayData)
	add = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len()) + 64
			}
		}
		for _, c := range d.Children() {
			add(c)
		}
		if d.DataType().ID() == arrow.DICTIONARY {
			n += 256 // a dictionary batch message's metadata
			add(d.Dictionary())
		}
	}
	for _, c := range rec.Columns() {
		n += 128 // a field in the schema and a node in the metadata
		add(c.Data())
	}
	return n
}

// recordSize is what the client counts of a record against its
// MaxBufferedBytes: key, value and headers.
func recordSize(key, val []byte, headers []kgo.RecordHeader) int64 {
	n := len(key) + len(val)
	for _, h := range headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}
