package parquet

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedRowsKeptWhenOffsetsGoBack is a restart whose group offsets
// went back to a point inside a committed file: the group's offsets
// expired (offsets.retention.minutes) or were reset to the earliest, after
// the topic's retention had deleted its head, so the re-read starts at
// offset 5 while a committed file holds offsets 0-9. Every row of offsets
// 0-4, which nobody can read again, must stay in the lake (rows of 5-9 may
// then be in two files). Before, the file of 0-9 was taken for an
// uncommitted flush that the re-read overlaps and removed, and the rows of
// offsets 0-4 were gone from the lake for good.
func TestCommittedRowsKeptWhenOffsetsGoBack(t *testing.T) {
	root := t.TempDir()
	run(t, newWriter(t, Config{Root: root}), 0, 9) // flushed and committed
	w := newWriter(t, Config{Root: root})
	run(t, w, 5, 12, 7) // the restart reads from the topic's new start

	have := map[string]bool{}
	for _, rel := range lake(t, root) {
		fi, err := ReadFileInfo(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range read(t, filepath.Join(root, rel)) {
			have[fmt.Sprint(fi.Partition, s)] = true
		}
	}
	missing := 0
	for off := int64(0); off <= 12; off++ {
		for p := range int32(2) {
			for _, s := range want(message(off), TimestampMicros) {
				if !have[fmt.Sprint(p, s)] {
					missing++
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d rows of offsets 0-12 are not in the lake; files:\n%s", missing, strings.Join(lake(t, root), "\n"))
	}
}
