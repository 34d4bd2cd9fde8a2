package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/pipeline"
)

// TestStopWithinBoundWhileKafkaIsSlow stops a run with the simulator while
// the broker holds every produce request: the simulator's wind-down (which
// waits for Kafka to acknowledge its samples) and the drain share one
// deadline, drainTimeout after the signal, then the stages' stop follows
// (their final flush or commit and, for a transaction that cannot commit
// with its produce held, its abort and leaving the group), so Run returns
// within drainTimeout + pipeline.StopTimeout (and a little to close). It
// fails if the run returns without an error saying the unacknowledged
// samples are lost. Before, the wind-down's waits ran one after another
// on fresh timeouts (2 min, 30 s, 30 s) and the drain's deadline, counted
// from the signal, was spent before it began. Meanwhile /healthz keeps
// answering and /readyz says the process is stopping, until Run returns.
func TestStopWithinBoundWhileKafkaIsSlow(t *testing.T) {
	cluster := newCluster(t)
	gate := testenv.HoldProduce(cluster)
	t.Cleanup(gate.Release) // before the cluster closes
	cfg := localConfig(t, cluster)
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Sim.Devices, cfg.Sim.Interfaces, cfg.Sim.Interval = 3, 2, time.Second
	cfg.Sim.Backfill, cfg.Sim.Speed = 10*time.Minute, 600 // 1 s of replay, then live
	logs := &testenv.LogBuffer{}
	const timeout = 6 * time.Second
	ctx, signal := context.WithCancel(context.Background())
	defer signal()
	type result struct {
		sum Summary
		err error
	}
	ran := make(chan result, 1)
	go func() {
		sum, err := Run(ctx, Options{Config: &cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), drainTimeout: timeout})
		ran <- result{sum, err}
	}()
	base := "http://" + testenv.ServedAddr(t, logs, "serving /metrics, /healthz and /readyz")
	for deadline := time.Now().Add(30 * time.Second); testenv.HTTPStatus(base+"/readyz") != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not ready within 30s:\n%s", logs.String())
		}
	}
	time.Sleep(1500 * time.Millisecond) // samples flow
	gate.Hold()
	time.Sleep(time.Second) // and now wait for Kafka
	signal()
	stopped := time.Now()
	// (The stop is marked on a goroutine of its own, a moment later.)
	code := testenv.HTTPStatus(base + "/readyz")
	for t0 := time.Now(); code == http.StatusOK && time.Since(t0) < time.Second; code = testenv.HTTPStatus(base + "/readyz") {
		time.Sleep(10 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d once stopping, want 503", code)
	}
	// The wind-down waits until timeout-checkReserve, the drain's check
	// until timeout, the stages' stop (their produce held) until
	// StopTimeout after that.
	var healthy time.Duration
	bound := timeout + pipeline.StopTimeout + 2*time.Second
	var res result
wait:
	for {
		select {
		case res = <-ran:
			break wait
		case <-time.After(200 * time.Millisecond):
			if testenv.HTTPStatus(base+"/healthz") == http.StatusOK {
				healthy = time.Since(stopped)
			}
		case <-time.After(bound + 10*time.Second - time.Since(stopped)):
			t.Fatalf("Run did not return within %v of the signal (bound %v):\n%s", bound+10*time.Second, bound, logs.String())
		}
	}
	took := time.Since(stopped)
	t.Logf("Run returned %v after the signal: %v", took.Round(time.Millisecond), res.err)
	if took > bound {
		t.Errorf("Run returned %v after the signal, beyond %v (drain %v, stages' stop %v)", took.Round(time.Millisecond), bound, timeout, pipeline.StopTimeout)
	}
	if !strings.Contains(logs.String(), `"msg":"simulator stopped"`) {
		t.Errorf("the simulator's wind-down did not run out of time: nothing tested\n%s", logs.String())
	}
	if res.err == nil || !strings.Contains(res.err.Error(), "ran out of the stop's time (6s) waiting for Kafka: samples it had not acknowledged are lost") {
		t.Errorf("Run returned %v, want an error saying the unacknowledged samples are lost", res.err)
	}
	if want := timeout - checkReserve - time.Second; healthy < want {
		t.Errorf("/healthz last answered %v after the signal, want at least %v (the wind-down waits %v)", healthy.Round(time.Millisecond), want, timeout-checkReserve)
	}
	for deadline := time.Now().Add(3 * time.Second); testenv.HTTPStatus(base+"/healthz") != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("/healthz still answers 3s after Run returned")
		}
	}
}

// TestStopWhileStarting stops a run (its ctx cancelled, as by SIGTERM)
// at each step of its start: while it creates its topics (the broker
// holds the request), while a stage is built (its database does not
// answer), and while the simulator waits for its devices to subscribe.
// Run returns ErrStoppedStarting, which the CLI takes for a clean stop,
// and logs that it stopped while starting. Before, it failed with
// whatever the step made of the cancelled ctx: a Kafka, a database or a
// simulator error, and the process exited 1. Options.For running out
// while the simulator starts is such a stop.
func TestStopWhileStarting(t *testing.T) {
	f := func(name string, setup func(t *testing.T, cluster *kfake.Cluster, opts *Options, signal func())) {
		t.Run(name, func(t *testing.T) {
			cluster := newCluster(t)
			cfg := localConfig(t, cluster)
			cfg.Sim.Devices, cfg.Sim.Interfaces = 2, 2
			cfg.Stages = []string{"count"}
			logs := &testenv.LogBuffer{}
			opts := Options{Config: &cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), Stages: append(slices.Clip(Stages), countStage)}
			ctx, signal := context.WithCancel(context.Background())
			defer signal()
			setup(t, cluster, &opts, signal)
			start := time.Now()
			_, err := Run(ctx, opts)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Run returned %v after the start began, want it to stop at once", took.Round(time.Millisecond))
			}
			if !errors.Is(err, ErrStoppedStarting) {
				t.Errorf("Run returned %v, want ErrStoppedStarting", err)
			}
			if n := strings.Count(logs.String(), `"msg":"stopped while starting"`); n != 1 {
				t.Errorf("%d log lines saying the run stopped while starting, want one:\n%s", n, logs.String())
			}
		})
	}
	f("creating topics", func(t *testing.T, cluster *kfake.Cluster, _ *Options, signal func()) {
		release := make(chan struct{})
		cluster.ControlKey(int16(kmsg.CreateTopics), func(kmsg.Request) (kmsg.Response, error, bool) {
			signal()
			cluster.SleepControl(func() { <-release })
			return nil, nil, false
		})
		t.Cleanup(func() { close(release) }) // before the cluster closes
	})
	f("building a stage", func(_ *testing.T, _ *kfake.Cluster, opts *Options, signal func()) {
		hold := StageDef{Name: "count", Input: samplesTopic, Build: func(ctx context.Context, env *Env) (Built, error) {
			signal()
			<-ctx.Done()
			return Built{}, fmt.Errorf("clickhouse 127.0.0.1:9000: cannot connect: %w", ctx.Err())
		}}
		opts.Stages = append(slices.Clip(Stages), hold)
	})
	f("starting the simulator", func(_ *testing.T, _ *kfake.Cluster, opts *Options, signal func()) {
		opts.Watch = func(*live.Watcher) { signal() } // once the stages run, before the simulator starts
	})
	// --for is a stop too: running out while the simulator waits for its
	// devices was reported as a simulator error ("only 0 of 2 devices
	// subscribed").
	f("--for running out while the simulator starts", func(_ *testing.T, _ *kfake.Cluster, opts *Options, _ func()) {
		opts.For = time.Nanosecond
	})
}

// TestStartFailureIsNotAStop: a start that fails with no stop signal
// (no broker at the address) still fails with its own error.
func TestStartFailureIsNotAStop(t *testing.T) {
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{"127.0.0.1:1"}
	cfg.HTTP.Listen = "off"
	cfg.Parquet.Root = t.TempDir()
	_, err := Run(context.Background(), Options{Config: &cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || errors.Is(err, ErrStoppedStarting) || !strings.Contains(err.Error(), "kafka 127.0.0.1:1: cannot connect") {
		t.Errorf("Run against no broker returned %v, want the Kafka error", err)
	}
}
