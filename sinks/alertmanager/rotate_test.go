package alertmanager

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// A password read from a file is read again before each request, so an
// operator who rotates it (Alertmanager's web config, then the file) needs
// no restart; a file that cannot be read keeps the value read before, with
// one warning naming the field and the file, and no value is logged.
func TestPasswordFileReadAgainEachRequest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "am-pw")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("old-am-pass\n")
	am := newFakeAM(t)
	var logs bytes.Buffer
	s := newSink(t, Config{URL: am.URL, Username: "tk", Password: secret.Source{File: p}},
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	flush(t, s, 1)
	write("new-am-pass\n")
	add(t, s, detection("edge-2", schemas.StateFiring, schemas.SeverityCritical))
	flush(t, s, 1)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"edge-3", "edge-4"} {
		add(t, s, detection(dev, schemas.StateFiring, schemas.SeverityCritical))
		flush(t, s, 1)
	}
	am.mu.Lock()
	auth := append([]string(nil), am.auth...)
	am.mu.Unlock()
	want := []string{"tk:old-am-pass", "tk:new-am-pass", "tk:new-am-pass", "tk:new-am-pass"}
	if strings.Join(auth, " ") != strings.Join(want, " ") {
		t.Fatalf("basic auth seen by the server: %q, want %q", auth, want)
	}
	if n := strings.Count(logs.String(), "cannot read the secret file again"); n != 1 {
		t.Errorf("%d warnings for the missing file, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "field=alertmanager.password file="+p) {
		t.Errorf("the warning does not name the field and the file:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "am-pass") {
		t.Errorf("a password reached the log:\n%s", logs.String())
	}
}

// A 401 or 403 while the password comes from a file is an Alertmanager
// that took a new password before the file was rewritten: the flush fails
// without stopping the stage (pipeline.ErrStop), keeps its alerts, and the
// retry reads the file again. With a password from the environment, which
// cannot change, it still stops the stage.
func TestRefusedPasswordFileRetried(t *testing.T) {
	p := filepath.Join(t.TempDir(), "am-pw")
	if err := os.WriteFile(p, []byte("old-am-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	am := newFakeAM(t, http.StatusUnauthorized, http.StatusForbidden)
	s := newSink(t, Config{URL: am.URL, Username: "tk", Password: secret.Source{File: p}})
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	for range 2 {
		_, err := s.Flush(context.Background())
		if err == nil || errors.Is(err, pipeline.ErrStop) {
			t.Fatalf("a refused password from a file: err = %v, want a retryable error", err)
		}
		if !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "am-pass") {
			t.Errorf("the error does not name the file, or names the value: %v", err)
		}
	}
	if err := os.WriteFile(p, []byte("new-am-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flush(t, s, 1)
	if got := am.received(); len(got) != 1 || len(got[0]) != 1 {
		t.Fatalf("posts %+v", got)
	}
	am.mu.Lock()
	last := am.auth[len(am.auth)-1]
	am.mu.Unlock()
	if last != "tk:new-am-pass" {
		t.Errorf("the retry sent %q", last)
	}
}
