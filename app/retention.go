package app

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
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
	// checkpointWindow is how many offsets before its end checkpoints
	// first reads of a changelog partition: the transact runner writes the
	// changelog only in a checkpoint, the markers after the state, so the
	// last records committed are a marker and its transaction's commit
	// marker. A window that holds no committed record (a checkpoint of
	// more records was aborted after it) is read again twice as wide,
	// down to the partition's start.
	checkpointWindow = 16
	// checkpointReadTimeout bounds those reads; a partition not read to its
	// end in it is not trimmed this time.
	checkpointReadTimeout = 5 * time.Second
)

// consumer is a consumer group of this process and the topic it reads.
type consumer struct{ group, topic string }

// A floor returns, by topic and partition, the lowest offset a reader
// still needs that its group's committed offsets do not tell (the live
// view, which commits none; a stage's replay since its checkpoint):
// trimming stops there. A partition it does not name is not held back.
type floor func(ctx context.Context) (map[string]map[int32]int64, error)

// retainEmbedded keeps the in-process broker's memory bounded until ctx is
// done: every trimInterval it deletes, in each topic the stages of this
// process read, the records below the lowest offset their groups have
// committed (a partition some group has not committed on is left alone),
// their last checkpoints stand at (see checkpoints) and floors name, and
// every compactInterval it compacts the compacted topics. Topics no stage
// reads (dead letters, and power and maintenance when no ClickHouse stage
// runs) keep their records: they grow with bad input or slowly.
func retainEmbedded(ctx context.Context, cluster *kfake.Cluster, admin *kgo.Client, consumers []consumer, log *slog.Logger, floors ...floor) {
	adm := kadm.NewClient(admin)
	// Read committed: a checkpoint counts once its transaction committed.
	reader, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		log.Error("embedded broker: cannot read the stages' checkpoints; no record is deleted, memory grows with the input", "err", err)
		return
	}
	defer reader.Close()
	floors = append(floors, checkpoints(reader, consumers))
	trim := time.NewTicker(trimInterval)
	defer trim.Stop()
	lastCompact := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trim.C:
		}
		n, err := trimConsumed(ctx, adm, consumers, floors...)
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

// trimConsumed deletes the records every consumer has committed, none at
// or above a floor's offset, and returns the number of partitions it
// advanced.
func trimConsumed(ctx context.Context, adm *kadm.Client, consumers []consumer, floors ...floor) (int, error) {
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
	// The floors are read after the committed offsets: a checkpoint
	// committed with those offsets is then in the changelog read.
	need := map[string]map[int32]int64{}
	for _, f := range floors {
		at, err := f(ctx)
		if err != nil {
			return 0, err
		}
		for t, parts := range at {
			for p, o := range parts {
				lowest(need, t, p, o)
			}
		}
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
		if o, ok := need[s.Topic][s.Partition]; ok && o < low {
			low = o
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

// checkpoints returns the floor of the transact stages' checkpoints. With
// a checkpoint interval (detect.transaction.checkpoint_interval), a
// restore (after an aborted transaction, or in a member that takes the
// partition) replays a partition's input from its last checkpoint, which
// the committed offsets have passed: up to an interval of input is kept.
// A checkpoint stands in the marker (pipeline.CheckpointKey) that ends the
// last committed checkpoint in the partition of the stage's changelog,
// GROUP-changelog as pipeline.NewTransactRunner names it; a stage without
// one (a sink) is not held back, nor a partition whose last committed
// record is state (the stage checkpoints in every transaction: a restore
// replays nothing). The last committed record is looked for in the last
// checkpointWindow offsets, and further back while a read finds none
// (aborted records, which a read-committed reader skips, fill the
// window). A partition that holds neither, or that could not be read, is
// held where it is. reader must read committed and keep control records.
func checkpoints(reader *kgo.Client, consumers []consumer) floor {
	adm := kadm.NewClient(reader)
	input := map[string]string{} // changelog -> the input its partitions stand for
	for _, c := range consumers {
		input[c.group+"-changelog"] = c.topic
	}
	return func(ctx context.Context) (map[string]map[int32]int64, error) {
		names := slices.Sorted(maps.Keys(input))
		ends, err := adm.ListCommittedOffsets(ctx, names...)
		if err != nil {
			return nil, fmt.Errorf("cannot list the end offsets of the changelogs: %w", err)
		}
		// Compaction moves a changelog's start: a read below it finds
		// nothing.
		starts, err := adm.ListStartOffsets(ctx, names...)
		if err != nil {
			return nil, fmt.Errorf("cannot list the start offsets of the changelogs: %w", err)
		}
		at := map[string]map[int32]int64{}
		first := map[string]map[int32]int64{} // the partition's start
		end := map[string]map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			switch {
			case errors.Is(o.Err, kerr.UnknownTopicOrPartition):
				// No changelog: a sink stage.
			case o.Err != nil:
				lowest(at, input[o.Topic], o.Partition, 0)
			case o.Offset > 0:
				if end[o.Topic] == nil {
					first[o.Topic], end[o.Topic] = map[int32]int64{}, map[int32]int64{}
				}
				start, _ := starts.Lookup(o.Topic, o.Partition)
				first[o.Topic][o.Partition] = start.Offset
				end[o.Topic][o.Partition] = o.Offset
			}
		})
		ctx, cancel := context.WithTimeout(ctx, checkpointReadTimeout)
		defer cancel()
		for window := int64(checkpointWindow); len(end) > 0; window *= 2 {
			from := map[string]map[int32]kgo.Offset{}
			for t, parts := range end {
				from[t] = map[int32]kgo.Offset{}
				for p, o := range parts {
					from[t][p] = kgo.NewOffset().At(max(first[t][p], o-window))
				}
			}
			last := lastRecords(ctx, reader, from, end)
			wider := map[string]map[int32]int64{} // read to the end, no committed record, the start not reached
			for t, parts := range end {
				for p, o := range parts {
					r, read := last[t][p]
					switch {
					case read && r == nil && o-window > first[t][p]:
						if wider[t] == nil {
							wider[t] = map[int32]int64{}
						}
						wider[t][p] = o
					case r == nil || string(r.Key) == pipeline.CheckpointKey && len(r.Value) != 8:
						lowest(at, input[t], p, 0)
					case string(r.Key) == pipeline.CheckpointKey:
						lowest(at, input[t], p, int64(binary.BigEndian.Uint64(r.Value)))
					}
				}
			}
			end = wider
		}
		return at, nil
	}
}

// lastRecords reads the partitions of from up to their end offsets and
// returns, for those read to the end before ctx is done, the last record
// before it that is not a transaction marker (nil: none).
func lastRecords(ctx context.Context, reader *kgo.Client, from map[string]map[int32]kgo.Offset, end map[string]map[int32]int64) map[string]map[int32]*kgo.Record {
	type partition struct {
		topic string
		p     int32
	}
	left := map[partition]int64{}
	remove := map[string][]int32{}
	for t, parts := range end {
		for p, o := range parts {
			left[partition{t, p}] = o
			remove[t] = append(remove[t], p)
		}
	}
	out := map[string]map[int32]*kgo.Record{}
	if len(left) == 0 {
		return out
	}
	reader.AddConsumePartitions(from)
	defer reader.RemoveConsumePartitions(remove)
	last := map[partition]*kgo.Record{}
	for len(left) > 0 {
		fs := reader.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() || fs.Err0() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			k := partition{r.Topic, r.Partition}
			e, ok := left[k]
			if !ok {
				return
			}
			if r.Offset < e && !r.Attrs.IsControl() {
				last[k] = r
			}
			if r.Offset >= e-1 {
				delete(left, k)
			}
		})
	}
	for t, parts := range end {
		for p := range parts {
			k := partition{t, p}
			if _, ok := left[k]; ok {
				continue
			}
			if out[t] == nil {
				out[t] = map[int32]*kgo.Record{}
			}
			out[t][p] = last[k]
		}
	}
	return out
}

// lowest lowers at[topic][p] to o, setting it if absent.
func lowest(at map[string]map[int32]int64, topic string, p int32, o int64) {
	if at[topic] == nil {
		at[topic] = map[int32]int64{}
	}
	if cur, ok := at[topic][p]; !ok || o < cur {
		at[topic][p] = o
	}
}
