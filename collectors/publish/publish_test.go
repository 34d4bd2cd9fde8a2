package publish

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/schemas"
)

// TestDownBrokerBlocksInsteadOfGrowing: while the broker refuses every
// produce request, Add stops at the client's buffer bound instead of
// growing memory; once the broker is back, every sample added reaches the
// topic exactly once.
func TestDownBrokerBlocksInsteadOfGrowing(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	var down atomic.Bool
	down.Store(true)
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if down.Load() {
			return nil, errors.New("broker down"), true // kfake drops the connection
		}
		return nil, nil, false
	})
	const bound = 4 // records the client may hold
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.MaxBufferedRecords(bound),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const rows = 10
	pub, err := New(cl, Config{Topic: "samples", MaxRows: rows})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	const total = 50 * rows // 50 records, far beyond the bound
	var added atomic.Int64
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		for i := range total {
			s := schemas.Sample{TS: int64(i + 1), Device: []string{"a", "b"}[i/rows%2], Metric: "/m", Kind: schemas.KindCounter, U64: uint64(i)}
			if err := pub.Add(ctx, &s); err != nil {
				done <- err
				return
			}
			added.Add(1)
		}
		done <- pub.Flush(ctx)
	}()

	// Collection stalls at the bound while the broker is down.
	var last int64 = -1
	for stable := 0; stable < 10; time.Sleep(20 * time.Millisecond) {
		if n := added.Load(); n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	// The client counts the record whose Produce is waiting for room too.
	if buffered := cl.BufferedProduceRecords(); buffered > bound+1 {
		t.Fatalf("%d records buffered, bound %d", buffered, bound)
	}
	if last >= total || last > (bound+2)*rows {
		t.Fatalf("%d of %d samples added while the broker was down; want a stop near %d", last, total, bound*rows)
	}
	if st := pub.Stats(); st.Samples != 0 {
		t.Fatalf("%d samples acknowledged by a down broker", st.Samples)
	}

	down.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no recovery: %d of %d samples added", added.Load(), total)
	}
	if st := pub.Stats(); st.Samples != total || st.Errors != 0 {
		t.Fatalf("after recovery: %+v, want %d samples and no errors", st, total)
	}

	rd, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("samples"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	seen := map[int64]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(seen) < total && ctx.Err() == nil {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			rec, err := schemas.DecodeSamplesValue(memory.NewGoAllocator(), r.Value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := schemas.Samples(rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range got {
				if seen[s.TS] {
					t.Fatalf("sample %d delivered twice", s.TS)
				}
				seen[s.TS] = true
			}
		})
	}
	if len(seen) != total {
		t.Fatalf("topic holds %d distinct samples, want %d", len(seen), total)
	}
}
