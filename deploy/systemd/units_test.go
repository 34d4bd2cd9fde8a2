// Package systemd holds the systemd units; its test runs systemd-analyze
// verify on each of them.
package systemd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/internal/testenv"
)

// binary is the path the units run; the test points it at an executable
// that exists here, since verify checks that ExecStart is executable.
const binary = "/usr/local/bin/telekernel"

// verify runs systemd-analyze verify on a unit file and returns its exit
// error and everything it printed: verify exits 0 on unknown keys and bad
// values, and only warns, so a clean unit is exit 0 with no output.
func verify(t *testing.T, analyze, unit string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(analyze, "verify", unit)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// analyzer returns the path of systemd-analyze.
func analyzer(t *testing.T) string { return testenv.Tool(t, "systemd-analyze", "systemd") }

// copyUnit writes a unit into dir under name, with the binary path replaced
// by exe.
func copyUnit(t *testing.T, dir, name string, body []byte, exe string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, bytes.ReplaceAll(body, []byte(binary), []byte(exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyDropIns copies each drop-in of this folder (UNIT.d/*.conf) into dir,
// where verify reads it with its unit; a drop-in for a unit that is not
// verified here (a template instance other than those in instances) fails.
func copyDropIns(t *testing.T, dir string, instances map[string]string) {
	t.Helper()
	confs, err := filepath.Glob("*.service.d/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range confs {
		unit := strings.TrimSuffix(filepath.Dir(c), ".d")
		tmpl, inst, _ := strings.Cut(unit, "@")
		if _, err := os.Stat(unit); err != nil && instances[tmpl+"@.service"]+".service" != inst {
			t.Errorf("%s: a drop-in for %s, which is not verified here", c, unit)
			continue
		}
		body, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(c)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnitsVerify runs systemd-analyze verify on every unit in this folder
// (templates as an instance, e.g. telekernel-stage@detect.service) with its
// drop-ins, and wants exit 0 with no warning; a unit with a misspelled
// directive must produce a warning, so the check can fail.
func TestUnitsVerify(t *testing.T) {
	analyze := analyzer(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	units, err := filepath.Glob("*.service")
	if err != nil || len(units) < 3 {
		t.Fatalf("units: %v %v", units, err)
	}
	instances := map[string]string{"telekernel-stage@.service": "detect", "telekernel-collect@.service": "gnmi"}
	dir := t.TempDir()
	copyDropIns(t, dir, instances)
	for _, u := range units {
		body, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(body, []byte("ExecStart="+binary+" ")) {
			t.Errorf("%s: ExecStart does not run %s", u, binary)
		}
		name := u
		if inst, ok := instances[u]; ok {
			name = strings.Replace(u, "@.", "@"+inst+".", 1)
		} else if strings.Contains(u, "@.") {
			t.Errorf("%s: a template with no instance to verify it as", u)
			continue
		}
		if out, err := verify(t, analyze, copyUnit(t, dir, name, body, exe)); err != nil || out != "" {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
	bad := "[Unit]\nDescription=x\n[Service]\nExecStart=" + binary + " run\nProtectSystme=strict\n"
	out, _ := verify(t, analyze, copyUnit(t, dir, "bad.service", []byte(bad), exe))
	if !strings.Contains(out, "ProtectSystme") {
		t.Errorf("a misspelled directive passed verify: %q", out)
	}
}
