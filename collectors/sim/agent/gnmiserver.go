package agent

import (
	"context"
	"math"
	"slices"
	"strings"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/schemas"
)

// gnmiServer is one device's gNMI service.
type gnmiServer struct {
	pb.UnimplementedGNMIServer
	d *device
}

// Capabilities lists the encodings and models served.
func (g *gnmiServer) Capabilities(context.Context, *pb.CapabilityRequest) (*pb.CapabilityResponse, error) {
	return &pb.CapabilityResponse{
		SupportedModels: []*pb.ModelData{
			{Name: "openconfig-interfaces", Organization: "OpenConfig working group", Version: "3.0.0"},
			{Name: "openconfig-platform", Organization: "OpenConfig working group", Version: "0.24.0"},
		},
		SupportedEncodings: []pb.Encoding{pb.Encoding_PROTO, pb.Encoding_JSON_IETF, pb.Encoding_JSON},
		GNMIVersion:        "0.10.0",
	}, nil
}

// Subscribe serves one subscription list.
func (g *gnmiServer) Subscribe(stream pb.GNMI_SubscribeServer) error {
	d := g.d
	ctx := stream.Context()
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			d.curve.Store(uint32(ti.State.CurveID))
		}
	}
	if u := d.a.cfg.Username; u != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		if first(md.Get("username")) != u || first(md.Get("password")) != d.a.passwordNow() {
			return status.Error(codes.Unauthenticated, "bad username or password")
		}
	}
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	sl := req.GetSubscribe()
	if sl == nil {
		return status.Error(codes.InvalidArgument, "the first SubscribeRequest must hold a SubscriptionList")
	}
	switch sl.GetEncoding() {
	case pb.Encoding_PROTO, pb.Encoding_JSON_IETF, pb.Encoding_JSON:
	default:
		return status.Errorf(codes.Unimplemented, "encoding %v is not supported (PROTO, JSON_IETF, JSON are)", sl.GetEncoding())
	}
	s, err := d.newSubscriber(sl)
	if err != nil {
		return err
	}
	if err := d.waitAwake(ctx); err != nil {
		return err
	}
	switch sl.GetMode() {
	case pb.SubscriptionList_ONCE:
		return s.snapshot(stream, d.current())
	case pb.SubscriptionList_POLL:
		if err := s.snapshot(stream, d.current()); err != nil {
			return err
		}
		for {
			r, err := stream.Recv()
			if err != nil {
				return nil // the client went away
			}
			if r.GetPoll() == nil {
				return status.Error(codes.InvalidArgument, "only Poll requests may follow a POLL subscription")
			}
			if err := s.snapshot(stream, d.current()); err != nil {
				return err
			}
		}
	}
	// STREAM: register first, so no step falls between the snapshot and
	// the queue.
	d.mu.Lock()
	cur, lost := d.cur, d.lost
	d.subs[s] = struct{}{}
	d.mu.Unlock()
	d.a.subscribers.Add(1)
	defer func() {
		d.mu.Lock()
		delete(d.subs, s)
		d.mu.Unlock()
		close(s.done)
		d.a.subscribers.Add(-1)
	}()
	if !sl.GetUpdatesOnly() {
		if cur != nil {
			s.mark(cur)
			if err := s.send(stream, cur, true); err != nil {
				return err
			}
		}
	}
	if err := s.sync(stream); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-lost:
			return s.lose(stream)
		case t := <-s.ch:
			if err := d.sendGarbage(stream); err != nil {
				return err
			}
			if err := s.send(stream, t, false); err != nil {
				return err
			}
		}
	}
}

// lose ends a subscription of a device that becomes unreachable (a
// target_unreachable fault): the steps already queued go out first, then
// the stream ends with Unavailable, as a device lost mid-stream does.
func (s *subscriber) lose(stream pb.GNMI_SubscribeServer) error {
	for {
		select {
		case t := <-s.ch:
			if err := s.send(stream, t, false); err != nil {
				return err
			}
		default:
			return status.Error(codes.Unavailable, "target unreachable")
		}
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (d *device) current() *tick {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur
}

func (d *device) waitAwake(ctx context.Context) error {
	d.mu.Lock()
	stalled, wake := d.stalled, d.wake
	d.mu.Unlock()
	if !stalled {
		return nil
	}
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *device) sendGarbage(stream pb.GNMI_SubscribeServer) error {
	d.mu.Lock()
	n := d.garbage
	d.garbage = 0
	d.mu.Unlock()
	for range n {
		// Field 1 (notification) claims 100 bytes and holds 2.
		if err := stream.SendMsg(&gnmi.RawMessage{B: []byte{0x0a, 100, 1, 2}}); err != nil {
			return err
		}
	}
	return nil
}

// entry is one leaf a subscriber receives, with its mode.
type entry struct {
	leaf      int
	onChange  bool
	every     int64 // send every this many steps (SAMPLE)
	suppress  bool  // SAMPLE with suppress_redundant
	heartbeat int64 // steps; 0 none
	last      value
	lastSeq   int64
	sent      bool
}

type subscriber struct {
	d       *device
	enc     pb.Encoding
	prefix  [][]byte // per group: the encoded prefix Path
	byGroup [][]int  // per group: indices into entries
	entries []entry  // by leaf order
	ch      chan *tick
	done    chan struct{}
	buf     []byte
}

func (d *device) newSubscriber(sl *pb.SubscriptionList) (*subscriber, error) {
	tab := d.tab
	interval := int64(d.a.fleet.Config().Interval)
	steps := func(ns uint64) int64 {
		if ns == 0 {
			return 0
		}
		return max(1, int64(math.Round(float64(ns)/float64(interval))))
	}
	s := &subscriber{d: d, enc: sl.GetEncoding(), ch: make(chan *tick, d.a.cfg.QueueTicks), done: make(chan struct{}),
		byGroup: make([][]int, len(tab.groups)), prefix: make([][]byte, len(tab.groups))}
	taken := make([]bool, len(tab.leaves))
	for _, sub := range sl.GetSubscription() {
		path := append(slices.Clone(sl.GetPrefix().GetElem()), sub.GetPath().GetElem()...)
		if p := gnmi.FormatPath(&pb.Path{Elem: path}); slices.ContainsFunc(d.a.cfg.Unsupported, func(u string) bool { return strings.HasPrefix(p, u) }) {
			return nil, status.Errorf(codes.NotFound, "this device has no model at %s", p)
		}
		n := 0
		for i := range tab.leaves {
			if !matches(path, tab.leaves[i].elems) {
				continue
			}
			n++
			if taken[i] {
				continue
			}
			taken[i] = true
			e := entry{leaf: i, every: 1, heartbeat: steps(sub.GetHeartbeatInterval())}
			switch sub.GetMode() {
			case pb.SubscriptionMode_ON_CHANGE:
				e.onChange = true
			case pb.SubscriptionMode_SAMPLE:
				e.every = max(1, steps(sub.GetSampleInterval()))
				e.suppress = sub.GetSuppressRedundant()
			default: // TARGET_DEFINED: states on change, the rest sampled
				e.onChange = tab.leaves[i].kind == schemas.KindState
			}
			s.entries = append(s.entries, e)
		}
		if n == 0 && !inSchema(path) {
			return nil, status.Errorf(codes.NotFound, "no data at path %s", gnmi.FormatPath(&pb.Path{Origin: sub.GetPath().GetOrigin(), Elem: path}))
		}
	}
	slices.SortFunc(s.entries, func(a, b entry) int { return a.leaf - b.leaf })
	for i, e := range s.entries {
		g := tab.leaves[e.leaf].group
		s.byGroup[g] = append(s.byGroup[g], i)
	}
	target := sl.GetPrefix().GetTarget()
	for g := range tab.groups {
		if len(s.byGroup[g]) == 0 {
			continue
		}
		p, err := proto.Marshal(&pb.Path{Elem: tab.groups[g].prefix, Target: target, Origin: sl.GetPrefix().GetOrigin()})
		if err != nil {
			return nil, status.Errorf(codes.Internal, "cannot encode prefix: %v", err)
		}
		s.prefix[g] = p
	}
	return s, nil
}

// mark records t's values as sent (for the initial snapshot).
func (s *subscriber) mark(t *tick) {
	for i := range s.entries {
		e := &s.entries[i]
		e.last, e.lastSeq, e.sent = t.vals[e.leaf], t.seq, true
	}
}

// snapshot sends every leaf's current value and a sync_response.
func (s *subscriber) snapshot(stream pb.GNMI_SubscribeServer, t *tick) error {
	if t != nil {
		if err := s.send(stream, t, true); err != nil {
			return err
		}
	}
	return s.sync(stream)
}

func (s *subscriber) sync(stream pb.GNMI_SubscribeServer) error {
	b := protowire.AppendTag(nil, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	return stream.SendMsg(&gnmi.RawMessage{B: b})
}

// send sends the leaves due at t (all of them when all), one notification
// per list entry.
func (s *subscriber) send(stream pb.GNMI_SubscribeServer, t *tick, all bool) error {
	tab := s.d.tab
	for g, idx := range s.byGroup {
		if len(idx) == 0 {
			continue
		}
		body := s.buf[:0]
		body = protowire.AppendTag(body, 1, protowire.VarintType)
		body = protowire.AppendVarint(body, uint64(t.ts))
		body = protowire.AppendTag(body, 2, protowire.BytesType)
		body = protowire.AppendBytes(body, s.prefix[g])
		n := 0
		var dels [][]byte
		for _, i := range idx {
			e := &s.entries[i]
			v := &t.vals[e.leaf]
			if e.vanished(&tab.leaves[e.leaf], v, t.seq, &dels) {
				continue
			}
			if !all && !e.due(t.seq, v) {
				continue
			}
			body = appendUpdate(body, &tab.leaves[e.leaf], v, s.enc)
			e.last, e.lastSeq, e.sent = *v, t.seq, true
			n++
		}
		if s.d.a.cfg.NoDeletes {
			dels = nil
		}
		for _, p := range dels {
			body = protowire.AppendTag(body, 5, protowire.BytesType)
			body = protowire.AppendBytes(body, p)
		}
		s.buf = body
		if n == 0 && len(dels) == 0 {
			continue
		}
		msg := make([]byte, 0, len(body)+protowire.SizeTag(1)+protowire.SizeVarint(uint64(len(body))))
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendBytes(msg, body)
		if err := stream.SendMsg(&gnmi.RawMessage{B: msg}); err != nil {
			return err
		}
		s.d.a.updates.Add(int64(n))
		s.d.a.responses.Add(1)
	}
	return nil
}

// due reports whether an entry is sent at step seq with value v.
func (e *entry) due(seq int64, v *value) bool {
	changed := !e.sent || *v != e.last
	heartbeat := e.heartbeat > 0 && seq-e.lastSeq >= e.heartbeat
	if e.onChange {
		return changed || heartbeat
	}
	if seq%e.every != 0 {
		return false
	}
	if e.suppress {
		return changed || heartbeat
	}
	return true
}

var _ pb.GNMIServer = (*gnmiServer)(nil)
