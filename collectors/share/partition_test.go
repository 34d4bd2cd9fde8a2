package share

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
)

// TestCutOffMemberStopsBeforeOthersTake cuts one of two members off from
// the group coordinator (its heartbeats and rejoins never reach it): the coordinator
// gives its buckets to the other once the session times out, and the cut-off
// member must have stopped them by then, so no bucket is ever owned by both.
// Before, the cut-off member kept retrying its heartbeat for a whole session
// timeout from the first failed one (and a held request for 10 s more), and
// kept its buckets for seconds after the other had taken them.
func TestCutOffMemberStopsBeforeOthersTake(t *testing.T) {
	cluster, cutID, hold := cutOffCluster(t)
	hold(kmsg.Heartbeat, func(r kmsg.Request) string { return r.(*kmsg.HeartbeatRequest).MemberID })
	hold(kmsg.JoinGroup, func(r kmsg.Request) string { return r.(*kmsg.JoinGroupRequest).MemberID })
	hold(kmsg.SyncGroup, func(r kmsg.Request) string { return r.(*kmsg.SyncGroupRequest).MemberID })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	owner := map[int32]string{}
	var errs []string
	join := func(name string) *Group {
		g, err := Join(ctx, kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Buckets: 4, SessionTimeout: 6 * time.Second}, "test",
			func(c Change) {
				mu.Lock()
				defer mu.Unlock()
				for _, b := range c.Lost {
					delete(owner, b)
				}
				for _, b := range c.Gained {
					if o, ok := owner[b]; ok {
						errs = append(errs, fmt.Sprintf("%s gained bucket %d at %s while %s still owned it", name, b, time.Now().Format("15:04:05.000"), o))
					}
					owner[b] = name
				}
			}, WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	owned := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, o := range owner {
			if o == name {
				n++
			}
		}
		return n
	}
	a := join("a")
	defer a.Close()
	b := join("b")
	defer b.Close()
	for owned("a") == 0 || owned("b") == 0 || owned("a")+owned("b") != 4 {
		if ctx.Err() != nil {
			t.Fatalf("the two members did not share the 4 buckets: a %d, b %d", owned("a"), owned("b"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	id, _ := a.cl.GroupMetadata()
	cutID.Store(id, true)
	cut := time.Now()
	for owned("b") != 4 {
		if ctx.Err() != nil {
			t.Fatalf("b did not take a's buckets: a %d, b %d", owned("a"), owned("b"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("b owns the 4 buckets %v after a was cut off", time.Since(cut).Round(time.Millisecond))
	mu.Lock()
	defer mu.Unlock()
	for _, e := range errs {
		t.Error(e)
	}
}

// cutOffCluster returns an in-process Kafka on which the requests of the
// keys given to hold get no answer, until the test ends, when they come
// from a member whose id is stored in cutID (the member func reads it
// from the request): a member cut off from the coordinator.
func cutOffCluster(t *testing.T) (*kfake.Cluster, *sync.Map, func(kmsg.Key, func(kmsg.Request) string)) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	cutID := &sync.Map{} // the member id cut off -> true
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the cluster closes
	hold := func(key kmsg.Key, member func(kmsg.Request) string) {
		cluster.ControlKey(int16(key), func(r kmsg.Request) (kmsg.Response, error, bool) {
			cluster.KeepControl()
			if _, cut := cutID.Load(member(r)); cut {
				cluster.SleepControl(func() { <-release })
			}
			return nil, nil, false
		})
	}
	return cluster, cutID, hold
}
