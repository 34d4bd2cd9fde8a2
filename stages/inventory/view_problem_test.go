package inventory

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInventoryReloadKeepsAProblemLeft: a file loaded with a problem (a
// link to a device it does not list) is re-read when it changes and the
// change adds no problem: the operator's edit is taken, as a restart
// would take it. A change that adds a problem keeps the previous
// inventory, and the one line logged names the new problem, not the one
// left. Before, any problem refused every reload, so an inventory that
// loaded with one never took another edit until the stage restarted.
func TestInventoryReloadKeepsAProblemLeft(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ghost := "  - {a: {device: spine1, interface: e4}, b: {device: ghost, interface: e1}}\n"
	var logs bytes.Buffer
	write(invYAML + ghost)
	v, err := NewFile(path, 0, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := v.Current(time.Now())

	write(strings.Replace(invYAML, "links:", "  - {name: leaf2, site: ams1, role: leaf}\nlinks:", 1) + ghost)
	s2 := v.Current(time.Now())
	if s2.Gen == s.Gen || len(s2.Inv.Devices) != 3 {
		t.Fatalf("an edit that kept the file's one problem was not loaded: gen %d → %d, %d devices; log:\n%s", s.Gen, s2.Gen, len(s2.Inv.Devices), logs.String())
	}

	logs.Reset()
	write(strings.Replace(invYAML, "links:", "  - {name: leaf2, site: ams1, role: leaf}\n  - {name: leaf3, site: ams1, rol: leaf}\nlinks:", 1) + ghost)
	s3 := v.Current(time.Now())
	if s3.Gen != s2.Gen || len(s3.Inv.Devices) != 3 {
		t.Fatalf("an edit that added a problem replaced the inventory: gen %d → %d, %d devices", s2.Gen, s3.Gen, len(s3.Inv.Devices))
	}
	if got := logs.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, `\"rol\"`) || strings.Contains(got, "ghost") {
		t.Errorf("want one line naming the new problem (the field rol), not the ghost link left; got:\n%s", got)
	}
}
