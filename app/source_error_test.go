package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/config"
)

// TestRunSourceErrorWaitsForStages: when the simulator cannot start after
// the stages started (here its labels file cannot be written), Run stops
// the stages and waits for them before its defers close the Env's closers
// (the shared sinks), the Kafka clients and the broker. It returned
// without waiting: the closes ran under stages that still ran, and the
// stages outlived Run.
func TestRunSourceErrorWaitsForStages(t *testing.T) {
	cluster := newCluster(t)
	cfg := config.Default()
	cfg.Kafka.Brokers = cluster.ListenAddrs()
	cfg.HTTP.Listen = "off"
	cfg.Stages = []string{"count"}
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Sim.LabelsFile = filepath.Join(blocker, "labels.jsonl") // under a regular file: cannot be written
	cfg.Sim.Devices = 2
	// Built.Close runs in Run's defers (Env.close), "once the stages
	// stopped" as Built documents: look whether a stage still runs then.
	running := false
	count := StageDef{Name: "count", Input: samplesTopic, Build: func(ctx context.Context, env *Env) (Built, error) {
		b, err := countStage.Build(ctx, env)
		b.Close = func() {
			buf := make([]byte, 1<<20)
			running = strings.Contains(string(buf[:runtime.Stack(buf, true)]), "app.(*process).startStages")
		}
		return b, err
	}}
	stages := append(slices.Clip(Stages), count)
	_, err := Run(context.Background(), Options{Config: &cfg, Stages: stages, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("want the labels error")
	}
	if running {
		t.Fatalf("Run (failing with %v) ran the stages' Close while a stage goroutine still ran: g.Wait was skipped", err)
	}
}
