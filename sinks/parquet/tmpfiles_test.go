package parquet

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestStaleTempFilesRemoved is a crash between a file's create and its
// rename: the temporary files it left (created here the way writeFile
// creates them) stayed for ever. The process that next writes the
// partition (the offsets were not committed, so it writes the same rows
// into the same hour folders) removes those of that topic and partition,
// and says how many at INFO; the temporary files of another partition,
// and of a topic whose name extends this one's, which other writers may be
// writing right now, are left alone.
func TestStaleTempFilesRemoved(t *testing.T) {
	root := t.TempDir()
	run(t, newWriter(t, Config{Root: root}), 0, 4) // partitions 0 and 1, committed
	h10 := filepath.Join(root, "samples", "dt=2026-11-23", "hour=10")
	h11 := filepath.Join(root, "samples", "dt=2026-11-23", "hour=11")
	temp := func(dir, name string) string {
		t.Helper()
		f, err := os.CreateTemp(dir, ".tmp-"+name+"-*")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("PAR1 half a file"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return f.Name()
	}
	// The crash: partition 0's flush of offsets 5-6 had its two files
	// (hours 10 and 11) open.
	stale := []string{
		temp(h10, topic+"-0-000000000005-000000000006.parquet"),
		temp(h11, topic+"-0-000000000005-000000000006.parquet"),
	}
	// Being written by others: partition 1 (another member owns it now),
	// partition 0 of topic tk.samples-1, partition 1-0 is no name.
	kept := []string{
		temp(h10, topic+"-1-000000000005-000000000006.parquet"),
		temp(h10, topic+"-1-0-000000000005-000000000006.parquet"),
		temp(h10, "other-0-000000000005-000000000006.parquet"),
		temp(h10, topic+"-0-000000000005-000000000006.parquet.bak"), // not a name Flush makes
	}

	// The re-delivery of partition 0 only.
	var logs testenv.LogBuffer
	w, err := New(Config{Root: root}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	for off := int64(5); off <= 6; off++ {
		add(t, w, 0, off, message(off))
	}
	if _, err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the stale temporary file %s of partition 0 is still there", p)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a temporary file of another writer was touched: %v", err)
		}
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "temporary files") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], "removed=1") ||
		!strings.Contains(lines[0], "partition=0") || !strings.Contains(lines[0], "hour=10") {
		t.Errorf("want one INFO line per hour folder saying one file of partition 0 was removed, got:\n%s", logs.String())
	}
	// The lake is whole: offsets 0-6 of partition 0, 0-4 of partition 1.
	n, err := CountRows(root)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for off := int64(0); off <= 6; off++ {
		want += int64(len(message(off)))
		if off <= 4 {
			want += int64(len(message(off)))
		}
	}
	if n != want {
		t.Errorf("%d rows in the lake, want %d", n, want)
	}
}

func TestIsTempOf(t *testing.T) {
	f := func(name, prefix string, want bool) {
		t.Helper()
		if got := isTempOf(name, prefix); got != want {
			t.Errorf("isTempOf(%q, %q) = %v, want %v", name, prefix, got, want)
		}
	}
	f(".tmp-tk.samples-3-000000000005-000000000009.parquet-123", "tk.samples-3-", true)
	f(".tmp-tk.samples-3-000000000005-000000000009.parquet-123", "tk.samples-31-", false)
	f(".tmp-tk.samples-1-3-000000000005-000000000009.parquet-123", "tk.samples-1-", false) // topic tk.samples-1
	f(".tmp-tk.samples-3-000000000005-000000000009.parquet-", "tk.samples-3-", false)
	f(".tmp-tk.samples-3-000000000005-000000000009.parquet-12x", "tk.samples-3-", false)
	f(".tmp-tk.samples-3-000000000005-000000000009.parquet", "tk.samples-3-", false)
	f("tk.samples-3-000000000005-000000000009.parquet", "tk.samples-3-", false) // a data file
	f(".tmp-tk.samples-3-000000000005-000000000009.parquet.bak-1", "tk.samples-3-", false)
}

// TestStaleTempFileUnremovable: a leftover temporary file of the partition
// that cannot be removed (here a non-empty directory of its name, which
// fails as root too; in production permissions, a sticky directory, a
// read-only entry) used to fail every flush of its folder, so the sink
// retried for ever and consumption halted, for a file readers skip. The
// flush now writes its rows, says once at WARN which file could not be
// removed, why, and that it may be removed by hand, and the next flush of
// the folder does not say it again.
func TestStaleTempFileUnremovable(t *testing.T) {
	root := t.TempDir()
	run(t, newWriter(t, Config{Root: root}), 0, 4) // partitions 0 and 1, committed
	h10 := filepath.Join(root, "samples", "dt=2026-11-23", "hour=10")
	stuck := filepath.Join(h10, ".tmp-"+topic+"-0-000000000005-000000000006.parquet-123")
	if err := os.MkdirAll(filepath.Join(stuck, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}

	var logs testenv.LogBuffer
	w, err := New(Config{Root: root}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	for off := int64(5); off <= 8; off++ {
		add(t, w, 0, off, message(off))
		if off == 6 || off == 8 { // two flushes into the same folders
			if _, err := w.Flush(context.Background()); err != nil {
				t.Fatalf("flush up to offset %d: %v", off, err)
			}
		}
	}

	var warns []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") {
			warns = append(warns, l)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], stuck) || !strings.Contains(warns[0], "not empty") ||
		!strings.Contains(warns[0], "by hand") {
		t.Errorf("want one WARN naming %s, the error and what to do, got:\n%s", stuck, logs.String())
	}
	n, err := CountRows(root)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for off := int64(0); off <= 8; off++ {
		want += int64(len(message(off)))
		if off <= 4 {
			want += int64(len(message(off)))
		}
	}
	if n != want {
		t.Errorf("%d rows in the lake, want %d", n, want)
	}
}
