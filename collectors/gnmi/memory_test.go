package gnmi_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// manyLeaves returns a SubscribeResponse, encoded by hand (a message tree
// of a million updates would itself weigh hundreds of MB), whose one
// notification holds n updates of distinct paths under the prefix
// /components/component[name=chassis]/state: leaf-0 … leaf-<n-1>.
func manyLeaves(ts int64, n int) []byte {
	elem := func(name, key string) []byte {
		e := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), name)
		if key != "" {
			kv := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "name")
			kv = protowire.AppendString(protowire.AppendTag(kv, 2, protowire.BytesType), key)
			e = protowire.AppendBytes(protowire.AppendTag(e, 2, protowire.BytesType), kv)
		}
		return protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), e)
	}
	prefix := append(append(elem("components", ""), elem("component", "chassis")...), elem("state", "")...)
	notif := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(ts))
	notif = protowire.AppendBytes(protowire.AppendTag(notif, 2, protowire.BytesType), prefix)
	var upd []byte
	for i := range n {
		val := protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), uint64(i)) // uint_val
		upd = protowire.AppendBytes(protowire.AppendTag(upd[:0], 1, protowire.BytesType), elem(fmt.Sprintf("leaf-%d", i), ""))
		upd = protowire.AppendBytes(protowire.AppendTag(upd, 3, protowire.BytesType), val)
		notif = protowire.AppendBytes(protowire.AppendTag(notif, 4, protowire.BytesType), upd)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), notif)
}

// jsonLeaves returns a SubscribeResponse whose one update holds a
// JSON_IETF tree of ifaces interfaces × 30 counters.
func jsonLeaves(ts int64, ifaces int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"openconfig-interfaces:interface":[`)
	for i := range ifaces {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"Ethernet%d","state":{"counters":{`, i)
		for j := range 30 {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `"counter-%d":"%d"`, j, i*30+j)
		}
		sb.WriteString(`}}}`)
	}
	sb.WriteString(`]}`)
	var path, val, upd, notif []byte
	elem := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "interfaces")
	path = protowire.AppendBytes(protowire.AppendTag(path, 3, protowire.BytesType), elem)
	val = protowire.AppendString(protowire.AppendTag(val, 11, protowire.BytesType), sb.String()) // json_ietf_val
	upd = protowire.AppendBytes(protowire.AppendTag(upd, 1, protowire.BytesType), path)
	upd = protowire.AppendBytes(protowire.AppendTag(upd, 3, protowire.BytesType), val)
	notif = protowire.AppendVarint(protowire.AppendTag(notif, 1, protowire.VarintType), uint64(ts))
	notif = protowire.AppendBytes(protowire.AppendTag(notif, 4, protowire.BytesType), upd)
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), notif)
}

// heapSampler records the peak of the live heap (as of each GC) and of all
// heap objects, live or not yet collected.
type heapSampler struct {
	live, objects atomic.Uint64
	stop          chan struct{}
	done          chan struct{}
}

func sampleHeap(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(s)
			h.live.Store(max(h.live.Load(), s[0].Value.Uint64()))
			h.objects.Store(max(h.objects.Load(), s[1].Value.Uint64()))
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() { close(h.stop); <-h.done }

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // a sync.Pool's victim cache lives through one collection
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// beyond is how far v is above base, 0 when below: the heap after the
// messages can be below the base when memory an earlier test held (pooled
// buffers) is freed meanwhile.
func beyond(v, base uint64) uint64 {
	if v < base {
		return 0
	}
	return v - base
}

// perTargetCap is the memory a target may take beyond max_buffered_bytes,
// as collectors/README.md documents it: its caches (max_cache_bytes), one
// batch (max batch bytes), and, while a message is decoded, four times the
// message (gRPC's receive buffer and the collector's copy, with room), or
// twelve times for a JSON value, whose tree is decoded whole.
func perTargetCap(cacheBytes, msgBytes int, json bool) uint64 {
	factor := 4
	if json {
		factor = 12
	}
	return uint64(cacheBytes + publish.DefaultMaxBatchBytes + factor*msgBytes)
}

// TestHostileTargetsMemory: hostile targets (two sending a million updates
// of distinct paths in one notification; one a 300,000-leaf JSON_IETF
// tree) into a real Kafka: every update is decoded and every sample
// published, while the live heap stays within max_buffered_bytes plus
// perTargetCap per target, and after it only the caches (max_cache_bytes
// per target) remain. The test's own gNMI servers share the heap, so the
// bound holds with their buffers counted too.
func TestHostileTargetsMemory(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	ts := time.Now().UnixNano()
	for _, tc := range []struct {
		name     string
		msgs     [][]byte
		encoding string
		want     int
	}{
		{"proto-1e6-updates", [][]byte{manyLeaves(ts, 1_000_000), manyLeaves(ts, 1_000_000)}, "proto", 2_000_000},
		{"json-300k-leaves", [][]byte{jsonLeaves(ts, 10_000)}, "json_ietf", 300_000},
	} {
		t.Run(tc.name, func(t *testing.T) { hostileRun(t, broker, tc.msgs, tc.encoding, tc.want) })
	}
}

func hostileRun(t *testing.T, broker string, msgs [][]byte, encoding string, want int) {
	const (
		maxBuffered = 16 << 20
		cacheCap    = 16 << 20
	)
	var targets []gnmi.Target
	var bound uint64 = maxBuffered
	for i, msg := range msgs {
		addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
			if err := send(msg); err != nil {
				return err
			}
			return send(syncResponse)
		})
		targets = append(targets, gnmi.Target{Name: fmt.Sprintf("hostile-%d", i), Address: addr, MaxCacheBytes: cacheCap, StallTimeout: -1})
		bound += perTargetCap(cacheCap, len(msg), encoding != "proto")
	}
	ctx := context.Background()
	cl, err := kafka.Connect(ctx, kafka.Config{Brokers: []string{broker}}, kgo.MaxBufferedBytes(maxBuffered))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topic := fmt.Sprintf("tk.samples.gnmi-hostile-%d", time.Now().UnixNano())
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	defer dropTopic(cl, topic)
	pub, err := publish.New(cl, publish.Config{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig(targets)
	cfg.Subscriptions[0].Encoding = encoding
	base := liveHeap()
	h := sampleHeap(2 * time.Millisecond)
	start := time.Now()
	c, stop := runCollector(t, cfg, pub, slog.New(slog.NewTextHandler(&testenv.LogBuffer{}, nil)))
	defer stop()
	deadline := time.Now().Add(5 * time.Minute)
	// + each target's state and reason when it came up (targetstate.go).
	for c.Stats().Samples != uint64(want) || pub.Stats().Samples != int64(want+2*len(targets)) {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 minutes: collector %+v, publisher %+v; want %d samples", c.Stats(), pub.Stats(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	retained := beyond(liveHeap(), base)
	h.finish()
	mb := func(v uint64) string { return fmt.Sprintf("%.1f MB", float64(v)/(1<<20)) }
	peak := beyond(h.live.Load(), base)
	// The caches are the only memory a target keeps; 4 MiB of slack for the
	// connections and runtime.
	keep := uint64(len(msgs)*cacheCap + 4<<20)
	t.Logf("%v to decode and publish %d samples; heap beyond the base of %s: peak live %s (bound %s), peak objects %s, retained after GC %s (bound %s); stats %+v",
		took, want, mb(base), mb(peak), mb(bound), mb(beyond(h.objects.Load(), base)), mb(retained), mb(keep), c.Stats())
	if ps := pub.Stats(); ps.Errors != 0 || c.Stats().Failures != 0 {
		t.Fatalf("publisher %+v, collector %+v: want no error and no failure", ps, c.Stats())
	}
	if peak > bound {
		t.Errorf("peak live heap %s above max_buffered_bytes + the per-target caps, %s", mb(peak), mb(bound))
	}
	if retained > keep {
		t.Errorf("retained %s after the messages, above the caches' %s", mb(retained), mb(keep))
	}
}
