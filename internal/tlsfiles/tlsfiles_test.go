package tlsfiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/internal/secret"
)

// Credentials loads the password and the TLS config, and names the field
// at fault: password first, then tls.<field>.
func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	_ = os.WriteFile(pwFile, []byte("s3cret\n"), 0o600)
	pw, tc, err := Credentials(secret.Source{File: pwFile}, "password", nil, Config{Enabled: true})
	if err != nil || pw.Value().Reveal() != "s3cret" || tc == nil {
		t.Fatalf("Credentials = %v, %v, %v", pw, tc, err)
	}
	missing := secret.Source{File: filepath.Join(dir, "none")}
	if _, _, err := Credentials(missing, "password", nil, Config{CAFile: "x"}); err == nil || !strings.HasPrefix(err.Error(), "password: cannot read secret file") {
		t.Errorf("missing password file: %v", err)
	}
	if _, _, err := Credentials(secret.Source{}, "password", nil, Config{CAFile: "x"}); err == nil || !strings.HasPrefix(err.Error(), "tls.enabled: ") {
		t.Errorf("files without enabled: %v", err)
	}
}

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

// Reading YAML is strict and folds enable into Enabled, so a consumer that
// reads Enabled (the gNMI dialler, say) never goes plaintext on the old
// spelling.
func TestConfigYAML(t *testing.T) {
	f := func(doc string, want Config, wantErr string) {
		t.Helper()
		var v struct {
			TLS Config `yaml:"tls"`
		}
		dec := yaml.NewDecoder(strings.NewReader(doc))
		dec.KnownFields(true)
		err := dec.Decode(&v)
		switch {
		case wantErr == "" && (err != nil || v.TLS != want):
			t.Errorf("%q: %+v, %v; want %+v", doc, v.TLS, err, want)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: error %v, want one containing %q", doc, err, wantErr)
		}
	}
	f("tls: {enabled: true, ca_file: /ca.pem}\n", Config{Enabled: true, CAFile: "/ca.pem"}, "")
	f("tls: {enable: true}\n", Config{Enabled: true, Enable: true}, "")
	f("tls:\n  enabled: true\n  ca_fil: /ca.pem\n", Config{}, "line 3: field ca_fil not found in type tlsfiles.Config")
	f("tls: {enabled: maybe}\n", Config{}, "cannot unmarshal")
}
