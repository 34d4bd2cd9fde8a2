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
