package testenv

import (
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Gate stands for a broker that stops answering: while held, every request
// of the gated kinds an in-process kfake cluster receives waits until
// Release.
type Gate struct {
	holding atomic.Bool
	release chan struct{}
	once    sync.Once

	mu   sync.Mutex
	when func() bool   // HoldWhen's condition, until it holds
	held chan struct{} // closed when holding begins
	hold sync.Once
}

// HoldProduce installs a gate on the produce requests of c, open until
// Hold.
func HoldProduce(c *kfake.Cluster) *Gate { return HoldRequests(c, kmsg.Produce) }

// HoldRequests installs a gate on the requests of c of the given kinds,
// open until Hold.
func HoldRequests(c *kfake.Cluster, keys ...kmsg.Key) *Gate {
	g := &Gate{release: make(chan struct{}), held: make(chan struct{})}
	for _, k := range keys {
		c.ControlKey(int16(k), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			g.mu.Lock()
			if g.when != nil && g.when() {
				g.when = nil
				g.Hold()
			}
			g.mu.Unlock()
			if g.holding.Load() {
				c.SleepControl(func() { <-g.release })
			}
			return nil, nil, false
		})
	}
	return g
}

// Hold makes the gated requests wait from now on.
func (g *Gate) Hold() {
	g.holding.Store(true)
	g.hold.Do(func() { close(g.held) })
}

// HoldWhen makes the gated requests wait from the first one that arrives
// when cond holds: cond is checked as each request arrives, so none slips
// past between cond becoming true and the hold, as a goroutine polling
// cond would let them.
func (g *Gate) HoldWhen(cond func() bool) {
	g.mu.Lock()
	g.when = cond
	g.mu.Unlock()
}

// Held returns a channel closed when the gate begins to hold.
func (g *Gate) Held() <-chan struct{} { return g.held }

// Release answers the waiting requests and every later one at
// once; the gate does not hold again.
func (g *Gate) Release() {
	g.holding.Store(false)
	g.once.Do(func() { close(g.release) })
}
