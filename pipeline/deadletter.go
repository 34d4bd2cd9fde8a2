package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Dead-letter headers, set on every record sent to the dead-letter topic.
const (
	HeaderDLQReason    = "telekernel-dlq-reason"
	HeaderDLQTopic     = "telekernel-dlq-topic"
	HeaderDLQPartition = "telekernel-dlq-partition"
	HeaderDLQOffset    = "telekernel-dlq-offset"
	HeaderDLQStage     = "telekernel-dlq-stage"
	// HeaderDLQOriginalBytes is the size of the original value, in bytes,
	// whether or not the dead letter kept all of it.
	HeaderDLQOriginalBytes = "telekernel-dlq-original-bytes"
	// HeaderDLQTruncated is set (to "true") when the dead letter keeps only
	// the head of the original value, key or headers, so it fits the topic.
	HeaderDLQTruncated = "telekernel-dlq-truncated"
)

// Size limits of a dead letter.
const (
	// DeadLetterMaxBytes is the most a dead letter (key, value and headers)
	// takes: under the 1,000,012-byte producer batch limit and Kafka's
	// default max.message.bytes (1,048,588), so a record that was produced
	// to a topic with a raised limit (a 5 MB value, say) can still be
	// dead-lettered on a topic with the default one. A longer value keeps
	// its head and gets HeaderDLQTruncated.
	DeadLetterMaxBytes = 900 << 10
	// deadLetterMinBytes is the smallest limit a writer shrinks to when the
	// dead-letter topic rejects a record as too large.
	deadLetterMinBytes = 4 << 10
	maxDLQReasonBytes  = 1 << 10
	maxDLQKeyBytes     = 1 << 10
	// maxDLQOrigHeaders is the most of the original headers kept; more are
	// dropped (and the dead letter marked truncated), as are headers over
	// half the dead letter's limit or over what its other parts leave.
	maxDLQOrigHeaders = 16 << 10
	// recordOverhead covers a record's framing in a batch, generously.
	recordOverhead = 256
)

// deadLetter builds the dead-letter record of rec: the original key, value
// and headers, plus the reason, origin, stage and original size in headers,
// cut so the whole record takes at most limit bytes (the value keeps its
// head; the original headers are dropped when they exceed 16 KiB, half of
// limit, or what the rest of the dead letter leaves of it).
func deadLetter(rec *kgo.Record, cause error, topic, stage string, limit int) *kgo.Record {
	truncated := false
	key := rec.Key
	if len(key) > maxDLQKeyBytes {
		key, truncated = key[:maxDLQKeyBytes], true
	}
	dlq := []kgo.RecordHeader{
		{Key: HeaderDLQReason, Value: []byte(cutUTF8(cause.Error(), maxDLQReasonBytes))},
		{Key: HeaderDLQTopic, Value: []byte(rec.Topic)},
		{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(int(rec.Partition)))},
		{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(rec.Offset, 10))},
		{Key: HeaderDLQStage, Value: []byte(stage)},
		{Key: HeaderDLQOriginalBytes, Value: []byte(strconv.Itoa(len(rec.Value)))},
	}
	// room is what limit leaves for the original headers and value once
	// the framing, the key, the dead-letter headers and, in case, the
	// truncated mark are counted.
	room := max(0, limit-recordOverhead-len(key)-headersSize(dlq)-len(HeaderDLQTruncated)-len("true")-10)
	headers := make([]kgo.RecordHeader, 0, len(rec.Headers)+len(dlq)+1)
	if n := headersSize(rec.Headers); n <= min(maxDLQOrigHeaders, limit/2, room) {
		headers = append(headers, rec.Headers...)
		room -= n
	} else {
		truncated = true
	}
	headers = append(headers, dlq...)
	value := rec.Value
	if len(value) > room {
		value, truncated = value[:room], true
	}
	if truncated {
		headers = append(headers, kgo.RecordHeader{Key: HeaderDLQTruncated, Value: []byte("true")})
	}
	return &kgo.Record{Topic: topic, Key: key, Value: value, Headers: headers}
}

func headersSize(hs []kgo.RecordHeader) int {
	n := 0
	for _, h := range hs {
		n += len(h.Key) + len(h.Value) + 10 // varint lengths
	}
	return n
}

// cutUTF8 returns at most n bytes of s, cut at a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isTooLarge reports whether err says a record is too large for the topic
// or the producer.
func isTooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

// deadLetter sends rec to the dead-letter topic synchronously, so its
// offset is committed only once it is safe. A dead letter the topic
// rejects as too large is cut to a quarter of its size, down to a few KiB
// (the headers still say why and how large the original was); a failure
// no retry can fix (see fatalKafka) returns an error at once, and any
// other is retried with backoff until ctx ends, which returns an error:
// the record is then not committed and is read again on restart. The
// record counts as dead-lettered only once the broker has it.
func (r *Runner) deadLetter(ctx context.Context, rec *kgo.Record, cause error) error {
	limit := DeadLetterMaxBytes
	for backoff := 100 * time.Millisecond; ; {
		dl := deadLetter(rec, cause, r.cfg.DeadLetterTopic, r.cfg.Name, limit)
		err := r.client.ProduceSync(ctx, dl).FirstErr()
		if err == nil {
			r.dead.Add(1)
			r.metrics.deadLetters.WithLabelValues(r.cfg.Name, reasonOf(cause)).Inc()
			r.log.Warn("dead-lettered a record", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset,
				"bytes", len(rec.Value), "kept_bytes", len(dl.Value), "reason", cutUTF8(cause.Error(), maxDLQReasonBytes))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("cannot write dead letter of %s/%d@%d to %s: %w (not committed: it is read again on restart)",
				rec.Topic, rec.Partition, rec.Offset, r.cfg.DeadLetterTopic, err)
		}
		if isTooLarge(err) && limit > deadLetterMinBytes {
			limit = max(deadLetterMinBytes, limit/4)
			r.log.Warn("dead letter too large for its topic; cutting it", "topic", r.cfg.DeadLetterTopic, "limit_bytes", limit, "err", err)
			continue
		}
		if why := fatalKafka(err); why != "" {
			return fmt.Errorf("cannot write dead letter of %s/%d@%d to %s: %w (%s; the record is not committed: it is read again on restart)",
				rec.Topic, rec.Partition, rec.Offset, r.cfg.DeadLetterTopic, err, why)
		}
		r.log.Error("cannot write dead letter; retrying", "topic", r.cfg.DeadLetterTopic, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}
