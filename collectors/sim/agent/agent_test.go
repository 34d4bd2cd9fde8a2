package agent

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func newAgent(t *testing.T, cfg sim.Config, ac Config, opts ...Option) *Agent {
	t.Helper()
	if cfg.Start.IsZero() {
		cfg.Start = t0
	}
	if cfg.Faults == nil {
		cfg.Faults = []sim.Fault{}
	}
	f, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ac, f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func client(t *testing.T, addr string) pb.GNMIClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return pb.NewGNMIClient(cc)
}

func subList(mode pb.SubscriptionList_Mode, enc pb.Encoding, paths ...string) *pb.SubscribeRequest {
	sl := &pb.SubscriptionList{Mode: mode, Encoding: enc}
	for _, p := range paths {
		pp, _ := gnmi.ParsePath(p)
		sl.Subscription = append(sl.Subscription, &pb.Subscription{Path: pp, Mode: pb.SubscriptionMode_SAMPLE})
	}
	return &pb.SubscribeRequest{Request: &pb.SubscribeRequest_Subscribe{Subscribe: sl}}
}

// recvUntilSync decodes responses until a sync_response and returns the
// samples.
func recvUntilSync(t *testing.T, st pb.GNMI_SubscribeClient, dec *gnmi.Decoder) {
	t.Helper()
	for {
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		res, err := dec.DecodeResponse(r, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sync {
			return
		}
	}
}

func TestStreamOnceAndPoll(t *testing.T) {
	a := newAgent(t, sim.Config{Devices: 2, Interfaces: 2, Transceivers: true}, Config{})
	tg := a.Targets()
	if len(tg) != 2 || tg[0].Name != "sim-00" {
		t.Fatalf("targets %+v", tg)
	}
	ctx := context.Background()
	per := a.Fleet().SeriesPerDevice()
	for _, enc := range []pb.Encoding{pb.Encoding_PROTO, pb.Encoding_JSON_IETF} {
		b := publish.NewBatch(memory.NewGoAllocator(), "sim-00", schemas.SourceGNMI)
		dec, err := gnmi.NewDecoder(b, gnmi.DecoderConfig{DerivePower: new(false)})
		if err != nil {
			t.Fatal(err)
		}
		st, err := client(t, tg[0].Addr).Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(subList(pb.SubscriptionList_STREAM, enc, "/")); err != nil {
			t.Fatal(err)
		}
		recvUntilSync(t, st, dec) // the snapshot of what was stepped before
		before := b.Len()
		for range 3 {
			if _, err := a.Step(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for b.Len() < before+3*per {
			r, err := st.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dec.DecodeResponse(r, 0); err != nil {
				t.Fatal(err)
			}
		}
		rec := b.NewRecord()
		got, _ := schemas.Samples(rec)
		rec.Release()
		b.Release()
		if len(got) != before+3*per {
			t.Fatalf("%v: %d samples, want %d", enc, len(got), before+3*per)
		}
		// The values are the fleet's: compare one tick with a twin fleet.
		twin, _ := sim.New(a.Fleet().Config())
		var want []schemas.Sample
		for range a.Stats().Steps {
			want = want[:0]
			twin.Next(func(s *schemas.Sample) {
				if s.Device == "sim-00" {
					want = append(want, *s)
				}
			})
		}
		last := got[len(got)-per:]
		for i, w := range want {
			if !sameSample(last[i], w) {
				t.Fatalf("%v: sample %d: got %+v, want %+v", enc, i, last[i], w)
			}
		}
	}

	// ONCE: the current values, a sync, the end of the stream.
	st, _ := client(t, tg[1].Addr).Subscribe(ctx)
	_ = st.Send(subList(pb.SubscriptionList_ONCE, pb.Encoding_PROTO, "/interfaces/interface[name=Ethernet2]/state/counters"))
	n := 0
	for {
		r, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n += len(r.GetUpdate().GetUpdate())
	}
	if n != 5 {
		t.Fatalf("ONCE gave %d updates, want the 5 counters", n)
	}

	// POLL: a snapshot per poll.
	st, _ = client(t, tg[1].Addr).Subscribe(ctx)
	_ = st.Send(subList(pb.SubscriptionList_POLL, pb.Encoding_PROTO, "/components/component[name=*]/fan"))
	for poll := 0; poll < 3; poll++ {
		if poll > 0 {
			_ = st.Send(&pb.SubscribeRequest{Request: &pb.SubscribeRequest_Poll{Poll: &pb.Poll{}}})
		}
		n := 0
		for {
			r, err := st.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if r.GetSyncResponse() {
				break
			}
			n += len(r.GetUpdate().GetUpdate())
		}
		if n != 2 {
			t.Fatalf("poll %d: %d updates, want 2 fans", poll, n)
		}
	}
	_ = st.CloseSend()

	// An unknown path is NotFound.
	st, _ = client(t, tg[1].Addr).Subscribe(ctx)
	_ = st.Send(subList(pb.SubscriptionList_STREAM, pb.Encoding_PROTO, "/no/such/thing"))
	if _, err := st.Recv(); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown path: %v", err)
	}
}

func TestOnChangeAndSampleInterval(t *testing.T) {
	a := newAgent(t, sim.Config{Devices: 1, Interfaces: 1, Interval: time.Second}, Config{})
	ctx := context.Background()
	st, _ := client(t, a.Targets()[0].Addr).Subscribe(ctx)
	sl := &pb.SubscriptionList{Mode: pb.SubscriptionList_STREAM, UpdatesOnly: true, Subscription: []*pb.Subscription{
		{Path: must(gnmi.ParsePath("/interfaces/interface/state/oper-status")), Mode: pb.SubscriptionMode_ON_CHANGE, HeartbeatInterval: uint64(4 * time.Second)},
		{Path: must(gnmi.ParsePath("/interfaces/interface/state/counters/in-octets")), Mode: pb.SubscriptionMode_SAMPLE, SampleInterval: uint64(2 * time.Second)},
	}}
	_ = st.Send(&pb.SubscribeRequest{Request: &pb.SubscribeRequest_Subscribe{Subscribe: sl}})
	if r, err := st.Recv(); err != nil || !r.GetSyncResponse() {
		t.Fatalf("updates_only: want a sync first, got %v %v", r, err)
	}
	for range 8 {
		if _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string]int{}
	for counts["in-octets"] < 4 {
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range r.GetUpdate().GetUpdate() {
			counts[u.GetPath().GetElem()[len(u.GetPath().GetElem())-1].GetName()]++
		}
	}
	// oper-status: once when first seen (step 0), then heartbeats at 4.
	if counts["oper-status"] != 2 {
		t.Fatalf("counts %v", counts)
	}
}

func must(p *pb.Path, err error) *pb.Path {
	if err != nil {
		panic(err)
	}
	return p
}

// TestNewRejectsBadConfig: New validates its Config and names the field.
func TestNewRejectsBadConfig(t *testing.T) {
	f, err := sim.New(sim.Config{Devices: 1, Interfaces: 1, Start: t0, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{BasePort: 70000}, f); err == nil || err.Error() != "sim agent: base_port: 70000 is not a port (0 to 65535)" {
		t.Errorf("New(base_port 70000) = %v, want the base_port error", err)
	}
}
