package tui

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telekernel/telekernel/app/live"
)

// lockedBuffer is an io.Writer the view writes from its goroutine while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSignalLeavesViewUp: a SIGTERM is the run's to handle, not the view's.
// The view stays up while the run drains (it used to quit at once and
// leave the terminal blank until the run had stopped), shows it draining
// once Stopping is closed, and exits when Done is.
func TestSignalLeavesViewUp(t *testing.T) {
	// The test process stands in for telekernel's signal context: with
	// SIGTERM caught here, the signal does not end the process.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	defer signal.Stop(sig)

	in, inW := io.Pipe() // input that stays open, as a terminal's does
	defer inW.Close()
	out := &lockedBuffer{}
	stopping, done := make(chan struct{}), make(chan struct{})
	ran := make(chan error, 1)
	go func() {
		ran <- Run(context.Background(), Options{
			Snapshot: func() live.Snapshot { return live.Snapshot{} },
			Stop:     func() {}, Done: done, Stopping: stopping,
			Refresh: 20 * time.Millisecond, Input: in, Output: out,
		})
	}()
	time.Sleep(200 * time.Millisecond) // the program has started
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-sig
	select {
	case err := <-ran:
		t.Fatalf("the view returned on SIGTERM (%v); it should stay up until the run is done", err)
	case <-time.After(300 * time.Millisecond):
	}
	if strings.Contains(out.String(), "draining") {
		t.Fatal("the view shows draining before it was told the run is stopping")
	}
	close(stopping)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "draining"); {
		if time.Now().After(deadline) {
			t.Fatal("the view did not show draining after Stopping was closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(done)
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the view did not exit after Done was closed")
	}
}
