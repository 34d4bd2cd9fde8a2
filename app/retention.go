package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Retention of the embedded broker, which keeps every record in memory.
const (
	// trimInterval is how often records every consumer has committed are
	// deleted.
	trimInterval = 10 * time.Second
	// compactInterval is how often compacted topics (changelogs, alert
	// state) are compacted: the stages' changelogs take megabytes per
	// second while a replay runs.
	compactInterval = 10 * time.Second
	// embeddedSegmentBytes is the embedded broker's segment size: it frees
	// deleted records a whole segment at a time (its default is 100 MiB
	// per partition).
	embeddedSegmentBytes = 4 << 20
)

// consumer is a consumer group of this process and the topic it reads.
type consumer struct{ group, topic string }

// retainEmbedded keeps the in-process broker's memory bounded until ctx is
// done: every trimInterval it deletes, in each topic the stages of this
// process read, the records below the lowest offset their groups have
// committed (a partition some group has not committed on is left alone),
// and every compactInterval it compacts the compacted topics. Topics no
// stage reads (dead letters, and power and maintenance when no ClickHouse
// stage runs) keep their records: they grow with bad input or slowly.
func retainEmbedded(ctx context.Context, cluster *kfake.Cluster, admin *kgo.Client, consumers []consumer, log *slog.Logger) {
	adm := kadm.NewClient(admin)
	trim := time.NewTicker(trimInterval)
	defer trim.Stop()
	lastCompact := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trim.C:
		}
		n, err := trimConsumed(ctx, adm, consumers)
		if err != nil && ctx.Err() == nil {
			log.Debug("embedded broker: cannot trim consumed records", "err", err)
		} else if n > 0 {
			log.Debug("embedded broker: trimmed consumed records", "partitions", n)
		}
		if time.Since(lastCompact) >= compactInterval {
			cluster.Compact()
			lastCompact = time.Now()
		}
	}
}

// trimConsumed deletes the records every consumer has committed and
// returns the number of partitions it advanced.
func trimConsumed(ctx context.Context, adm *kadm.Client, consumers []consumer) (int, error) {
	committed := map[string]kadm.OffsetResponses{}
	for _, c := range consumers {
		if _, ok := committed[c.group]; ok {
			continue
		}
		o, err := adm.FetchOffsets(ctx, c.group)
		if err != nil {
			return 0, fmt.Errorf("cannot fetch offsets of group %s: %w", c.group, err)
		}
		committed[c.group] = o
	}
	topics := map[string][]string{} // topic -> groups reading it
	for _, c := range consumers {
		topics[c.topic] = append(topics[c.topic], c.group)
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	starts, err := adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return 0, fmt.Errorf("cannot list start offsets: %w", err)
	}
	var del kadm.Offsets
	starts.Each(func(s kadm.ListedOffset) {
		if s.Err != nil {
			return
		}
		low := int64(-1)
		for _, g := range topics[s.Topic] {
			o, ok := committed[g].Lookup(s.Topic, s.Partition)
			if !ok || o.Err != nil || o.At < 0 {
				return // a group that has not committed here yet
			}
			if low < 0 || o.At < low {
				low = o.At
			}
		}
		if low > s.Offset {
			del.Add(kadm.Offset{Topic: s.Topic, Partition: s.Partition, At: low, LeaderEpoch: -1})
		}
	})
	if len(del) == 0 {
		return 0, nil
	}
	resp, err := adm.DeleteRecords(ctx, del)
	if err != nil {
		return 0, fmt.Errorf("cannot delete records: %w", err)
	}
	n := 0
	resp.Each(func(r kadm.DeleteRecordsResponse) {
		if r.Err == nil {
			n++
		}
	})
	return n, nil
}
