package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/internal/testenv"
)

// TestSignalLeavesViewUp: a SIGTERM is the run's to handle, not the view's.
// The view stays up while the run drains (it used to quit at once and
// leave the terminal blank until the run had stopped), shows it draining
// once Stopping is closed, and exits when Done is. A second SIGTERM while
// it drains ends the view at once and is raised again, so the process
// ends as it would without the view, with the terminal restored.
//
// It sends SIGTERM to its own process: no test of this package may run in
// parallel with it.
func TestSignalLeavesViewUp(t *testing.T) {
	// The test process stands in for telekernel's signal context: with
	// SIGTERM caught here, the signal does not end the process.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM)
	defer signal.Stop(sig)
	start := func() (out *testenv.LogBuffer, stopping, done chan struct{}, ran chan error) {
		in, inW := io.Pipe() // input that stays open, as a terminal's does
		t.Cleanup(func() { inW.Close() })
		out = &testenv.LogBuffer{}
		stopping, done, ran = make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			ran <- Run(context.Background(), Options{
				Snapshot: func() live.Snapshot { return live.Snapshot{} },
				Stop:     func() {}, Done: done, Stopping: stopping,
				Refresh: 20 * time.Millisecond, Input: in, Output: out,
			})
		}()
		waitFor(t, out, "telekernel") // the first frame: the program runs
		return out, stopping, done, ran
	}
	kill := func() {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sig:
		case <-time.After(5 * time.Second):
			t.Fatal("SIGTERM did not arrive")
		}
	}

	out, stopping, done, ran := start()
	kill()
	select {
	case err := <-ran:
		t.Fatalf("the view returned on SIGTERM (%v); it should stay up until the run is done", err)
	case <-time.After(300 * time.Millisecond):
	}
	if strings.Contains(out.String(), "draining") {
		t.Fatal("the view shows draining before it was told the run is stopping")
	}
	close(stopping)
	waitFor(t, out, "draining")
	close(done)
	if err := returned(t, ran); err != nil {
		t.Fatal(err)
	}

	out, stopping, _, ran = start()
	close(stopping)
	waitFor(t, out, "draining")
	kill() // the second signal: the run's handler has let go
	if err := returned(t, ran); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sig: // raised again once the view had ended
	case <-time.After(5 * time.Second):
		t.Fatal("the second SIGTERM was not raised again after the view ended")
	}
}

// waitFor waits up to 5 s for s in out.
func waitFor(t *testing.T, out *testenv.LogBuffer, s string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), s); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the view did not show %q", s)
		}
	}
}

// returned waits up to 5 s for Run's result.
func returned(t *testing.T, ran chan error) error {
	t.Helper()
	select {
	case err := <-ran:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the view did not exit")
		return nil
	}
}

// TestSecondKeyQuits: q asks the run to stop and the view stays up,
// draining, until the run is done; a second q or Ctrl-C while it drains
// ends the view at once with ErrQuit, without waiting for the run.
func TestSecondKeyQuits(t *testing.T) {
	for _, second := range []string{"q", "\x03"} { // \x03: Ctrl-C on a raw terminal
		in, inW := io.Pipe()
		out := &testenv.LogBuffer{}
		stops := make(chan struct{}, 2)
		ran := make(chan error, 1)
		go func() {
			ran <- Run(context.Background(), Options{
				Snapshot: func() live.Snapshot { return live.Snapshot{} },
				Stop:     func() { stops <- struct{}{} }, Done: make(chan struct{}), Stopping: make(chan struct{}),
				Refresh: 20 * time.Millisecond, Input: in, Output: out,
			})
		}()
		waitFor(t, out, "q: stop")
		if _, err := inW.Write([]byte("q")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, out, "q again: quit now")
		select {
		case <-stops:
		case <-time.After(5 * time.Second):
			t.Fatal("q did not ask the run to stop")
		}
		select {
		case err := <-ran:
			t.Fatalf("the view returned on the first q (%v); it should stay up while the run drains", err)
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := inW.Write([]byte(second)); err != nil {
			t.Fatal(err)
		}
		if err := returned(t, ran); !errors.Is(err, ErrQuit) {
			t.Fatalf("after a second %q the view returned %v, want ErrQuit", second, err)
		}
		if len(stops) != 0 {
			t.Errorf("a second %q asked the run to stop again", second)
		}
		inW.Close()
	}
}
