package app

import (
	"context"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/sinks/parquet"
)

// TestEmbeddedRunTwiceKeepsEarlierRun runs the embedded default twice into
// one data folder. The second run's broker starts at offset 0 again, so
// before, its Parquet sink removed the first run's files whose offset
// ranges its own overlapped, mixing the two runs in one lake, and its
// labels replaced the first run's. Now the first run's output is moved,
// byte for byte, to DATA/_previous/STAMP/, the lake holds the second run's
// rows only, nothing is removed, and the log file stays.
func TestEmbeddedRunTwiceKeepsEarlierRun(t *testing.T) {
	root := t.TempDir()
	run := func(n int) (Summary, string) {
		cfg := config.Default()
		cfg.HTTP.Listen = "off"
		cfg.Parquet.Root = root
		cfg.Sim.LabelsFile = filepath.Join(root, "labels.jsonl")
		cfg.Sim.Devices = 1
		cfg.Sim.Speed = config.Speed(math.Inf(1))
		cfg.Sim.Span = 10 * time.Minute
		cfg.Sim.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		logs := &testenv.LogBuffer{}
		sum, err := Run(context.Background(), Options{Config: &cfg, Log: slog.New(slog.NewJSONHandler(logs, nil))})
		if err != nil {
			t.Fatalf("run %d: %v\n%s", n, err, logs.String())
		}
		if strings.Contains(logs.String(), "removed a file") {
			t.Errorf("run %d removed a Parquet file:\n%s", n, logs.String())
		}
		if sum.ParquetRows != sum.Samples {
			t.Fatalf("run %d: %s", n, sum)
		}
		return sum, logs.String()
	}

	sum1, _ := run(1)
	if sum1.Previous != "" {
		t.Errorf("the first run moved %s aside: there was nothing to move", sum1.Previous)
	}
	first := snapshot(t, root)
	if len(first) < 2 || first["labels.jsonl"] == "" {
		t.Fatalf("the first run wrote %d files, want Parquet files and labels.jsonl", len(first))
	}
	logFile := filepath.Join(root, "telekernel.log")
	if err := os.WriteFile(logFile, []byte("the first run's log\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	sum2, logs := run(2)
	prevs, err := filepath.Glob(filepath.Join(root, PreviousDir, "*"))
	if err != nil || len(prevs) != 1 {
		t.Fatalf("%s holds %v (%v), want one folder", PreviousDir, prevs, err)
	}
	if sum2.Previous != prevs[0] {
		t.Errorf("the summary says the earlier output is in %q, it is in %q", sum2.Previous, prevs[0])
	}
	if strings.Count(logs, "moved the earlier run's output aside") != 1 || !strings.Contains(logs, prevs[0]) {
		t.Errorf("want one log line naming %s:\n%s", prevs[0], logs)
	}
	moved := snapshot(t, prevs[0])
	for name, data := range first {
		if name == "telekernel.log" {
			continue
		}
		if moved[name] != data {
			t.Errorf("%s: the first run's file is not in %s as it was (%d bytes there, %d before)", name, prevs[0], len(moved[name]), len(data))
		}
	}
	if len(moved) != len(first) {
		t.Errorf("%s holds %d files, the first run wrote %d", prevs[0], len(moved), len(first))
	}
	if n, err := parquet.CountRows(prevs[0]); err != nil || n != sum1.Samples {
		t.Errorf("the moved lake holds %d rows (%v), the first run published %d", n, err, sum1.Samples)
	}
	// CountRows skips the _previous folder: the data folder's lake is the
	// second run's alone.
	if n, err := parquet.CountRows(root); err != nil || n != sum2.Samples {
		t.Errorf("the lake holds %d rows (%v), the second run published %d", n, err, sum2.Samples)
	}
	if _, err := os.Stat(filepath.Join(root, "labels.jsonl")); err != nil {
		t.Errorf("the second run wrote no labels: %v", err)
	}
	if b, err := os.ReadFile(logFile); err != nil || string(b) != "the first run's log\n" {
		t.Errorf("telekernel.log did not stay in place: %q, %v", b, err)
	}
}

// snapshot returns the contents of the files under dir by their path
// relative to dir, leaving out PreviousDir and the data folder's lock file
// (which no run writes output in).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == PreviousDir {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == lockFileName {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSetAsideEarlierRun(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	write := func(t *testing.T, path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lakeFile := filepath.Join("samples", "dt=2026-12-04", "hour=08", "tk.samples-0-000000000000-000000000050.parquet")

	t.Run("nothing to move", func(t *testing.T) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "samples", "dt=2026-12-04"), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(root, "telekernel.log"), "log")
		prev, err := setAsideEarlierRun(root, "samples", filepath.Join(root, "labels.jsonl"), now)
		if err != nil || prev != "" {
			t.Fatalf("got %q, %v; want nothing moved", prev, err)
		}
		if _, err := os.Stat(filepath.Join(root, PreviousDir)); err == nil {
			t.Errorf("%s was created with nothing to move", PreviousDir)
		}
	})

	t.Run("lake and labels, twice in one second", func(t *testing.T) {
		root := t.TempDir()
		for i, want := range []string{"2026-12-04T08-30-00Z", "2026-12-04T08-30-00Z-2"} {
			write(t, filepath.Join(root, lakeFile), "lake")
			write(t, filepath.Join(root, "labels.jsonl"), "labels")
			write(t, filepath.Join(root, "telekernel.log"), "log")
			prev, err := setAsideEarlierRun(root, "samples", filepath.Join(root, "labels.jsonl"), now)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, PreviousDir, want); prev != want {
				t.Fatalf("move %d went to %s, want %s", i, prev, want)
			}
			if got := snapshot(t, prev); len(got) != 2 || got[lakeFile] != "lake" || got["labels.jsonl"] != "labels" {
				t.Errorf("move %d: %s holds %v", i, prev, got)
			}
			if got := snapshot(t, root); len(got) != 1 || got["telekernel.log"] != "log" {
				t.Errorf("move %d: the data folder still holds %v, want the log only", i, got)
			}
		}
	})

	t.Run("labels outside the data folder stay", func(t *testing.T) {
		root, other := t.TempDir(), t.TempDir()
		write(t, filepath.Join(other, "labels.jsonl"), "labels")
		prev, err := setAsideEarlierRun(root, "samples", filepath.Join(other, "labels.jsonl"), now)
		if err != nil || prev != "" {
			t.Fatalf("got %q, %v; want nothing moved", prev, err)
		}
	})

	t.Run("cannot move: refuses and keeps the files", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, lakeFile), "lake")
		write(t, filepath.Join(root, PreviousDir), "a file where the folder goes")
		_, err := setAsideEarlierRun(root, "samples", filepath.Join(root, "labels.jsonl"), now)
		if err == nil || !strings.Contains(err.Error(), root) || !strings.Contains(err.Error(), "--data") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("got %v, want one line naming %s and what to do", err, root)
		}
		if got := snapshot(t, root); got[lakeFile] != "lake" {
			t.Errorf("the lake did not stay: %v", got)
		}
	})
}
