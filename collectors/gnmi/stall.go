package gnmi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// publishWaitMin is how long a publish must be in progress to count as a
// wait (for the broker, or for room in the publisher's buffer) rather than
// the encoding of a batch.
const publishWaitMin = 200 * time.Millisecond

// backpressure tracks the collector's own publishes, so that the stall
// timer does not count the time they wait as a device's silence. A device
// that sends nothing while our side is held up may be silent because of us:
// a stream that does not read holds its device back (gRPC flow control),
// and a simulated fleet stepped in lockstep holds back every device. Safe
// for concurrent use.
type backpressure struct {
	mu      sync.Mutex
	next    uint64
	started map[uint64]int64 // publishes in progress: when each began (ns)
	ended   int64            // when the last publish that waited ended (ns)
}

// begin notes a publish starting and returns its id for end.
func (b *backpressure) begin() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started == nil {
		b.started = map[uint64]int64{}
	}
	b.next++
	b.started[b.next] = time.Now().UnixNano()
	return b.next
}

// end notes the publish id done.
func (b *backpressure) end(id uint64) {
	now := time.Now().UnixNano()
	b.mu.Lock()
	defer b.mu.Unlock()
	if now-b.started[id] >= int64(publishWaitMin) {
		b.ended = max(b.ended, now)
	}
	delete(b.started, id)
}

// quietFrom returns the time (ns) from which a device's silence counts at
// now: the end of the collector's last publish that waited, or now while
// one waits. recheck > 0 when a publish in progress is not yet a wait but
// may become one: look again after it.
func (b *backpressure) quietFrom(now int64) (from int64, recheck time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.started {
		age := time.Duration(now - s)
		if age >= publishWaitMin {
			return now, 0
		}
		recheck = max(recheck, publishWaitMin-age)
	}
	return b.ended, recheck
}

// publish produces rec for the target name, noting the time it takes in
// the collector's backpressure.
func (c *Collector) publish(ctx context.Context, name string, rec arrow.RecordBatch) error {
	id := c.bp.begin()
	defer c.bp.end(id)
	return c.b.Pub.Publish(ctx, name, rec)
}

// stallWatch cancels a stream that received nothing for its stall timeout,
// not counting the time the stream spends on a message (decoding it, or
// publishing while Kafka is slow or away: cutting the stream then would
// lose the steps sent until it is back) nor the time any publish of the
// collector waits (backpressure). It looks at the stream once per stall
// timeout, not per message.
type stallWatch struct {
	stall  time.Duration
	bp     *backpressure
	cancel context.CancelCauseFunc
	busy   atomic.Bool  // a message is being handled
	last   atomic.Int64 // when the last message was handled (ns)
	done   atomic.Bool
	timer  *time.Timer
}

// newStallWatch starts watching; stop ends it.
func newStallWatch(stall time.Duration, bp *backpressure, cancel context.CancelCauseFunc) *stallWatch {
	w := &stallWatch{stall: stall, bp: bp, cancel: cancel}
	w.last.Store(time.Now().UnixNano())
	w.timer = time.AfterFunc(stall, w.check)
	return w
}

// handling marks the start of a message's handling; handled its end.
func (w *stallWatch) handling() { w.busy.Store(true) }
func (w *stallWatch) handled() {
	w.last.Store(time.Now().UnixNano())
	w.busy.Store(false)
}

// check runs on the timer: it cancels the stream with errStalled when the
// silence that counts reached the stall timeout, else looks again when it
// could.
func (w *stallWatch) check() {
	if w.done.Load() {
		return
	}
	now := time.Now().UnixNano()
	from, recheck := w.bp.quietFrom(now)
	from = max(from, w.last.Load())
	if w.busy.Load() {
		from = now
	}
	left := w.stall - time.Duration(now-from)
	if left <= 0 && recheck > 0 {
		left = recheck
	}
	if left > 0 {
		w.timer.Reset(left)
		return
	}
	w.cancel(errStalled)
}

// stop ends the watch.
func (w *stallWatch) stop() {
	w.done.Store(true)
	w.timer.Stop()
}
