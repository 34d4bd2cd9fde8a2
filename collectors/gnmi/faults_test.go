package gnmi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/internal/testenv"
)

// script plays one Subscribe stream of a rawTarget: it sends pre-encoded
// SubscribeResponses until it returns or ctx (the stream's) ends.
type script func(ctx context.Context, send func([]byte) error) error

// rawTarget starts a gNMI server whose every Subscribe stream is played by
// play, and returns its address and the number of streams opened so far.
func rawTarget(t *testing.T, play script) (string, *atomic.Int32) {
	t.Helper()
	return serveAt(t, "127.0.0.1:0", play)
}

// serveAt is rawTarget on addr.
func serveAt(t *testing.T, addr string, play script) (string, *atomic.Int32) {
	t.Helper()
	var streams atomic.Int32
	desc := grpc.ServiceDesc{ServiceName: "gnmi.gNMI", HandlerType: (*any)(nil), Streams: []grpc.StreamDesc{{
		StreamName: "Subscribe", ServerStreams: true, ClientStreams: true,
		Handler: func(_ any, ss grpc.ServerStream) error {
			var req gnmi.RawMessage
			if err := ss.RecvMsg(&req); err != nil {
				return err
			}
			streams.Add(1)
			if err := play(ss.Context(), func(b []byte) error { return ss.SendMsg(&gnmi.RawMessage{B: b}) }); err != nil {
				return err
			}
			<-ss.Context().Done()
			return nil
		},
	}}}
	srv := grpc.NewServer(grpc.ForceServerCodecV2(gnmi.Codec{}))
	srv.RegisterService(&desc, struct{}{})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), &streams
}

// encode marshals a SubscribeResponse holding n.
func encode(t testing.TB, n *pb.Notification) []byte {
	t.Helper()
	raw, err := proto.Marshal(&pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: n}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

var syncResponse = func() []byte {
	raw, _ := proto.Marshal(&pb.SubscribeResponse{Response: &pb.SubscribeResponse_SyncResponse{SyncResponse: true}})
	return raw
}()

// chassis returns a notification of ifaces interfaces × counters counters,
// stamped ts.
func chassis(t testing.TB, ts int64, ifaces, counters int) []byte {
	n := &pb.Notification{Timestamp: ts}
	for i := range ifaces {
		for j := range counters {
			p := &pb.Path{Elem: []*pb.PathElem{{Name: "interfaces"}, {Name: "interface", Key: map[string]string{"name": fmt.Sprintf("Ethernet%d/%d", i/48, i%48)}},
				{Name: "state"}, {Name: "counters"}, {Name: fmt.Sprintf("counter-%d", j)}}}
			n.Update = append(n.Update, &pb.Update{Path: p, Val: u64(uint64(i*counters + j))})
		}
	}
	return encode(t, n)
}

func u64(v uint64) *pb.TypedValue { return &pb.TypedValue{Value: &pb.TypedValue_UintVal{UintVal: v}} }

// logLines returns the log lines that contain every part.
func logLines(logs *testenv.LogBuffer, parts ...string) []string {
	var out []string
	for _, l := range strings.Split(logs.String(), "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// TestStreamWithoutSync: a target that delivers but never sends a
// sync_response is kept (no failure, no reconnect, one warning) and is up;
// a target that sends only duplicates shows them in the drop counter while
// nothing is published.
func TestStreamWithoutSync(t *testing.T) {
	const every = 20 * time.Millisecond
	var quiet atomic.Bool // the targets stop sending (the streams stay open)
	var sent atomic.Int64
	live, liveStreams := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		for ctx.Err() == nil && !quiet.Load() {
			if err := send(chassis(t, time.Now().UnixNano(), 1, 3)); err != nil {
				return nil
			}
			sent.Add(1)
			time.Sleep(every)
		}
		return nil
	})
	dupTS := time.Now().UnixNano()
	var dupSent atomic.Int64
	dups, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(syncResponse); err != nil {
			return nil
		}
		for ctx.Err() == nil && !quiet.Load() {
			if err := send(chassis(t, dupTS, 1, 3)); err != nil {
				return nil
			}
			dupSent.Add(1)
			time.Sleep(every)
		}
		return nil
	})
	cfg := fastConfig([]gnmi.Target{
		{Name: "live", Address: live, DialTimeout: 200 * time.Millisecond, StallTimeout: 500 * time.Millisecond},
		{Name: "dups", Address: dups, DialTimeout: 200 * time.Millisecond},
	})
	reg := prometheus.NewRegistry()
	m := gnmi.NewMetrics(reg)
	logs := &testenv.LogBuffer{}
	pub := fakeKafka(t)
	c, err := gnmi.New(cfg, pub, gnmi.WithLogger(slog.New(slog.NewTextHandler(logs, nil))), gnmi.WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	up := func(target string) float64 {
		return testenv.MetricValue(t, reg, "telekernel_gnmi_target_up", "target="+target)
	}
	dropped := func() float64 {
		return testenv.MetricValue(t, reg, "telekernel_gnmi_dropped_total", "target=dups", "reason=duplicate")
	}
	// Five dial timeouts: the old collector cut the stream after each.
	waitFor(t, 10*time.Second, "five dial timeouts of deliveries", func() bool {
		return sent.Load() >= int64(5*200*time.Millisecond/every) && dupSent.Load() >= 40
	})
	if up("live") != 1 || up("dups") != 1 {
		t.Errorf("target_up: live %v, dups %v; want 1 for streams that deliver", up("live"), up("dups"))
	}
	// The duplicates show within a flush tick, though nothing is published.
	waitFor(t, 10*time.Second, "the duplicates counted", func() bool { return dropped() >= float64(3*(dupSent.Load()-2)) })
	quiet.Store(true)
	time.Sleep(2 * every)
	waitFor(t, 10*time.Second, "every duplicate counted in the metric", func() bool {
		return dropped() == float64(3*(dupSent.Load()-1)) && c.Stats().Samples == uint64(3*(sent.Load()+1))
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Failures != 0 || st.Connects != 2 || liveStreams.Load() != 1 {
		t.Fatalf("stats %+v, %d streams to live: want no failure and one stream per target", st, liveStreams.Load())
	}
	if w := logLines(logs, "level=WARN"); len(w) != 1 || !strings.Contains(w[0], "target=live") || !strings.Contains(w[0], "no sync_response") {
		t.Fatalf("want one warning about live's missing sync_response, got:\n%s", strings.Join(w, "\n"))
	}
	if want := uint64(3 * (sent.Load() + 1)); st.Samples != want {
		t.Errorf("%d samples collected, want 3 per notification: %d of live's %d and dups' first", st.Samples, st.Samples, sent.Load())
	}
	if d := st.Dropped[gnmi.DropDuplicate]; d != uint64(3*(dupSent.Load()-1)) || dropped() != float64(d) {
		t.Errorf("duplicates: stats %d, metric %v, want %d", d, dropped(), 3*(dupSent.Load()-1))
	}
}

// TestMaxMessageBytes: a response above a target's max_message_bytes fails
// its stream with one warning naming ResourceExhausted; the same response
// to a target with the default limit is collected in full.
func TestMaxMessageBytes(t *testing.T) {
	msg := chassis(t, time.Now().UnixNano(), 1000, 30) // about 2 MB
	play := func(ctx context.Context, send func([]byte) error) error {
		if err := send(msg); err != nil {
			return err
		}
		return send(syncResponse)
	}
	small, _ := rawTarget(t, play)
	big, _ := rawTarget(t, play)
	logs := &testenv.LogBuffer{}
	cfg := fastConfig([]gnmi.Target{{Name: "small", Address: small, MaxMessageBytes: 1 << 20}, {Name: "big", Address: big}})
	c, stop := runCollector(t, cfg, fakeKafka(t), slog.New(slog.NewTextHandler(logs, nil)))
	waitFor(t, 20*time.Second, "the big target's samples and the small one's failures", func() bool {
		return c.Stats().Samples == 1000*30 && c.Stats().Failures >= 2
	})
	stop()
	w := logLines(logs, "level=WARN", "target=small")
	if len(w) != 1 || !strings.Contains(w[0], "ResourceExhausted") {
		t.Fatalf("want one warning naming ResourceExhausted for small, got:\n%s", strings.Join(w, "\n"))
	}
	if len(msg) < 1<<20 {
		t.Fatalf("message of %d bytes is not above the limit", len(msg))
	}
}
