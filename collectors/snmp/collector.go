// Package snmp is telekernel's SNMP collector: it polls agents (v2c, or v3
// with USM authentication and privacy) with GetBulk walks of IF-MIB
// (ifXTable HC counters and names, ifTable oper status, errors and
// discards) and ENTITY-MIB / ENTITY-SENSOR-MIB (temperatures, fans, power
// supplies, with scale and precision applied), and on request BGP4-MIB
// (peer states) and LLDP-MIB (neighbours' system names and port ids,
// lldp.go), maps them to the same OpenConfig metric names and keys as the
// gNMI collector, and publishes one Arrow record per poll and target.
//
// Thousands of targets cost no goroutine or socket while idle: one
// scheduler goroutine keeps the targets in a heap by next poll time and
// hands due ones to a fixed pool of workers (the global concurrency limit),
// each of which opens a socket for one poll and closes it after. 32-bit
// counter wraps are unwrapped, and agent restarts (sysUpTime going back, or
// below the time since the agent's last answer) or
// interface counter discontinuities start a new baseline instead of a false
// rate spike (see counter).
package snmp

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telekernel/telekernel/collectors/internal/collector"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// Stats counts what the collector did.
type Stats struct {
	Polls, Failures, Late int64 // polls done, polls failed, polls started after their next one was due
	OIDs, Samples         int64
	Wraps, Discontinuity  int64
}

// Collector polls SNMP targets. Create it with New, start it with Run,
// change its targets with SetTargets; all methods are safe for concurrent
// use.
type Collector struct {
	cfg Config
	b   collector.Base[Metrics]

	mu      sync.Mutex
	targets map[string]*target
	queue   targetHeap
	wake    chan struct{}
	running bool

	polls, failures, late, oids, samples, wraps, discont atomic.Int64
}

type target struct {
	cfg     Target
	next    time.Time
	index   int // in the heap; -1 when out of it
	removed bool
	// cancel ends the poll in flight, which closes polling when it is
	// done; nil before the first poll.
	cancel  context.CancelFunc
	polling chan struct{}
	st      state
	lastErr string
	// noLLDP: the last poll found no LLDP-MIB neighbour (logged once).
	noLLDP bool
	reach  reach // the reachability published (targetstate.go)
}

// Option configures a Collector.
type Option func(*Collector)

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *Collector) { c.b.Log = l } }

// WithMetrics counts into m (see NewMetrics); default none.
func WithMetrics(m *Metrics) Option { return func(c *Collector) { c.b.Metrics = m } }

// New validates cfg and returns a collector publishing through pub.
func New(cfg Config, pub *publish.Publisher, opts ...Option) (*Collector, error) {
	cfg, b, err := collector.New[Config, Metrics]("snmp", cfg, pub)
	if err != nil {
		return nil, err
	}
	c := &Collector{cfg: cfg, b: b, targets: map[string]*target{}, wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(c)
	}
	c.b.Log = c.b.Log.With("component", "snmp")
	if err := c.SetTargets(cfg.Targets); err != nil {
		return nil, err
	}
	return c, nil
}

// SetTargets replaces the target list: new targets are polled from their
// first slot, removed ones are dropped, changed ones start over. A poll in
// flight of a removed or changed target is abandoned (it publishes
// nothing; one already publishing finishes) before SetTargets returns, so
// nothing of a removed target is collected after. It can be called while
// Run runs. A list that does not validate is an error, but the targets it
// leaves out are dropped all the same (a revoked bucket's are another
// process's once this returns; a target's secret file caught
// mid-rotation must not keep them), and those that stay keep their config.
func (c *Collector) SetTargets(targets []Target) error {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	cfg.Targets = targets
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		c.setTargets(c.staying(targets))
		return fmt.Errorf("snmp: %w", err)
	}
	c.setTargets(cfg.Targets)
	return nil
}

// staying returns the targets of the running config whose names are in
// targets.
func (c *Collector) staying(targets []Target) []Target {
	names := map[string]bool{}
	for _, t := range targets {
		names[t.Name] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Target
	for _, t := range c.cfg.Targets {
		if names[t.Name] {
			out = append(out, t)
		}
	}
	return out
}

// setTargets makes targets, valid and defaulted, the ones polled.
func (c *Collector) setTargets(targets []Target) {
	now := time.Now()
	c.mu.Lock()
	var polling []chan struct{} // of the polls in flight abandoned
	var forget []string
	want := map[string]Target{}
	for _, t := range targets {
		want[t.Name] = t
	}
	for name, t := range c.targets {
		if nt, ok := want[name]; !ok || !reflect.DeepEqual(nt, t.cfg) {
			t.removed = true
			if t.index >= 0 {
				heap.Remove(&c.queue, t.index)
			}
			delete(c.targets, name)
			if t.cancel != nil {
				t.cancel()
				polling = append(polling, t.polling)
			}
			if !ok {
				forget = append(forget, name)
			}
		}
	}
	for _, tc := range targets {
		if _, ok := c.targets[tc.Name]; ok {
			continue
		}
		// Spread first polls over the interval, by name, so a thousand
		// targets do not start at once.
		h := fnv.New64a()
		h.Write([]byte(tc.Name))
		t := &target{cfg: tc, next: now.Add(time.Duration(h.Sum64() % uint64(tc.Interval)))}
		t.st.log = c.b.Log.With("target", tc.Name)
		c.targets[tc.Name] = t
		heap.Push(&c.queue, t)
	}
	c.cfg.Targets = targets
	select {
	case c.wake <- struct{}{}:
	default:
	}
	c.mu.Unlock()
	for _, p := range polling {
		<-p
	}
	// Only now: an abandoned poll counted into the metrics until it ended.
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range forget {
		if _, back := c.targets[name]; back {
			continue // added again meanwhile
		}
		c.b.Pub.Forget(name)
		if c.b.Metrics != nil {
			c.b.Metrics.forget(name)
		}
	}
}

// Stats returns the counters so far.
func (c *Collector) Stats() Stats {
	return Stats{Polls: c.polls.Load(), Failures: c.failures.Load(), Late: c.late.Load(), OIDs: c.oids.Load(),
		Samples: c.samples.Load(), Wraps: c.wraps.Load(), Discontinuity: c.discont.Load()}
}

// Run polls until ctx ends, then waits for polls in flight and for Kafka to
// acknowledge what was produced (bounded by 30 s).
func (c *Collector) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("snmp: Run called twice")
	}
	c.running = true
	c.mu.Unlock()
	pctx, pcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pcancel()
	jobs := make(chan *target)
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := publish.NewBatch(c.b.Mem, "", schemas.SourceSNMP)
			defer b.Release()
			for t := range jobs {
				c.pollOne(ctx, pctx, t, b)
			}
		}()
	}
	c.schedule(ctx, jobs)
	mark := c.b.Pub.Mark() // the stop's losses count from here (publish.WaitSince)
	close(jobs)
	grace := time.AfterFunc(30*time.Second, pcancel)
	defer grace.Stop()
	wg.Wait()
	return c.b.Pub.WaitSince(pctx, mark)
}

// schedule hands due targets to the workers until ctx ends.
func (c *Collector) schedule(ctx context.Context, jobs chan<- *target) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		var t *target
		wait := time.Hour
		if len(c.queue) > 0 {
			if d := time.Until(c.queue[0].next); d <= 0 {
				t = heap.Pop(&c.queue).(*target)
			} else {
				wait = d
			}
		}
		c.mu.Unlock()
		if t == nil {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
			case <-timer.C:
			}
			continue
		}
		select {
		case jobs <- t: // blocks while every worker is busy
		case <-ctx.Done():
			return
		}
	}
}

func (c *Collector) pollOne(ctx, pctx context.Context, t *target, b *publish.Batch) {
	start := time.Now()
	b.SetDevice(t.cfg.Name)
	c.mu.Lock()
	if t.removed {
		c.mu.Unlock()
		return
	}
	pc, cancel := context.WithTimeout(ctx, t.cfg.Interval)
	polling := make(chan struct{})
	t.cancel, t.polling = cancel, polling
	c.mu.Unlock()
	defer close(polling) // last, after the target is back in the queue
	res, err := poll(pc, t.cfg, &t.st, b)
	cancel()
	c.mu.Lock()
	removed := t.removed
	c.mu.Unlock()
	if removed { // SetTargets abandoned the poll: nothing of it goes out
		if rec := b.NewRecord(); rec != nil {
			rec.Release()
		}
		return
	}
	m := c.b.Metrics
	if err != nil {
		if rec := b.NewRecord(); rec != nil {
			rec.Release() // a failed poll publishes nothing
		}
		reason := err.Error()
		if reason != t.lastErr && ctx.Err() == nil {
			c.b.Log.Warn("poll failed; retrying next interval", "target", t.cfg.Name, "address", t.cfg.Address, "reason", reason)
		} else {
			c.b.Log.Debug("poll failed again", "target", t.cfg.Name, "reason", reason)
		}
		t.lastErr = reason
		// A restart or discontinuity is not known across a failure: the
		// next poll re-baselines if the agent restarted meanwhile.
		if c.cfg.publishesState() && ctx.Err() == nil && t.reach.failed() {
			c.publishDown(pctx, t, b)
		}
	} else {
		if t.lastErr != "" {
			c.b.Log.Info("target recovered", "target", t.cfg.Name, "last_reason", t.lastErr)
			t.lastErr = ""
		}
		if res.noLLDP && !t.noLLDP {
			c.b.Log.Debug("no LLDP neighbour: lldpRemTable (1.0.8802.1.1.2.1.4.1) is empty or not implemented", "target", t.cfg.Name)
		}
		t.noLLDP = res.noLLDP
		if c.cfg.publishesState() {
			res.samples += t.reach.answered(b)
		}
		if rec := b.NewRecord(); rec != nil {
			if perr := c.b.Pub.Publish(pctx, t.cfg.Name, rec); perr != nil && pctx.Err() == nil {
				c.b.Log.Error("cannot publish", "target", t.cfg.Name, "err", perr)
			}
			rec.Release()
		}
	}
	if m != nil {
		m.observe(t.cfg.Name, res, err, time.Since(start))
	}
	// The counters last, so whoever sees them finds the log, the
	// published samples and the metrics of the poll.
	if err != nil {
		c.failures.Add(1)
	} else {
		c.samples.Add(int64(res.samples))
	}
	c.oids.Add(int64(res.oids))
	c.wraps.Add(int64(res.wraps))
	c.discont.Add(int64(len(res.discont)))
	c.polls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.removed {
		return
	}
	t.next = t.next.Add(t.cfg.Interval)
	if now := time.Now(); t.next.Before(now) {
		// Fell behind: skip the missed slots rather than polling in a burst.
		c.late.Add(1)
		if m != nil {
			m.late.Inc()
		}
		missed := now.Sub(t.next)/t.cfg.Interval + 1
		t.next = t.next.Add(missed * t.cfg.Interval)
	}
	heap.Push(&c.queue, t)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// targetHeap orders targets by next poll time.
type targetHeap []*target

func (h targetHeap) Len() int           { return len(h) }
func (h targetHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h targetHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *targetHeap) Push(x any) {
	t := x.(*target)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *targetHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
