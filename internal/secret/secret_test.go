package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLoadAndHide(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Source{File: p}.Load()
	if err != nil || s.Reveal() != "hunter2" {
		t.Fatalf("file: %q %v", s.Reveal(), err)
	}
	t.Setenv("TK_TEST_SECRET", "hunter2")
	if s, err = (Source{Env: "TK_TEST_SECRET"}).Load(); err != nil || s.Reveal() != "hunter2" {
		t.Fatalf("env: %q %v", s.Reveal(), err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "pw", s, "struct", struct{ P Secret }{s})
	j, _ := json.Marshal(struct{ P Secret }{s})
	for _, out := range []string{buf.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, struct{ P Secret }{s}, s, s), string(j)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TK_TEST_EMPTY_SECRET", "")
	for _, bad := range []Source{{File: "/nonexistent/pw"}, {Env: "TK_TEST_UNSET_SECRET"}, {File: p, Env: "X"}, {File: empty}, {Env: "TK_TEST_EMPTY_SECRET"}} {
		if _, err := bad.Load(); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

// A source reads {file} or {env} strictly; a plain value is refused
// without repeating it.
func TestSourceYAML(t *testing.T) {
	f := func(doc string, want Source, wantErr string) {
		t.Helper()
		var v struct {
			Password Source `yaml:"password"`
		}
		dec := yaml.NewDecoder(strings.NewReader(doc))
		dec.KnownFields(true)
		err := dec.Decode(&v)
		switch {
		case wantErr == "" && (err != nil || v.Password != want):
			t.Errorf("%q: %+v, %v; want %+v", doc, v.Password, err, want)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: error %v, want one containing %q", doc, err, wantErr)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%q: the error repeats the value: %v", doc, err)
		}
	}
	f("password: {file: /run/pw}\n", Source{File: "/run/pw"}, "")
	f("password:\n  env: PW\n", Source{Env: "PW"}, "")
	f("password:\n", Source{}, "")
	f("password: hunter2\n", Source{}, "line 1: a secret is never written in the config file: give {file: PATH} or {env: VAR}")
	f("password: {fil: /x}\n", Source{}, "line 1: field fil not found in type secret.Source")
	f("password: [hunter2]\n", Source{}, "line 1: want {file: PATH} or {env: VAR}")
}

// A Live secret follows its file: a rewritten file gives the new value, a
// file that cannot be read keeps the old one with one warning naming the
// field and the file (not one per Reload), and no value reaches the log.
func TestLiveReload(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("old-pass-1\n")
	var buf bytes.Buffer
	l, err := Source{File: p}.Live("kafka.sasl.password", slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil || l.Value().Reveal() != "old-pass-1" || !l.FromFile() {
		t.Fatalf("Live: %q %v", l.Value().Reveal(), err)
	}
	if l.Reload() {
		t.Error("Reload of an unchanged file reports a change")
	}
	write("new-pass-2\n")
	if !l.Reload() || l.Value().Reveal() != "new-pass-2" {
		t.Fatalf("after a rewrite: %q", l.Value().Reveal())
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if l.Reload() || l.Value().Reveal() != "new-pass-2" {
			t.Fatalf("a missing file must keep the value: %q", l.Value().Reveal())
		}
	}
	write("\n") // empty: also kept, and no second warning
	l.Reload()
	if n := strings.Count(buf.String(), "cannot read the secret file again"); n != 1 {
		t.Errorf("%d warnings for an unreadable file, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "field=kafka.sasl.password file="+p) {
		t.Errorf("the warning does not name the field and file:\n%s", buf.String())
	}
	write("new-pass-3")
	if !l.Reload() || l.Value().Reveal() != "new-pass-3" {
		t.Fatalf("after the file came back: %q", l.Value().Reveal())
	}
	if !strings.Contains(buf.String(), "secret file readable again") {
		t.Errorf("no line when the file came back:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "pass-") {
		t.Errorf("a value reached the log:\n%s", buf.String())
	}
	t.Setenv("TK_TEST_LIVE", "from-env")
	e, err := Source{Env: "TK_TEST_LIVE"}.Live("x", nil)
	if err != nil || e.FromFile() {
		t.Fatal(err)
	}
	t.Setenv("TK_TEST_LIVE", "changed")
	if e.Reload() || e.Value().Reveal() != "from-env" {
		t.Errorf("an env secret changed after start: %q", e.Value().Reveal())
	}
	if _, err := (Source{File: "/nonexistent/pw"}).Live("x", nil); err == nil {
		t.Error("Live of a missing file: want an error at start")
	}
}
