package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// Follow reads the inventory topic into v: it reads the topic to its end
// before it returns (read-committed; an absent or empty topic leaves v on
// its base), then follows it in the background until ctx is done, setting
// v's live inventory (View.SetLive) each time a poll changed it, so readers
// of v see a new generation without a restart. A record that does not
// decode is logged and skipped; its key keeps its previous record.
func Follow(ctx context.Context, kc kafka.Config, topic string, v *View, log *slog.Logger) error {
	cl, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	f := &follower{cl: cl, topic: topic, v: v, log: log, m: NewMerger()}
	left, err := f.ends(ctx)
	if err != nil {
		cl.Close()
		return err
	}
	for len(left) > 0 {
		if err := f.poll(ctx, left); err != nil {
			cl.Close()
			return err
		}
	}
	f.publish()
	log.Info("inventory topic read", "topic", topic, "records", f.m.Len())
	go func() {
		defer cl.Close()
		for ctx.Err() == nil {
			if err := f.poll(ctx, nil); err != nil && ctx.Err() == nil {
				log.Warn("cannot read the inventory topic; keeping the current inventory and retrying in a second", "topic", topic, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return nil
}

// follower is the state of Follow.
type follower struct {
	cl    *kgo.Client
	topic string
	v     *View
	log   *slog.Logger
	m     *Merger
}

// ends returns the end offset of each partition of the topic that holds
// records; none when the topic does not exist.
func (f *follower) ends(ctx context.Context) (map[int32]int64, error) {
	adm := kadm.NewClient(f.cl)
	starts, err := adm.ListStartOffsets(ctx, f.topic)
	if err != nil {
		return nil, fmt.Errorf("inventory: cannot list start offsets of %s: %w", f.topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, f.topic)
	if err != nil {
		return nil, fmt.Errorf("inventory: cannot list end offsets of %s: %w", f.topic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && o.Err == nil && s.Err == nil && s.Offset < o.Offset {
			left[o.Partition] = o.Offset
		}
	})
	return left, nil
}

// poll applies one poll's records, crossing partitions off left as they
// reach their end; when left is nil (following), a poll that changed the
// records updates the view.
func (f *follower) poll(ctx context.Context, left map[int32]int64) error {
	fs := f.cl.PollFetches(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("inventory: cannot read %s: %w", f.topic, ctx.Err())
	}
	if err := fs.Err0(); err != nil {
		return fmt.Errorf("inventory: cannot read %s: %w", f.topic, err)
	}
	changed := false
	fs.EachRecord(func(r *kgo.Record) {
		if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
			delete(left, r.Partition)
		}
		if r.Attrs.IsControl() {
			return
		}
		if err := f.m.Apply(r.Key, r.Value); err != nil {
			f.log.Warn("skipped an inventory record", "topic", f.topic, "offset", r.Offset, "err", err)
			return
		}
		changed = true
	})
	if changed && left == nil {
		f.publish()
	}
	return nil
}

// publish hands the merged records to the view.
func (f *follower) publish() {
	inv := f.m.Merged()
	f.v.SetLive(inv)
	if inv != nil {
		f.log.Debug("inventory from the topic", "topic", f.topic, "devices", len(inv.Devices), "links", len(inv.Links))
	}
}
