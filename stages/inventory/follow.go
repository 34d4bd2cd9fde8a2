package inventory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// Follow reads the inventory topic into v: it reads the topic to its end
// before it returns (read-committed, to the last stable offsets as of the
// call, so a transaction left open does not hold it; an absent or empty
// topic leaves v on its base), then follows it in the background until ctx is done, setting
// v's live inventory (View.SetLive) each time records changed it and the
// follower has then read every record of each flush it read of that may
// not have ended (the flush headers: see flushHeader), every partition up
// to its end, and a poll of recheck brought nothing more, so readers of v
// see a new generation without a restart and never a flush read in part
// (a consumer fetches at most 1 MiB of a partition at a time, and the
// producer sends a large flush in several requests, which may land
// seconds apart). A flush
// the stage never finished (it stopped, or crashed, in the middle) is
// taken with the next flush, even one numbered lower (the stage's clock
// stepped back across a restart) once the follower can tell it was
// written later (see count). A record that does not decode is logged and
// skipped; its key keeps its previous record.
func Follow(ctx context.Context, kc kafka.Config, topic string, v *View, log *slog.Logger) error {
	cl, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	f := &follower{cl: cl, topic: topic, v: v, log: log, m: NewMerger(), next: map[int32]int64{},
		flushes: map[int64]*flushRead{}, ended: map[int64]bool{}, last: map[int32]int64{}}
	left, err := f.ends(ctx)
	if err != nil {
		cl.Close()
		return err
	}
	for len(left) > 0 {
		if _, _, err := f.poll(ctx, left); err != nil {
			cl.Close()
			return err
		}
	}
	if ends, err := f.ends(ctx); err == nil {
		f.atEnd(ends) // else at the follower's next read to the end
	}
	f.publish()
	log.Info("inventory topic read", "topic", topic, "records", f.m.Len())
	go func() {
		defer cl.Close()
		for ctx.Err() == nil {
			if err := f.follow(ctx); err != nil && ctx.Err() == nil {
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

// recheck is how long a follower holding records it has not published
// waits for more before it asks the brokers again whether it has read the
// topic to its end.
const recheck = time.Second

// follower is the state of Follow.
type follower struct {
	cl    *kgo.Client
	topic string
	v     *View
	log   *slog.Logger
	m     *Merger

	next    map[int32]int64 // by partition, the offset after the last record read
	pending bool            // records changed m since the last publish

	flushes map[int64]*flushRead // by flushHeader, the flushes read of that no record read since shows ended
	ended   map[int64]bool       // flushes shown ended since the follower last read the topic to its end
	last    map[int32]int64      // by partition, the flushHeader of the last record read (0: none)
	maxSeq  int64                // the largest flushHeader read
}

// flushRead is what a follower has read of a flush.
type flushRead struct {
	n, records int // flushRecordsHeader, and the records read
	// fence is the end of each partition (none: 0) the follower had read
	// the topic to after it read records of the flush; nil: not yet.
	fence map[int32]int64
}

// whole reports whether every record of every flush that may not have
// ended was read (true when none was, or the records carry no flush
// headers: an older release wrote them).
func (f *follower) whole() bool {
	for _, fr := range f.flushes {
		if fr.records < fr.n {
			return false
		}
	}
	return true
}

// count counts r, a record (not a transaction marker) read, in its flush,
// and ends the flushes r shows ended. The stage writes a flush whole, or
// stops, before it begins the next, so a record after one of a flush in
// its partition, or past the flush's fence, is of a flush written later:
// the earlier has written all it will. So, by the clock, is a record
// numbered above every flush read, which alone tells when two flushes
// share no partition and arrive between two reads to the end (a stage
// whose clock stepped back across a restart numbers its flushes lower,
// so the number alone cannot be trusted). The records of a flush ended
// that come later (from another partition) are not counted: reading the
// topic to its end reads them, as they were written before r.
func (f *follower) count(r *kgo.Record) {
	var seq int64
	n := -1
	for _, h := range r.Headers {
		switch h.Key {
		case flushHeader:
			seq, _ = strconv.ParseInt(string(h.Value), 10, 64)
		case flushRecordsHeader:
			n, _ = strconv.Atoi(string(h.Value))
		}
	}
	for s, fr := range f.flushes {
		if s != seq && (f.last[r.Partition] == s || fr.fence != nil && r.Offset >= fr.fence[r.Partition] || seq > f.maxSeq) {
			delete(f.flushes, s)
			f.ended[s] = true
		}
	}
	f.last[r.Partition] = seq
	if seq <= 0 || n < 0 || f.ended[seq] {
		return
	}
	f.maxSeq = max(f.maxSeq, seq)
	fr := f.flushes[seq]
	if fr == nil {
		fr = &flushRead{n: n}
		f.flushes[seq] = fr
	}
	fr.records++
}

// atEnd reports whether the follower has read every partition up to ends,
// listed after it read its last record. If so, every record read was
// written before the listing and every record past ends after it, so
// ends is the fence of the flushes read of that have none, and no record
// of a flush ended is still to come.
func (f *follower) atEnd(ends map[int32]int64) bool {
	for p, end := range ends {
		if f.next[p] < end {
			return false // records the brokers hold are still ahead
		}
	}
	for _, fr := range f.flushes {
		if fr.fence == nil {
			fr.fence = ends
		}
	}
	clear(f.ended)
	return true
}

// ends returns the end offset of each partition of the topic that holds
// records; none when the topic does not exist. The end is the last stable
// offset: the end a read-committed consumer can reach now (the high
// watermark, past a transaction left open, it would reach only when the
// transaction ends).
func (f *follower) ends(ctx context.Context) (map[int32]int64, error) {
	adm := kadm.NewClient(f.cl)
	starts, err := adm.ListStartOffsets(ctx, f.topic)
	if err != nil {
		return nil, fmt.Errorf("inventory: cannot list start offsets of %s: %w", f.topic, err)
	}
	ends, err := adm.ListCommittedOffsets(ctx, f.topic)
	if err != nil {
		return nil, fmt.Errorf("inventory: cannot list end offsets of %s: %w", f.topic, err)
	}
	left := map[int32]int64{}
	var failed error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Partition < 0 {
			return // the topic does not exist
		}
		s, ok := starts.Lookup(o.Topic, o.Partition)
		switch {
		case !ok:
			failed = cmp.Or(failed, fmt.Errorf("no start offset listed for partition %d", o.Partition))
		case o.Err != nil || s.Err != nil:
			failed = cmp.Or(failed, o.Err, s.Err)
		case s.Offset < o.Offset:
			left[o.Partition] = o.Offset
		}
	})
	if failed != nil {
		// A partition skipped might be one whose records are ahead.
		return nil, fmt.Errorf("inventory: cannot list the offsets of %s: %w", f.topic, failed)
	}
	return left, nil
}

// follow applies one poll's records and publishes the records once it has
// read every record of each flush that may not have ended (whole) and
// every partition up to the end the brokers give (ends): a flush read in
// part, a poll that leaves a partition short of the end its fetch
// reported, or a topic whose end lies further, waits for the next polls,
// so the view never takes a flush read in part. While it holds records it
// has not published, it polls at most recheck long, and publishes only
// after such a poll brought nothing: records without flush headers (an
// older release's) cannot be counted, and the end after a flush's first
// produce request may be all the brokers hold for a moment, so the quiet
// poll keeps the view from taking such a flush up to there. An error
// listing the ends is retried without waiting for another record.
func (f *follower) follow(ctx context.Context) error {
	pctx := ctx
	if f.pending {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, recheck)
		defer cancel()
	}
	read, short, err := f.poll(pctx, nil)
	if err != nil && (ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	if !f.pending || short || read {
		return nil
	}
	ends, err := f.ends(ctx)
	if err != nil {
		return err
	}
	if !f.atEnd(ends) || !f.whole() {
		return nil
	}
	f.publish()
	return nil
}

// poll applies one poll's records, crossing partitions off left as they
// reach their end (the initial read). It reports whether it read records,
// and whether a partition it read records of is still short of the end its
// fetch reported, so the records read so far are part of more.
func (f *follower) poll(ctx context.Context, left map[int32]int64) (read, short bool, err error) {
	fs := f.cl.PollFetches(ctx)
	var perr error // the first partition's error; the others' records still apply
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if p.Err != nil {
			perr = cmp.Or(perr, p.Err)
			return
		}
		if len(p.Records) == 0 {
			return
		}
		read = true
		for _, r := range p.Records {
			f.next[r.Partition] = r.Offset + 1
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
			if r.Attrs.IsControl() {
				continue
			}
			f.count(r)
			if err := f.m.Apply(r.Key, r.Value); err != nil {
				f.log.Warn("skipped an inventory record", "topic", f.topic, "offset", r.Offset, "err", err)
				continue
			}
			f.pending = true
		}
		end := p.LastStableOffset // what a read-committed fetch reaches
		if end < 0 {
			end = p.HighWatermark
		}
		if f.next[p.Partition] < end {
			short = true
		}
	})
	if perr != nil {
		return read, short, fmt.Errorf("inventory: cannot read %s: %w", f.topic, perr)
	}
	return read, short, nil
}

// publish hands the merged records to the view.
func (f *follower) publish() {
	f.pending = false
	inv := f.m.Merged()
	f.v.SetLive(inv)
	if inv != nil {
		f.log.Debug("inventory from the topic", "topic", f.topic, "devices", len(inv.Devices), "links", len(inv.Links))
	}
}
