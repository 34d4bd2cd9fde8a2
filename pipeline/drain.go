package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// owned tracks the partitions a group member holds, so a drain can tell
// what this member processed from what it must leave to the group.
type owned struct {
	assigned bool // had an assignment at least once
	parts    map[string]map[int32]bool
}

func (o *owned) add(m map[string][]int32) {
	o.assigned = true
	if o.parts == nil {
		o.parts = map[string]map[int32]bool{}
	}
	for t, ps := range m {
		if o.parts[t] == nil {
			o.parts[t] = map[int32]bool{}
		}
		for _, p := range ps {
			o.parts[t][p] = true
		}
	}
}

func (o *owned) remove(m map[string][]int32) {
	for t, ps := range m {
		for _, p := range ps {
			delete(o.parts[t], p)
		}
	}
}

// reached reports whether every partition of end that holds records has
// been processed and committed up to its end offset. An owned partition is
// judged by what this member processed (done) or what the group had
// committed when the member got it (committed); a partition this member
// does not own (never had, revoked, or lost with its session) only by what
// the group has committed, which group returns (nil when unknown). A
// member that lost its partitions has therefore not drained: it waits
// until it gets them back and finishes them, or another member commits
// them. Before the first assignment nothing is reached.
func (o *owned) reached(end, done map[string]map[int32]int64, committed map[string]map[int32]kgo.EpochOffset, group func() map[string]map[int32]int64) bool {
	if !o.assigned {
		return false
	}
	for t, ps := range end {
		for p, off := range ps {
			if off <= 0 {
				continue
			}
			if !o.parts[t][p] {
				if g := group(); g == nil || g[t][p] < off {
					return false
				}
				continue
			}
			if max(done[t][p], committed[t][p].Offset) < off {
				return false
			}
		}
	}
	return true
}

// lag returns the records (and transaction markers) between the member's
// position on each owned partition and end (from EndOffsets). The
// position is what the member processed and committed (done) or, on a
// partition it has processed nothing of since it got it (one caught up
// before a restart, or idle since), what the group had committed then
// (committed), as reached judges a drain.
func (o *owned) lag(end, done map[string]map[int32]int64, committed map[string]map[int32]kgo.EpochOffset) int64 {
	n := int64(0)
	for t, ps := range end {
		for p, off := range ps {
			if o.parts[t][p] {
				n += max(0, off-max(done[t][p], committed[t][p].Offset))
			}
		}
	}
	return n
}

// groupOffsets caches a group's committed offsets for a drain, fetched at
// most every groupOffsetsEvery.
type groupOffsets struct {
	at  time.Time
	off map[string]map[int32]int64
}

// Intervals of groupOffsets: how often it fetches, and how long a fetch
// may take (the caller holds its stage's lock meanwhile).
const (
	groupOffsetsEvery   = 500 * time.Millisecond
	groupOffsetsTimeout = 5 * time.Second
)

// get returns the group's committed offsets, at most groupOffsetsEvery
// old, or nil when they cannot be fetched.
func (g *groupOffsets) get(ctx context.Context, cl *kgo.Client, group string) map[string]map[int32]int64 {
	if time.Since(g.at) < groupOffsetsEvery {
		return g.off
	}
	g.at = time.Now()
	ctx, cancel := context.WithTimeout(ctx, groupOffsetsTimeout)
	defer cancel()
	off, err := GroupCommitted(ctx, cl, group)
	if err != nil {
		g.off = nil
		return nil
	}
	g.off = off
	return off
}

// GroupCommitted returns the offsets a consumer group has committed, by
// topic and partition.
func GroupCommitted(ctx context.Context, cl *kgo.Client, group string) (map[string]map[int32]int64, error) {
	resp, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err == nil {
		err = resp.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return map[string]map[int32]int64{}, nil // a group that never committed
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: cannot fetch the committed offsets of group %s: %w", group, err)
	}
	out := map[string]map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.At
	})
	return out, nil
}

// Lag is how far a consumer group's committed offsets are behind a drain
// target.
type Lag struct {
	Records    int64   // records (and transaction markers) not committed
	Partitions []int32 // partitions behind, sorted
	Of         int     // partitions of the target
}

// Behind compares what group has committed on topic with the end offsets
// end (from EndOffsets): a group that drained has Lag.Records == 0.
func Behind(ctx context.Context, cl *kgo.Client, group, topic string, end map[string]map[int32]int64) (Lag, error) {
	committed, err := GroupCommitted(ctx, cl, group)
	if err != nil {
		return Lag{}, err
	}
	return lagOf(end[topic], committed[topic]), nil
}

// lagOf compares committed offsets with end offsets of one topic.
func lagOf(end, committed map[int32]int64) Lag {
	l := Lag{Of: len(end)}
	for p, off := range end {
		if d := off - max(committed[p], 0); d > 0 {
			l.Records += d
			l.Partitions = append(l.Partitions, p)
		}
	}
	slices.Sort(l.Partitions)
	return l
}

// String says how far behind, e.g. "1204 records behind on 3 of 12
// partitions (0, 4, 7)".
func (l Lag) String() string {
	return fmt.Sprintf("%d records behind on %d of %d partitions %v", l.Records, len(l.Partitions), l.Of, l.Partitions)
}
