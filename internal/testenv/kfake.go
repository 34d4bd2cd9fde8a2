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
}

// HoldProduce installs a gate on the produce requests of c, open until
// Hold.
func HoldProduce(c *kfake.Cluster) *Gate { return HoldRequests(c, kmsg.Produce) }

// HoldRequests installs a gate on the requests of c of the given kinds,
// open until Hold.
func HoldRequests(c *kfake.Cluster, keys ...kmsg.Key) *Gate {
	g := &Gate{release: make(chan struct{})}
	for _, k := range keys {
		c.ControlKey(int16(k), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			if g.holding.Load() {
				c.SleepControl(func() { <-g.release })
			}
			return nil, nil, false
		})
	}
	return g
}

// Hold makes the gated requests wait from now on.
func (g *Gate) Hold() { g.holding.Store(true) }

// Release answers the waiting requests and every later one at
// once; the gate does not hold again.
func (g *Gate) Release() {
	g.holding.Store(false)
	g.once.Do(func() { close(g.release) })
}
