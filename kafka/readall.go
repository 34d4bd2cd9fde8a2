package kafka

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// ReadAll reads topic from its earliest retained record to its end as of
// the call, read-committed, and calls fn with every data record below the
// last stable offsets it lists when called: never one produced after
// those, nor one of a transaction open then (it does not wait for it). It
// returns once every partition is read, so a partition that retention
// emptied, or whose last offsets are transaction markers, does not hold
// it. kc is the connection config; ReadAll uses its own client and closes
// it.
func ReadAll(ctx context.Context, kc Config, topic string, fn func(*kgo.Record)) error {
	cl, err := Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka: cannot list start offsets of %s: %w", topic, err)
	}
	// The last stable offsets, not the high watermarks: a transaction
	// open now (a stage's, mid-interval) would hold a read-committed
	// fetch short of its high watermark until it ends.
	ends, err := adm.ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka: cannot list end offsets of %s: %w", topic, err)
	}
	end := map[int32]int64{} // partition -> end offset as of the call
	left := map[int32]bool{} // partitions whose end is still to reach
	ends.Each(func(o kadm.ListedOffset) {
		end[o.Partition] = o.Offset
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Offset < o.Offset {
			left[o.Partition] = true
		}
	})
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("kafka: cannot read %s to its end: %w", topic, ctx.Err())
		}
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("kafka: cannot read %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			e, ok := end[r.Partition]
			if ok && r.Offset+1 >= e {
				delete(left, r.Partition)
			}
			// A record at or past the end was produced after the call (or
			// to a partition added since): the fetch that reaches the end
			// may carry it, and a partition already read goes on being
			// fetched while others are not.
			if ok && r.Offset < e && !r.Attrs.IsControl() {
				fn(r)
			}
		})
	}
	return nil
}

// Headers returns a record's headers in the form the schemas decoders take.
func Headers(r *kgo.Record) []schemas.Header {
	hs := make([]schemas.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = schemas.Header{Key: h.Key, Value: h.Value}
	}
	return hs
}

// RecordHeaders returns headers of the schemas codecs as Kafka headers.
func RecordHeaders(hs []schemas.Header) []kgo.RecordHeader {
	out := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	return out
}
