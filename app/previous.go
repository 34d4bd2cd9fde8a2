package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/telekernel/telekernel/sinks/parquet"
)

// PreviousDir is the folder under the data folder (parquet.root) that
// receives the output of earlier runs on the embedded broker, one folder
// per run named by the UTC time it was moved, e.g.
// DATA/_previous/2026-12-04T09-30-00Z/samples/dt=…/ and …/labels.jsonl.
// The leading underscore makes the readers that skip "_" folders
// (parquet.CountRows, pyarrow and Spark datasets over DATA) leave it out
// of the current run's lake.
const PreviousDir = "_previous"

// previousStamp is the layout of the folder names under PreviousDir: RFC
// 3339 in UTC without colons, which some file systems refuse.
const previousStamp = "2006-01-02T15-04-05Z"

// setAsideEarlierRun moves what an earlier run wrote in the data folder
// root (the Parquet table folder root/table and the labels file when it
// lies under root) into root/PreviousDir/STAMP/, keeping its layout so that
// `eval --data` reads it there, and returns that folder, or "" when there
// was nothing to move. The embedded broker starts at offset 0 on every
// run, so the Parquet sink would otherwise take the earlier files, named by
// offset range, for an uncommitted flush that the new offsets overlap and
// remove them, and the labels file would describe only the new run.
// Everything is renamed within root, so it is never copied: a move that
// fails is undone and the error says what to do. The log file
// (telekernel.log) stays: it is appended to.
func setAsideEarlierRun(root, table, labels string, now time.Time) (string, error) {
	var names []string // relative to root
	if hasFiles(filepath.Join(root, table)) {
		names = append(names, table)
	}
	// A labels file inside the table folder moves with it.
	if rel, ok := under(root, labels); ok && !strings.HasPrefix(rel, table+string(filepath.Separator)) {
		if fi, err := os.Stat(labels); err == nil && fi.Mode().IsRegular() {
			names = append(names, rel)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	dest, err := newPreviousDir(root, now)
	if err == nil {
		err = moveAll(root, dest, names)
	}
	if err != nil {
		return "", fmt.Errorf("cannot move the earlier run's output in %s aside (the embedded broker restarts at offset 0 and would overwrite it): %v; move or delete %s yourself, or pass --data with another folder",
			root, err, strings.Join(names, " and "))
	}
	return dest, nil
}

// newPreviousDir creates and returns root/PreviousDir/STAMP, STAMP being
// now in UTC, with a -2, -3… suffix if a run in the same second took it.
func newPreviousDir(root string, now time.Time) (string, error) {
	parent := filepath.Join(root, PreviousDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	base := filepath.Join(parent, now.UTC().Format(previousStamp))
	for i := 1; ; i++ {
		dir := base
		if i > 1 {
			dir += "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, parquet.SyncDir(parent)
		}
		if !errors.Is(err, fs.ErrExist) || i >= 100 {
			return "", err
		}
	}
}

// moveAll renames each of names from root to dest, creating the folders
// between, and syncs the folders it changed. On a failure it renames back
// what it moved, so the earlier run's output stays in one place.
func moveAll(root, dest string, names []string) error {
	var moved []string
	var err error
	for _, n := range names {
		to := filepath.Join(dest, n)
		if err = os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			break
		}
		if err = os.Rename(filepath.Join(root, n), to); err != nil {
			break
		}
		moved = append(moved, n)
	}
	if err != nil {
		for _, n := range moved {
			if rerr := os.Rename(filepath.Join(dest, n), filepath.Join(root, n)); rerr != nil {
				return fmt.Errorf("%w (and %s, already moved to %s, could not be moved back: %v)", err, n, dest, rerr)
			}
		}
		return err
	}
	// A rename is durable once both folders are synced: until then a crash
	// may show the file at either place, never at neither.
	dirs := map[string]bool{}
	for _, n := range names {
		dirs[filepath.Dir(filepath.Join(root, n))] = true
		dirs[filepath.Dir(filepath.Join(dest, n))] = true
	}
	for d := range dirs {
		if err := parquet.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// hasFiles reports whether dir holds a file at any depth: an empty table
// folder (or a missing one) is nothing to set aside.
func hasFiles(dir string) bool {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return found
		}
		return nil
	})
	return errors.Is(err, found)
}

// under returns path relative to root when path lies inside root.
func under(root, path string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}
