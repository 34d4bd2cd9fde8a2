package parquet

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// message returns the samples of message off: rows in hour 10, and for
// every third message rows in hour 11 too, so a flush writes one or two
// files per partition.
func message(off int64) []schemas.Sample {
	ss := mixed(t0 + off*int64(time.Second))
	if off%3 == 0 {
		ss = append(ss, mixed(t0+time.Hour.Nanoseconds()+off*int64(time.Second))...)
	}
	return ss
}

// lake lists the data files under root, relative to it, sorted.
func lake(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// run adds messages [from, to] of partitions 0 and 1 and flushes after
// every message whose offset is in flushAt (and at the end).
func run(t *testing.T, w *Writer, from, to int64, flushAt ...int64) {
	t.Helper()
	for off := from; off <= to; off++ {
		for p := range int32(2) {
			add(t, w, p, off, message(off))
		}
		if slices.Contains(flushAt, off) || off == to {
			flush(t, w)
		}
	}
}

// TestRedeliveryWithOtherFlushBoundaries is the crash between write and
// commit, followed by a re-delivery that flushes at other offsets: files
// whose offset ranges overlap the new ones are replaced, so the lake holds
// every row exactly once whatever the boundaries of either run.
func TestRedeliveryWithOtherFlushBoundaries(t *testing.T) {
	rowsUpTo := func(last int64) int64 {
		var n int64
		for off := int64(0); off <= last; off++ {
			n += 2 * int64(len(message(off)))
		}
		return n
	}
	f := func(name string, crashed, redelivered func(t *testing.T, w *Writer), committedLast, last int64) {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			// Another topic whose name extends this one's must not be touched.
			other := newWriter(t, Config{Root: root})
			var otherRows int64
			for off := int64(0); off < 4; off++ {
				rec := record(t, memory.DefaultAllocator, message(off))
				if err := other.Add(topic+"-1", 0, off, rec); err != nil {
					t.Fatal(err)
				}
				otherRows += rec.NumRows()
				rec.Release()
			}
			flush(t, other)

			crashed(t, newWriter(t, Config{Root: root}))
			w := newWriter(t, Config{Root: root})
			redelivered(t, w)
			n, err := CountRows(root)
			if err != nil {
				t.Fatal(err)
			}
			if want := rowsUpTo(last) + otherRows; n != want {
				t.Fatalf("%d rows in the lake, want %d; files:\n%s", n, want, strings.Join(lake(t, root), "\n"))
			}
			// No two files of one hour folder cover the same offset.
			seen := map[string]int64{} // hour/partition/offset -> files
			for _, rel := range lake(t, root) {
				fi, err := ReadFileInfo(filepath.Join(root, rel))
				if err != nil {
					t.Fatal(err)
				}
				for off := fi.FirstOffset; off <= fi.LastOffset; off++ {
					k := fmt.Sprint(fi.Topic, fi.Hour, fi.Partition, off)
					if seen[k]++; seen[k] > 1 {
						t.Errorf("offset %d of %s/%d is in two files of hour %v", off, fi.Topic, fi.Partition, fi.Hour)
					}
				}
			}
			t.Logf("%d files replaced; lake:\n%s", w.Stats().Replaced, strings.Join(lake(t, root), "\n"))
			if w.Stats().Replaced == 0 && committedLast < last {
				t.Errorf("no file replaced: the test does not exercise overlaps")
			}
		})
	}
	// The crashed run flushed 0-9 (committed up to 4) and 5-9 (not
	// committed); the re-delivery reads from 5 and flushes at 6 and 11.
	f("narrower",
		func(t *testing.T, w *Writer) { run(t, w, 0, 9, 4) },
		func(t *testing.T, w *Writer) { run(t, w, 5, 11, 6) },
		4, 11)
	// The crashed run wrote 5-6 and 7-9 uncommitted; the re-delivery reads
	// 5-12 in one flush.
	f("wider",
		func(t *testing.T, w *Writer) { run(t, w, 0, 9, 4, 6) },
		func(t *testing.T, w *Writer) { run(t, w, 5, 12) },
		4, 12)
	// Shifted: crashed 5-8, re-delivered 5-6, 7-10.
	f("shifted",
		func(t *testing.T, w *Writer) { run(t, w, 0, 8, 4) },
		func(t *testing.T, w *Writer) { run(t, w, 5, 10, 6) },
		4, 10)
	// The same boundaries rewrite the same files: nothing to replace.
	f("same",
		func(t *testing.T, w *Writer) { run(t, w, 0, 9, 4) },
		func(t *testing.T, w *Writer) { run(t, w, 5, 9) },
		9, 9)
}

func TestParseRange(t *testing.T) {
	f := func(name, prefix string, first, last int64, ok bool) {
		t.Helper()
		a, b, k := parseRange(name, prefix)
		if a != first || b != last || k != ok {
			t.Errorf("parseRange(%q, %q) = %d, %d, %v; want %d, %d, %v", name, prefix, a, b, k, first, last, ok)
		}
	}
	f("tk.samples-3-000000000005-000000000009.parquet", "tk.samples-3-", 5, 9, true)
	f("tk.samples-3-000000000005-000000000009.parquet", "tk.samples-31-", 0, 0, false)
	f("tk.samples-1-3-000000000005-000000000009.parquet", "tk.samples-1-", 0, 0, false) // topic tk.samples-1
	f("tk.samples-3-000000000009-000000000005.parquet", "tk.samples-3-", 0, 0, false)
	f("tk.samples-3-5-9.parquet", "tk.samples-3-", 0, 0, false)
	f(".tmp-tk.samples-3-000000000005-000000000009.parquet-123", "tk.samples-3-", 0, 0, false)
	f("tk.samples-3-000000000005-000000000009.parquet.bak", "tk.samples-3-", 0, 0, false)
}

// TestStatsCountRowsOnDisk re-delivers to the same Writer (a partition
// revoked before its commit and assigned back): Rows and Files count every
// file written, OwnReplacedRows and OwnReplaced the ones a later flush
// replaced, so the difference is exactly what is on disk, with other
// boundaries or the same ones (a rename over the same name).
func TestStatsCountRowsOnDisk(t *testing.T) {
	for _, tc := range []struct {
		name               string
		crashed, redeliver func(t *testing.T, w *Writer)
	}{
		{"narrower", func(t *testing.T, w *Writer) { run(t, w, 0, 9, 4) }, func(t *testing.T, w *Writer) { run(t, w, 5, 11, 6) }},
		{"same", func(t *testing.T, w *Writer) { run(t, w, 0, 9, 4) }, func(t *testing.T, w *Writer) { run(t, w, 5, 9) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			w := newWriter(t, Config{Root: root})
			tc.crashed(t, w)
			tc.redeliver(t, w)
			n, err := CountRows(root)
			if err != nil {
				t.Fatal(err)
			}
			st := w.Stats()
			t.Logf("%+v; %d rows in %d files on disk", st, n, len(lake(t, root)))
			if st.OwnReplaced == 0 {
				t.Fatal("nothing replaced: the test does not exercise re-delivery")
			}
			if st.Rows-st.OwnReplacedRows != n || st.Files-st.OwnReplaced != int64(len(lake(t, root))) {
				t.Errorf("stats say %d rows in %d files, disk has %d in %d", st.Rows-st.OwnReplacedRows, st.Files-st.OwnReplaced, n, len(lake(t, root)))
			}
		})
	}
}

// TestStatsRetriedFlushIsNoReplacement: a flush that fails after its
// first file is in place (the second hour's folder is blocked) and is
// retried, as the runner does, rewrites that file: nothing was
// re-delivered, so nothing counts as replaced, and Stats still say what
// is on disk.
func TestStatsRetriedFlushIsNoReplacement(t *testing.T) {
	w := newWriter(t, Config{})
	add(t, w, 3, 120, mixed(t0))
	add(t, w, 3, 121, mixed(t0+time.Hour.Nanoseconds()))
	blocked := blockHour(t, w, "hour=11")
	if _, err := w.Flush(context.Background()); err == nil {
		t.Fatal("the flush into a blocked folder succeeded")
	}
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	n, err := CountRows(w.Config().Root)
	if err != nil {
		t.Fatal(err)
	}
	files := int64(len(lake(t, w.Config().Root)))
	st := w.Stats()
	if st.Replaced != 0 || st.OwnReplaced != 0 || st.Files != files || st.Rows != n {
		t.Errorf("after a retried flush: %+v; want nothing replaced and %d rows in %d files, as on disk", st, n, files)
	}
}

// TestStatsOtherMembersFileIsNotOwn is a rebalance: two members start on
// one lake, A flushes partition 0 and loses it before its commit, and B
// re-reads it and flushes at another boundary, which removes A's file. B
// counts it as replaced but not as its own, though A wrote it after B
// started: B's Stats say what of B's is on disk.
func TestStatsOtherMembersFileIsNotOwn(t *testing.T) {
	root := t.TempDir()
	b := newWriter(t, Config{Root: root})
	a := newWriter(t, Config{Root: root})
	for off := int64(0); off <= 9; off++ {
		add(t, a, 0, off, message(off))
	}
	flush(t, a)
	for off := int64(0); off <= 4; off++ {
		add(t, b, 0, off, message(off))
	}
	flush(t, b)
	n, err := CountRows(root)
	if err != nil {
		t.Fatal(err)
	}
	files := int64(len(lake(t, root)))
	st := b.Stats()
	if st.Replaced == 0 {
		t.Fatal("B replaced nothing: the test does not exercise a rebalance")
	}
	if st.OwnReplaced != 0 || st.Files-st.OwnReplaced != files || st.Rows-st.OwnReplacedRows != n {
		t.Errorf("B: %+v; want none of A's files as B's own and %d rows in %d files, all B's, as on disk", st, n, files)
	}
}

// TestStatsMemoryIsBounded: the Writer remembers the files of each
// partition's latest flush only, and forgets the files a failed flush left
// of a partition it discards (its re-read is a re-delivery).
func TestStatsMemoryIsBounded(t *testing.T) {
	w := newWriter(t, Config{})
	run(t, w, 0, 29, 2, 5, 8, 11, 14, 17, 20, 23, 26)
	for k, files := range w.enc.own {
		if len(files) > 2 {
			t.Errorf("%v: %d files remembered after 10 flushes, want those of the latest (at most 2)", k, len(files))
		}
	}
	add(t, w, 0, 30, mixed(t0+2*time.Hour.Nanoseconds()))
	add(t, w, 0, 31, mixed(t0+3*time.Hour.Nanoseconds()))
	// The second hour's folder is blocked by a file: the first file is
	// written, the second is not.
	blockHour(t, w, "hour=13")
	if _, err := w.Flush(context.Background()); err == nil {
		t.Fatal("the flush into a blocked folder succeeded")
	}
	if len(w.enc.unflushed) != 1 {
		t.Fatalf("unflushed %v after a flush that failed after one file, want that file", w.enc.unflushed)
	}
	w.Discard(topic, 0)
	if len(w.enc.unflushed) != 0 {
		t.Errorf("unflushed %v after its partition was discarded, want none", w.enc.unflushed)
	}
}
