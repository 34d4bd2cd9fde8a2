package clickhouse

import (
	"context"
	"testing"
)

// TestInsertContextOfCancelledCaller: an INSERT prepared with a context
// the caller already cancelled gets a context that is already done (as
// the context.WithDeadline child before 97d0df0 was), so the driver
// returns at once without taking or dialling a connection, instead of
// racing the AfterFunc goroutine that ends it.
func TestInsertContextOfCancelledCaller(t *testing.T) {
	ins := &inserts{}
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	notDone := 0
	for range 1000 {
		ictx, w := ins.watch(parent)
		if ictx.Err() == nil {
			notDone++
		}
		select {
		case <-ictx.Done():
		default:
			notDone++
		}
		w.end(nil)
	}
	if notDone > 0 {
		t.Errorf("a cancelled caller's INSERT context was not done right after watch %d times (of 2000 checks)", notDone)
	}
}
