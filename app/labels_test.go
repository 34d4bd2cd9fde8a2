package app

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
)

// TestWriteLabels writes the ground truth over an older file: the file
// holds every label as a JSON line, readable by all, replaced whole (a
// reader polling it, as the live view's tests do, never meets half a
// line), and nothing of the write is left beside it. A folder that cannot
// be written gets one error naming the labels.
func TestWriteLabels(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run", "labels.jsonl")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	labels := []sim.Label{
		{Device: "sim-01", Metric: "/interfaces/interface/state/oper-status", Keys: "name=Ethernet1", Kind: "link_down", Start: at, End: at.Add(time.Minute)},
		{Device: "sim-02", Metric: "/interfaces/interface/state/oper-status", Keys: "name=Ethernet2", Kind: "admin_up_oper_down", Start: at, End: at.Add(time.Hour)},
	}
	if err := WriteLabels(path, labels); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []sim.Label
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var l sim.Label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", len(got)+1, err)
		}
		got = append(got, l)
	}
	if len(got) != len(labels) || got[0].Kind != "link_down" || got[1].Device != "sim-02" || !got[1].End.Equal(at.Add(time.Hour)) {
		t.Errorf("read back %+v, want %+v", got, labels)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", st.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("%d files beside the labels, want only labels.jsonl: %v", len(ents), ents)
	}

	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		return // root writes anywhere
	}
	err = WriteLabels(filepath.Join(ro, "labels.jsonl"), labels)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot write labels: ") {
		t.Errorf("WriteLabels into a read-only folder = %v, want cannot write labels: …", err)
	}
}
