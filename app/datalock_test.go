package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/testenv"
)

// dataRunConfig is a light embedded run (one simulated device, no
// endpoints) writing in root.
func dataRunConfig(root string) *config.Config {
	cfg := config.Default()
	cfg.HTTP.Listen = "off"
	cfg.Parquet.Root = root
	cfg.Sim.LabelsFile = filepath.Join(root, "labels.jsonl")
	cfg.Sim.Devices = 1
	return &cfg
}

// TestSecondRunOnDataFolderRefused runs the embedded default while another
// runs on the same data folder. Before, the second run moved the first's
// labels.jsonl (and samples) to DATA/_previous/ mid-run and then wrote into
// the same folder, with no lock and no warning; now it stops before moving
// anything, with one line naming the folder and the first run's pid.
func TestSecondRunOnDataFolderRefused(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testenv.LogBuffer{}
	firstDone := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{Config: dataRunConfig(root), Log: slog.New(slog.NewJSONHandler(logs, nil))})
		firstDone <- err
	}()
	labels := filepath.Join(root, "labels.jsonl")
	// The first run writes its labels once its simulator starts.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(labels); err == nil {
			break
		}
		select {
		case err := <-firstDone:
			t.Fatalf("the first run ended before writing its labels: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first run wrote no labels in 60s:\n%s", logs.String())
		}
	}
	before, err := os.ReadFile(labels)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Run(context.Background(), Options{Config: dataRunConfig(root), For: 2 * time.Second, Log: slog.New(slog.DiscardHandler)})
	want := "the data folder " + root + " is in use by another telekernel run (pid " + strconv.Itoa(os.Getpid()) + "); stop it or give --data another folder"
	if err == nil || err.Error() != want {
		t.Errorf("the second run: %v\nwant: %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(root, PreviousDir)); err == nil {
		t.Errorf("the second run moved the first run's output to %s", PreviousDir)
	}
	if after, err := os.ReadFile(labels); err != nil || string(after) != string(before) {
		t.Errorf("the first run's labels.jsonl is gone or changed (%v)", err)
	}
	// The labels are written as the simulator starts, so the stop may
	// still find the first run starting: that ends it as cleanly.
	cancel()
	if err := <-firstDone; err != nil && !errors.Is(err, ErrStoppedStarting) {
		t.Errorf("the first run: %v", err)
	}

	// The lock file stays once the run ended, and does not block: the lock
	// is the kernel's, released with the file.
	if _, err := os.Stat(filepath.Join(root, lockFileName)); err != nil {
		t.Errorf("the lock file is gone: %v", err)
	}
	unlock, err := lockData(root)
	if err != nil {
		t.Fatalf("after the run ended, the data folder is still locked: %v", err)
	}
	unlock()
}

// TestPortClashMovesNothing runs the embedded default on a data folder
// holding an earlier run's output with its HTTP address taken. Before, the
// run moved that output to DATA/_previous/ and only then failed on the
// port, leaving the data folder emptied by a run that never ran.
func TestPortClashMovesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	root := t.TempDir()
	lake := filepath.Join(root, "samples", "dt=2026-12-04", "hour=08", "tk.samples-0-000000000000-000000000050.parquet")
	for path, data := range map[string]string{lake: "lake", filepath.Join(root, "labels.jsonl"): "labels"} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := dataRunConfig(root)
	cfg.HTTP.Listen = ln.Addr().String()
	sum, err := Run(context.Background(), Options{Config: cfg, For: time.Second, Log: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "cannot listen on "+ln.Addr().String()) {
		t.Errorf("got %v, want the port's error", err)
	}
	if sum.Previous != "" {
		t.Errorf("the run moved the earlier output to %s", sum.Previous)
	}
	if got := snapshot(t, root); got[filepath.Join("samples", "dt=2026-12-04", "hour=08", filepath.Base(lake))] != "lake" || got["labels.jsonl"] != "labels" {
		t.Errorf("the earlier run's output did not stay in place: %v", got)
	}
}
