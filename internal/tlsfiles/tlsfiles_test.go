package tlsfiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Client keeps crypto/tls defaults (no narrowed curves or versions), names
// the field at fault, and still reads the deprecated spelling enable.
func TestClient(t *testing.T) {
	if c, err := (Config{}).Client(); c != nil || err != nil {
		t.Fatalf("disabled TLS: %v, %v", c, err)
	}
	c, err := Config{Enabled: true, ServerName: "ch.internal"}.Client()
	if err != nil {
		t.Fatal(err)
	}
	if c.CurvePreferences != nil || c.MinVersion != 0 || c.MaxVersion != 0 || c.ServerName != "ch.internal" {
		t.Errorf("tls config narrows defaults: %+v", c)
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := (Config{Enabled: true, CAFile: bad}).Client(); err == nil || !strings.HasPrefix(err.Error(), "ca_file: ") {
		t.Errorf("bad CA file: %v", err)
	}
	if _, err := (Config{CAFile: bad}).Client(); err == nil || !strings.HasPrefix(err.Error(), "enabled: ") {
		t.Errorf("files without enabled: %v", err)
	}
	old := Config{Enable: true}
	if c, err := old.Client(); c == nil || err != nil {
		t.Errorf("enable (deprecated) does not turn TLS on: %v, %v", c, err)
	}
	if d := old.Deprecated(); len(d) != 1 || d[0] != "enable: deprecated spelling, write enabled: true" {
		t.Errorf("Deprecated() = %q", d)
	}
	if d := (Config{Enabled: true}).Deprecated(); d != nil {
		t.Errorf("Deprecated() of enabled = %q", d)
	}
}
