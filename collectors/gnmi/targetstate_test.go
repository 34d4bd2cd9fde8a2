package gnmi_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// TestTargetStateToKafka: on a real Kafka, a simulated device stopped
// mid-run (its server gone: the stream ends and every reconnect is
// refused) gives exactly one DOWN sample however many retries fail, and
// one UP when it is back; a device that hangs past its stall timeout gives
// DOWN with reason stalled; a target that was never up gives one DOWN
// once DownAfter attempts failed (another process may have had it up),
// stamped with the collector's clock. Each state sample comes with its
// reason, stamped with the collector's clock carried on the device's time
// line.
func TestTargetStateToKafka(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	a := newAgent(t, 3, agent.Config{})
	ctx := context.Background()
	topic := fmt.Sprintf("tk.samples.gnmi-targetstate-%d", time.Now().UnixNano())
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	pub, err := publish.New(cl, publish.Config{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	tg := a.Targets()
	cfg := fastConfig(targetsOf(a, tlsfiles.Config{}))
	cfg.Targets[2].StallTimeout, cfg.Targets[2].DialTimeout = 200*time.Millisecond, 300*time.Millisecond
	cfg.Targets = append(cfg.Targets, gnmi.Target{Name: "nobody", Address: "127.0.0.1:1"})
	start := time.Now()
	logs := &testenv.LogBuffer{}
	c, stop := runCollector(t, cfg, pub, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	waitFor(t, 10*time.Second, "subscriptions", func() bool { return c.Stats().Connects == 3 })
	// The devices step every 50 ms, well within sim-02's stall timeout.
	sctx, scancel := context.WithCancel(ctx)
	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		for sctx.Err() == nil {
			if _, err := a.Step(sctx); err != nil && sctx.Err() == nil {
				t.Error(err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	connects := c.Stats().Connects
	// A few steps go out first, so every device has samples on its time
	// line (a target lost before any would be stamped with the wall clock).
	time.Sleep(300 * time.Millisecond)
	// sim-01 stops; the collector retries (backoff 20 ms to 200 ms) for
	// a second and a half before it is back.
	if err := a.Stop(tg[1].Name); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	// Five lines or more (a loaded machine may log them late).
	waitFor(t, 10*time.Second, "retries of "+tg[1].Name+" logged", func() bool {
		return strings.Count(logs.String(), "target="+tg[1].Name) >= 5
	})
	if err := a.Start(tg[1].Name); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the reconnect", func() bool { return c.Stats().Connects == connects+1 })
	// sim-02 hangs past its stall timeout, then recovers.
	if err := a.Stall(tg[2].Name, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the stall", func() bool {
		return strings.Contains(logs.String(), "target="+tg[2].Name+" state=DOWN")
	})
	time.Sleep(500 * time.Millisecond) // retries answered by nothing
	if err := a.Stall(tg[2].Name, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the stalled device back", func() bool { return c.Stats().Connects == connects+2 })
	time.Sleep(300 * time.Millisecond) // more steps: nothing else changes
	scancel()
	<-stepped
	stop()
	end := time.Now()
	t.Logf("%d failed attempts in all (the target nobody's included)", c.Stats().Failures)

	rd, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rows := consume(t, rd, int(pub.Stats().Samples))
	got := map[string][]string{}
	var lastTS int64
	for _, s := range rows {
		if !strings.HasPrefix(s.Metric, "telekernel:/") {
			lastTS = max(lastTS, s.TS)
		}
	}
	for _, s := range rows {
		if !strings.HasPrefix(s.Metric, "telekernel:/") {
			continue
		}
		// Stamped on the device's time line (the simulator's clock starts
		// at t0): after its first sample, and no later than its last
		// plus the wall time the test took; the target never up, which
		// has no time line, with the collector's clock.
		if s.Device == "nobody" {
			if s.TS < start.UnixNano() || s.TS > end.UnixNano() {
				t.Errorf("nobody %s at %v, want the collector's clock (%v to %v)", s.Metric, time.Unix(0, s.TS).UTC(), start.UTC(), end.UTC())
			}
		} else if s.Kind != schemas.KindState || s.Keys != "" || s.Source != schemas.SourceGNMI || s.TS < t0.UnixNano() || s.TS > lastTS+end.Sub(start).Nanoseconds() {
			t.Errorf("%s %s: kind %v keys %q source %s at %v, want a state with empty keys stamped on the device's time line",
				s.Device, s.Metric, s.Kind, s.Keys, s.Source, time.Unix(0, s.TS).UTC())
		}
		got[s.Device] = append(got[s.Device], s.Metric[strings.LastIndexByte(s.Metric, '/')+1:]+"="+s.Str)
	}
	up := []string{"state=UP", "reason=established"}
	want := map[string][]string{
		tg[0].Name: up,
		tg[1].Name: slices.Concat(up, []string{"state=DOWN", "reason=stream_lost"}, up),
		tg[2].Name: slices.Concat(up, []string{"state=DOWN", "reason=stalled"}, up),
		// Never up here, DOWN once DownAfter attempts failed: another
		// process may have had it up.
		"nobody": {"state=DOWN", "reason=stream_lost"},
	}
	for dev, w := range want {
		if !slices.Equal(got[dev], w) {
			t.Errorf("%s: target state samples %v, want %v", dev, got[dev], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("target state of %d devices, want %d: %v", len(got), len(want), got)
	}
}

// TestTargetUnreachableFault: the simulator's target_unreachable fault,
// served by the gNMI agent, stops the device's server for the fault's
// window, so the real collector (on a real Kafka) publishes the device
// DOWN once and UP when the window is over; the other device stays UP.
func TestTargetUnreachableFault(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	f, err := sim.New(sim.Config{Devices: 2, Interfaces: 2, Start: t0,
		Faults: []sim.Fault{{Device: "sim-01", Kind: sim.FaultTargetUnreachable, After: 30 * time.Second, Duration: 30 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{}, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ctx := context.Background()
	topic := fmt.Sprintf("tk.samples.gnmi-unreachable-%d", time.Now().UnixNano())
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	pub, err := publish.New(cl, publish.Config{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	cfg := fastConfig(targetsOf(a, tlsfiles.Config{}))
	c, stop := runCollector(t, cfg, pub, slog.New(slog.NewTextHandler(logs, nil)))
	waitFor(t, 10*time.Second, "subscriptions", func() bool { return c.Stats().Connects == 2 })
	for i := range 9 { // ticks 0 … 80 s: sim-01 is unreachable at 30, 40 and 50 s
		if _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 3:
			waitFor(t, 10*time.Second, "sim-01 lost", func() bool { return strings.Contains(logs.String(), "target=sim-01 state=DOWN") })
		case 6:
			waitFor(t, 10*time.Second, "sim-01 back", func() bool { return c.Stats().Connects == 3 })
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	rd, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[string][]string{}
	for _, s := range consume(t, rd, int(pub.Stats().Samples)) {
		if s.Metric == schemas.MetricTargetState {
			got[s.Device] = append(got[s.Device], s.Str)
		}
	}
	if !slices.Equal(got["sim-00"], []string{"UP"}) || !slices.Equal(got["sim-01"], []string{"UP", "DOWN", "UP"}) {
		t.Errorf("target states %v, want sim-00 UP and sim-01 UP, DOWN, UP", got)
	}
}

// TestTargetUpWithNothingLeftToFlush: a target whose first response fills
// whole batches (so none is left open when the stream counts as
// delivering) and whose sync response brings no update is published UP all
// the same; the UP used to wait for a next batch that never came.
func TestTargetUpWithNothingLeftToFlush(t *testing.T) {
	const rows = 64
	first := manyLeaves(time.Now().UnixNano(), rows)
	addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(first); err != nil {
			return err
		}
		if err := send(syncResponse); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
	pub := fakeKafka(t)
	cfg := fastConfig([]gnmi.Target{{Name: "exact", Address: addr, StallTimeout: -1}})
	cfg.MaxRows = rows
	c, stop := runCollector(t, cfg, pub, slog.New(slog.DiscardHandler))
	defer stop()
	waitFor(t, 10*time.Second, "the update rows and the UP state and reason", func() bool {
		return c.Stats().Samples == rows && pub.Stats().Samples == rows+2
	})
}

// TestUpAfterQuietReconnect: an ON_CHANGE subscription with updates_only
// (no snapshot) loses its stream once, so the target is published DOWN;
// its resubscription is answered with only a sync_response, and nothing
// changes on the device after it. The target is published UP again all
// the same, a flush interval after it delivers: the UP used to wait for a
// batch of samples that a quiet device may not send for hours, holding it
// DOWN in the pipeline while the collector counted it connected.
func TestUpAfterQuietReconnect(t *testing.T) {
	var streams atomic.Int32
	addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(syncResponse); err != nil {
			return err
		}
		if streams.Add(1) > 1 {
			return nil // quiet from now on: the stream stays open
		}
		if err := send(chassis(t, time.Now().UnixNano(), 1, 1)); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond) // the UP goes out with that sample
		return status.Error(codes.Unavailable, "line card reset")
	})
	cfg := fastConfig([]gnmi.Target{{Name: "quiet", Address: addr}})
	cfg.Subscriptions = []gnmi.Subscription{{Name: "changes", Paths: []string{"/interfaces"}, StreamMode: "on_change", UpdatesOnly: true}}
	logs := &testenv.LogBuffer{}
	pub := fakeKafka(t)
	c, stop := runCollector(t, cfg, pub, slog.New(slog.NewTextHandler(logs, nil)))
	defer stop()
	states := func() (out []string) {
		for _, l := range logLines(logs, `msg="target state"`) {
			out = append(out, l[strings.Index(l, "state="):])
		}
		return out
	}
	want := []string{"state=UP reason=established", "state=DOWN reason=stream_lost", "state=UP reason=established"}
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(states(), want) || pub.Stats().Samples != 1+3*2 {
		if time.Now().After(deadline) {
			t.Fatalf("target states %q (%d samples produced; connects %d, failures %d), want %q and the sample with 3 state pairs",
				states(), pub.Stats().Samples, c.Stats().Connects, c.Stats().Failures, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
