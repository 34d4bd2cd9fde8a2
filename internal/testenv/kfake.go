package testenv

import (
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ProduceGate stands for a broker that stops answering: while held, every
// produce request an in-process kfake cluster receives waits until Release.
type ProduceGate struct {
	holding atomic.Bool
	release chan struct{}
	once    sync.Once
}

// HoldProduce installs a gate on the produce requests of c, open until
// Hold.
func HoldProduce(c *kfake.Cluster) *ProduceGate {
	g := &ProduceGate{release: make(chan struct{})}
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if g.holding.Load() {
			c.SleepControl(func() { <-g.release })
		}
		return nil, nil, false
	})
	return g
}

// Hold makes produce requests wait from now on.
func (g *ProduceGate) Hold() { g.holding.Store(true) }

// Release answers the waiting produce requests and every later one at
// once; the gate does not hold again.
func (g *ProduceGate) Release() {
	g.holding.Store(false)
	g.once.Do(func() { close(g.release) })
}
