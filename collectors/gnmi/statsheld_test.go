package gnmi_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestStatsWhileBrokerHeld: while the broker holds every produce request,
// the streams wait in Publish (with the fleet held back behind them), and
// Stats still answers at once with the counts so far, also while
// SetTargets waits for the removed targets' streams. Before, Stats took
// each stream's lock, held across the publish, and the collector's,
// held by SetTargets while the targets stop: it waited for the broker
// (as /metrics or /targets would, and the simulator's wait loop in app).
func TestStatsWhileBrokerHeld(t *testing.T) {
	gate, pub, a := heldBrokerFleet(t)
	c, stop := runCollector(t, fastConfig(targetsOf(a, tlsfiles.Config{})), pub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer stop()
	waitFor(t, 10*time.Second, "subscriptions", func() bool { return c.Stats().Connects == 2 })

	ctx, cancel := context.WithCancel(context.Background())
	var stepStart atomic.Int64 // when the Step under way began (ns), 0 between steps
	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		for ctx.Err() == nil {
			stepStart.Store(time.Now().UnixNano())
			if _, err := a.Step(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
			stepStart.Store(0)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	defer func() { cancel(); <-stepped }()
	time.Sleep(200 * time.Millisecond)
	gate.Hold()
	defer gate.Release() // before the collector's stop, which waits for Kafka
	// A step that waits this long means the streams stopped reading: they
	// wait in Publish, holding their batch.
	waitFor(t, 20*time.Second, "the fleet to be held back by the held broker", func() bool {
		s := stepStart.Load()
		return s != 0 && time.Since(time.Unix(0, s)) > 500*time.Millisecond
	})

	stats := func(when string) gnmi.Stats {
		t.Helper()
		got := make(chan gnmi.Stats, 1)
		go func() { got <- c.Stats() }()
		select {
		case st := <-got:
			if st.Updates == 0 {
				t.Errorf("Stats %s = %+v, want the updates decoded so far", when, st)
			}
			return st
		case <-time.After(2 * time.Second):
			t.Fatalf("Stats %s blocked behind a stream waiting for the broker", when)
			return gnmi.Stats{}
		}
	}
	before := stats("while the streams publish")

	// Targets removed now stop once their streams produced their batches;
	// the stream held back waits for the broker, and SetTargets with it
	// (holding the collector's lock): Stats does not wait.
	set := make(chan error, 1)
	go func() { set <- c.SetTargets(nil) }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-set:
		t.Fatalf("SetTargets returned (%v) while a removed target's stream waits for the broker", err)
	default:
	}
	if st := stats("while the removed targets stop"); st.Updates < before.Updates {
		t.Errorf("Stats went back from %d to %d updates while the targets stopped", before.Updates, st.Updates)
	}
	gate.Release()
	select {
	case err := <-set:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SetTargets still waits after the broker came back")
	}
	if st := stats("after the targets stopped"); st.Updates < before.Updates {
		t.Errorf("Stats went back from %d to %d updates once the targets stopped", before.Updates, st.Updates)
	}
}
