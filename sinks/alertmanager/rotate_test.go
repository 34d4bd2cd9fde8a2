package alertmanager

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/internal/secret"
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
