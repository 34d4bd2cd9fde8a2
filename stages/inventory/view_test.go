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

const invYAML = `devices:
  - {name: spine1, site: fra1, role: spine}
  - {name: leaf1, site: fra1, role: leaf}
links:
  - {a: {device: spine1, interface: e3}, b: {device: leaf1, interface: e1}}
`

// TestInventoryReload: a first load with a problem logs FILE:LINE and
// loads the rest; a changed file is re-read without a restart; a change
// into a bad file keeps the previous inventory and logs one line naming
// the file, line and problem, once; an unchanged file is not re-read.
func TestInventoryReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	write(invYAML + "  - {a: {device: spine1, interface: e4}, b: {device: ghost, interface: e1}}\n")
	v, err := NewFile(path, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	s := v.Current(time.Now())
	if len(s.Inv.Devices) != 2 || len(s.Inv.Links) != 1 || !strings.Contains(logs.String(), path+":6: ") {
		t.Fatalf("first load: %d devices, %d links; log:\n%s", len(s.Inv.Devices), len(s.Inv.Links), logs.String())
	}

	write(strings.Replace(invYAML, "links:", "  - {name: leaf2, site: ams1, role: leaf}\nlinks:", 1))
	s2 := v.Current(time.Now())
	if s2.Gen == s.Gen || len(s2.Inv.Devices) != 3 {
		t.Fatalf("reload: gen %d → %d, %d devices", s.Gen, s2.Gen, len(s2.Inv.Devices))
	}
	if d, ok := s2.Index.Device("leaf2"); !ok || d.Site != "ams1" {
		t.Fatalf("leaf2 %+v %v", d, ok)
	}

	logs.Reset()
	write(invYAML + "  - {a: {device: spine1, interface: e9}, b: {device: leaf1, interface: e2}, colour: red}\n")
	s3 := v.Current(time.Now())
	v.Current(time.Now()) // unchanged: not re-read, not logged again
	if s3.Gen != s2.Gen || len(s3.Inv.Devices) != 3 {
		t.Fatalf("a bad file replaced the inventory: gen %d, %d devices", s3.Gen, len(s3.Inv.Devices))
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 1 || !strings.Contains(logs.String(), path+":6: ") ||
		!strings.Contains(logs.String(), "colour") {
		t.Fatalf("want one line naming %s:6 and the field; got:\n%s", path, logs.String())
	}

	if _, err := NewFile(filepath.Join(t.TempDir(), "missing.yaml"), 0, log); err == nil ||
		!strings.HasPrefix(err.Error(), "cannot read inventory: ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestLoadInventoryCSV reads a .csv file as a device list.
func TestLoadInventoryCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devices.csv")
	if err := os.WriteFile(path, []byte("name,site,role\nleaf1,fra1,leaf\nleaf1,fra1,leaf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, problems, err := LoadFile(path)
	if err != nil || len(inv.Devices) != 1 || len(problems) != 1 || !strings.HasPrefix(problems[0].Error(), path+":3: ") {
		t.Fatalf("devices %v, problems %v, err %v", inv, problems, err)
	}
}

// TestInventoryProblemIsOneLine: an entry whose field has the wrong YAML
// type is one problem of one line naming the file, the line and the
// field's problem, as InventoryProblem.Error and View's logs promise
// (yaml.v3's own message spans several).
func TestInventoryProblemIsOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(path, []byte("devices:\n  - {name: leaf1, site: fra1, tags: prod}\n  - {name: leaf2, site: fra1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, problems, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || len(inv.Devices) != 1 {
		t.Fatalf("problems %v, devices %v; want one problem for tags: prod and leaf2 loaded", problems, inv.Devices)
	}
	s := problems[0].Error()
	if strings.Contains(s, "\n") || !strings.HasPrefix(s, path+":2: ") || !strings.Contains(s, "cannot unmarshal !!str `prod` into []string") {
		t.Errorf("problem %q: want one line naming %s:2 and what is wrong", s, path)
	}
}
