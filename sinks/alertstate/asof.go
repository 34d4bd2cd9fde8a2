package alertstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// AsOf names the consumer groups of the detections topic that LoadAsOf
// reconciles.
type AsOf struct {
	// Detections is the detections topic both groups consume.
	Detections string
	// StateGroup is the group of the Sink that writes the alerts topic
	// (the alertstate stage's).
	StateGroup string
	// Group is the group whose position the state is wanted at (the
	// Alertmanager bridge's).
	Group string
}

// LoadAsOf returns the latest detection of every fingerprint as at.Group
// has consumed at.Detections up to its committed offsets: Load's state of
// topic, which the alertstate stage (at.StateGroup) wrote up to its own
// committed offsets, with the detections between the two groups' committed
// offsets of each partition applied in order. The Alertmanager bridge
// restores its firing alerts from it when it starts, and then consumes on
// from its committed offsets, so it neither posts again firing an alert
// whose resolution it had posted and committed, nor forgets one it had
// posted firing, when the alertstate stage lags it.
//
// The committed offsets of at.StateGroup are read before topic, so topic
// holds at least the state up to them. A partition at.StateGroup never
// committed is replayed from its earliest retained record; one at.Group
// never committed is not replayed (the group reads it from its start
// anyway). Where at.StateGroup is ahead of at.Group, the state of the
// alerts whose detections lie between is ahead of at.Group's position
// until at.Group consumes them, which it does next. Detections retention
// deleted before at.StateGroup consumed them are missed (Replay.Missed
// counts their offsets).
//
// Records that are not valid detections are skipped. kc is the connection
// config; LoadAsOf uses its own clients and closes them.
func LoadAsOf(ctx context.Context, kc kafka.Config, topic string, at AsOf) (map[string]*schemas.Detection, Replay, error) {
	var rp Replay
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		return nil, rp, fmt.Errorf("alertstate: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// The state group first: what topic holds covers its offsets.
	stateAt, err := committed(ctx, adm, at.StateGroup, at.Detections)
	if err != nil {
		return nil, rp, err
	}
	state, err := Load(ctx, kc, topic)
	if err != nil {
		return nil, rp, err
	}
	groupAt, err := committed(ctx, adm, at.Group, at.Detections)
	if err != nil {
		return nil, rp, err
	}
	starts, err := adm.ListStartOffsets(ctx, at.Detections)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, rp, fmt.Errorf("alertstate: cannot list start offsets of %s: %w", at.Detections, err)
	}
	// The last stable offsets: the group cannot have consumed past them.
	ends, err := adm.ListCommittedOffsets(ctx, at.Detections)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, rp, fmt.Errorf("alertstate: cannot list end offsets of %s: %w", at.Detections, err)
	}
	from := map[int32]kgo.Offset{}
	until := map[int32]int64{}
	starts.Each(func(s kadm.ListedOffset) {
		to, ok := groupAt[s.Partition]
		if !ok {
			return
		}
		if e, ok := ends.Lookup(s.Topic, s.Partition); ok && e.Offset < to {
			to = e.Offset
		}
		begin, ok := stateAt[s.Partition]
		if !ok {
			begin = s.Offset
		}
		if begin < s.Offset {
			rp.Missed += s.Offset - begin
			begin = s.Offset
		}
		if begin < to {
			from[s.Partition] = kgo.NewOffset().At(begin)
			until[s.Partition] = to
			rp.Partitions++
		}
	})
	if len(from) == 0 {
		return state, rp, nil
	}
	rc, err := kafka.Connect(ctx, kc,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{at.Detections: from}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return nil, rp, fmt.Errorf("alertstate: %w", err)
	}
	defer rc.Close()
	left := len(until)
	next := map[int32]int64{} // by partition, the offset after the last record read
	for p, o := range from {
		next[p] = o.EpochOffset().Offset
	}
	for left > 0 {
		pctx, pcancel := context.WithTimeout(ctx, replayWait)
		fs := rc.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			return nil, rp, fmt.Errorf("alertstate: cannot read %s up to %s's offsets: %w", at.Detections, at.Group, ctx.Err())
		}
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, rp, fmt.Errorf("alertstate: cannot read %s: %w", at.Detections, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			to, ok := until[r.Partition]
			if !ok {
				return
			}
			// The record at to-1 may be one read-committed skips (of an
			// aborted transaction): its marker, past it, ends the range.
			if r.Offset+1 >= to {
				delete(until, r.Partition)
				left--
			}
			next[r.Partition] = r.Offset + 1
			if r.Offset >= to || r.Attrs.IsControl() {
				return
			}
			if d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value); err == nil {
				state[d.Fingerprint] = d
				rp.Records++
			}
		})
		if left == 0 || fs.NumRecords() > 0 {
			continue
		}
		// Nothing for replayWait: retention may have deleted the rest of a
		// range since it was listed, and nothing at or past its end would
		// then come.
		starts, err := adm.ListStartOffsets(ctx, at.Detections)
		if err != nil {
			continue
		}
		starts.Each(func(o kadm.ListedOffset) {
			if to, ok := until[o.Partition]; ok && o.Err == nil && o.Offset >= to {
				rp.Missed += to - next[o.Partition]
				delete(until, o.Partition)
				left--
			}
		})
	}
	return state, rp, nil
}

// replayWait is how long LoadAsOf's replay waits for records before it
// checks whether retention deleted what is left to read.
const replayWait = time.Second

// Replay is what LoadAsOf read of the detections topic besides the alerts
// topic.
type Replay struct {
	Partitions int   // partitions replayed
	Records    int   // detections applied
	Missed     int64 // offsets retention deleted before the state group consumed them
}

// committed returns group's committed offsets of topic by partition; a
// partition it never committed is absent.
func committed(ctx context.Context, adm *kadm.Client, group, topic string) (map[int32]int64, error) {
	os, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = os.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		// Never committed (some brokers say so rather than list none).
		return map[int32]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alertstate: cannot read the committed offsets of group %s: %w", group, err)
	}
	out := map[int32]int64{}
	for p, o := range os[topic] {
		if o.At >= 0 {
			out[p] = o.At
		}
	}
	return out, nil
}
