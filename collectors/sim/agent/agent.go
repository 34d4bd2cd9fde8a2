// Package agent serves a simulated fleet (collectors/sim) over the network:
// every virtual device is a real gNMI server (gRPC Subscribe over TCP,
// optionally TLS or mutual TLS, optionally checking username/password
// metadata) on its own 127.0.0.1 port, serving STREAM (SAMPLE, ON_CHANGE,
// TARGET_DEFINED, with heartbeats and suppress_redundant), ONCE and POLL in
// the PROTO, JSON_IETF and JSON encodings; and every device answers SNMP
// (see SNMP).
//
// One server per device, rather than one listener that routes by the gNMI
// target field: real fleets are one address per device, so the collector is
// exercised as in production (a connection, TLS handshake, backoff and
// failure per target), and a device can be restarted, stalled or made to
// misbehave without touching the others.
//
// The fleet advances only when Step (or Run) is called; each step's values
// go to every subscriber of each device. Subscribers are fed through a
// bounded queue: when a collector reads slower than the fleet steps, Step
// waits (back-pressure) instead of dropping values, so tests can count rows
// exactly.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// DefaultQueueTicks is the number of steps a subscriber may fall behind
// before Step waits for it.
const DefaultQueueTicks = 64

// Target is one device's gNMI address.
type Target struct {
	Name, Addr string
}

// Stats counts what the agent served.
type Stats struct {
	Steps int64 // fleet ticks
	// Values counts the leaf values of the steps taken, each device's
	// present leaves (a vanished LLDP neighbour's excluded): what one
	// subscriber to every leaf of every device, sampled each step,
	// receives as updates.
	Values      int64
	Updates     int64 // leaf values sent over gNMI
	Responses   int64 // SubscribeResponses sent
	Subscribers int64 // STREAM subscriptions now open
}

// Agent serves a fleet. Its methods are safe for concurrent use.
type Agent struct {
	cfg     Config
	tls     *tls.Config
	log     *slog.Logger
	devices []*device
	byName  map[string]*device

	stepMu sync.Mutex // serialises Step: the fleet is not safe for concurrent use
	fleet  *sim.Fleet
	nsteps atomic.Int64

	updates, responses, subscribers, values atomic.Int64

	password atomic.Pointer[string] // see SetPassword; nil: cfg.Password
}

type device struct {
	a    *Agent
	name string
	addr string
	// tab is the device's leaves; devices without series of their own
	// (no topology) share one.
	tab *table

	mu      sync.Mutex
	srv     *grpc.Server
	cur     *tick
	subs    map[*subscriber]struct{}
	stalled bool
	wake    chan struct{} // closed when the device is unstalled
	garbage int           // malformed responses still to send
	// unreachable: a target_unreachable fault holds it (targetloss.go);
	// only Step touches it. lostSubs: its STREAM subscribers then; lost
	// is closed then, to end them.
	unreachable bool
	lostSubs    int
	lost        chan struct{}

	curve atomic.Uint32 // tls.CurveID of the last TLS handshake
}

// tick is the values of one device at one step. It is not modified once
// published.
type tick struct {
	seq  int64
	ts   int64
	vals []value
}

// New starts one gNMI server per device of fleet and returns when all
// listen. The fleet must not be used elsewhere afterwards: the agent steps
// it. Close stops the servers. cfg takes its defaults; opts set the TLS
// configuration and the logger.
func New(cfg Config, fleet *sim.Fleet, opts ...Option) (*Agent, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim agent: %w", err)
	}
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	a := &Agent{cfg: cfg, tls: o.tls, log: o.log.With("component", "sim-agent"), fleet: fleet, byName: map[string]*device{}}
	common := newTable(fleet.Series(), cfg.WholeDevice)
	for i, name := range fleet.Devices() {
		d := &device{a: a, name: name, subs: map[*subscriber]struct{}{}, tab: common, lost: make(chan struct{})}
		if series := fleet.DeviceLeaves(i); len(series) > len(common.leaves) {
			d.tab = newTable(series, cfg.WholeDevice)
		}
		port := 0
		if cfg.BasePort > 0 {
			port = cfg.BasePort + i
		}
		lis, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(port)))
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("sim agent: device %s: cannot listen: %w", name, err)
		}
		d.addr = lis.Addr().String()
		d.serve(lis)
		a.devices = append(a.devices, d)
		a.byName[name] = d
	}
	return a, nil
}

func (d *device) serve(lis net.Listener) {
	sopts := []grpc.ServerOption{grpc.ForceServerCodecV2(gnmi.Codec{})}
	if d.a.tls != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(d.a.tls)))
	}
	srv := grpc.NewServer(sopts...)
	pb.RegisterGNMIServer(srv, &gnmiServer{d: d})
	d.mu.Lock()
	d.srv = srv
	d.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// Targets returns the devices' names and gNMI addresses.
func (a *Agent) Targets() []Target {
	out := make([]Target, len(a.devices))
	for i, d := range a.devices {
		out[i] = Target{Name: d.name, Addr: d.addr}
	}
	return out
}

// Fleet returns the simulated fleet (for its Config, Labels and Series; do
// not step it).
func (a *Agent) Fleet() *sim.Fleet { return a.fleet }

// Stats returns the counters so far.
func (a *Agent) Stats() Stats {
	return Stats{Steps: a.nsteps.Load(), Values: a.values.Load(), Updates: a.updates.Load(), Responses: a.responses.Load(), Subscribers: a.subscribers.Load()}
}

// Close stops every device server, ending open streams.
func (a *Agent) Close() {
	for _, d := range a.devices {
		d.mu.Lock()
		srv := d.srv
		d.srv = nil
		d.mu.Unlock()
		if srv != nil {
			srv.Stop()
		}
	}
}

// Step advances the fleet by one tick and queues the values to every
// subscriber. It waits while a subscriber's queue is full, until ctx ends.
// It returns the tick's time.
func (a *Agent) Step(ctx context.Context) (time.Time, error) {
	a.stepMu.Lock()
	defer a.stepMu.Unlock()
	now := a.fleet.Now()
	seq := a.nsteps.Load()
	if err := a.reach(ctx, now); err != nil {
		return now, err
	}
	all := make([]value, a.fleet.LeavesPerTick())
	n, present := 0, int64(0)
	dev, end := 0, 0 // the device of sample n, and the end of its leaves
	a.fleet.NextFixed(func(s *schemas.Sample) {
		for n >= end && dev < len(a.devices) {
			end += len(a.devices[dev].tab.leaves)
			dev++
		}
		// An unreachable device sends nothing: its values do not count.
		if !vanishedSample(s) && !a.devices[dev-1].unreachable {
			present++
		}
		v := &all[n]
		switch s.Kind {
		case schemas.KindCounter:
			v.u = s.U64
		case schemas.KindGauge:
			v.f = s.F64
		default:
			v.s = s.Str
		}
		n++
	})
	off := 0
	for _, d := range a.devices {
		end := off + len(d.tab.leaves)
		t := &tick{seq: seq, ts: now.UnixNano(), vals: all[off:end:end]}
		off = end
		if err := d.publish(ctx, t); err != nil {
			return now, err
		}
	}
	a.values.Add(present)
	a.nsteps.Add(1)
	return now, nil
}

// Now returns the time of the next step.
func (a *Agent) Now() time.Time {
	a.stepMu.Lock()
	defer a.stepMu.Unlock()
	return a.fleet.Now()
}

// Run steps the fleet at speed simulated seconds per wall second (+Inf: as
// fast as subscribers take it), never past the wall clock, until span of
// simulated time has passed (0: no end) or ctx ends.
func (a *Agent) Run(ctx context.Context, speed float64, span time.Duration) error {
	simStart, wallStart := a.Now(), time.Now()
	interval := a.fleet.Config().Interval
	for ctx.Err() == nil {
		wall := time.Now()
		target := wall
		if !math.IsInf(speed, 1) {
			target = simStart.Add(time.Duration(float64(wall.Sub(wallStart)) * speed))
			if target.After(wall) {
				target = wall
			}
		}
		for !a.Now().After(target) && ctx.Err() == nil {
			if span > 0 && !a.Now().Before(simStart.Add(span)) {
				return nil
			}
			if _, err := a.Step(ctx); err != nil {
				return err
			}
		}
		wait := min(max(time.Duration(float64(interval)/speed), time.Millisecond), 100*time.Millisecond)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return ctx.Err()
}

func (d *device) publish(ctx context.Context, t *tick) error {
	d.mu.Lock()
	d.cur = t
	if d.stalled {
		d.mu.Unlock()
		return nil
	}
	subs := make([]*subscriber, 0, len(d.subs))
	for s := range d.subs {
		subs = append(subs, s)
	}
	d.mu.Unlock()
	for _, s := range subs {
		select {
		case s.ch <- t:
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (a *Agent) device(name string) (*device, error) {
	d, ok := a.byName[name]
	if !ok {
		return nil, fmt.Errorf("sim agent: %w %q", ErrUnknownDevice, name)
	}
	return d, nil
}

// locked calls f with the named device's lock held.
func (a *Agent) locked(name string, f func(d *device)) error {
	d, err := a.device(name)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
	return nil
}

// SetPassword changes the password every device requires of new
// subscriptions (with Config.Username set), as an operator rotating it on
// the devices does; open subscriptions go on.
func (a *Agent) SetPassword(p string) { a.password.Store(&p) }

// passwordNow returns the password new subscriptions must carry.
func (a *Agent) passwordNow() string {
	if p := a.password.Load(); p != nil {
		return *p
	}
	return a.cfg.Password
}

// Stop stops one device's server, as a device reboot does: its streams end
// and it refuses connections until Start.
func (a *Agent) Stop(name string) error {
	var srv *grpc.Server
	if err := a.locked(name, func(d *device) { srv, d.srv = d.srv, nil }); err != nil {
		return err
	}
	if srv != nil {
		srv.Stop()
	}
	return nil
}

// Start starts a stopped device's server again on the same address.
func (a *Agent) Start(name string) error {
	d, err := a.device(name)
	if err != nil {
		return err
	}
	d.mu.Lock()
	running := d.srv != nil
	d.mu.Unlock()
	if running {
		return nil
	}
	var lis net.Listener
	for i := 0; ; i++ { // the old socket may linger a moment
		lis, err = net.Listen("tcp", d.addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("sim agent: device %s: cannot listen again: %w", name, err)
	}
	d.serve(lis)
	return nil
}

// Stall makes a device hang (on) or recover (off): a hung device keeps its
// connections open but sends nothing, and new subscriptions get no answer.
// Steps taken while it hangs are lost to its subscribers.
func (a *Agent) Stall(name string, on bool) error {
	return a.locked(name, func(d *device) {
		switch {
		case on && !d.stalled:
			d.stalled, d.wake = true, make(chan struct{})
		case !on && d.stalled:
			d.stalled = false
			close(d.wake)
		}
	})
}

// SendMalformed makes the device's next step send each subscriber n
// responses that are not valid protobuf before the real ones.
func (a *Agent) SendMalformed(name string, n int) error {
	return a.locked(name, func(d *device) { d.garbage = n })
}

// CurveID returns the key-exchange group negotiated by the device's last
// TLS handshake (0 before any).
func (a *Agent) CurveID(name string) tls.CurveID {
	d, err := a.device(name)
	if err != nil {
		return 0
	}
	return tls.CurveID(d.curve.Load())
}

// ErrUnknownDevice is returned for a device name the fleet does not have.
var ErrUnknownDevice = errors.New("unknown device")
