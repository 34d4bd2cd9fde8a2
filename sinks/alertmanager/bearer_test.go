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

// A bearer token from a file is sent as "Authorization: Bearer TOKEN" and
// read again before each request, so a rotated token needs no restart; a
// 401 or 403 with a token from a file is retried (the file may be
// rewritten after the proxy took the new token); the value reaches
// neither the log nor an error.
func TestBearerTokenFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "am-token")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("old-am-token\n")
	am := newFakeAM(t, http.StatusOK, http.StatusOK, http.StatusUnauthorized)
	var logs bytes.Buffer
	s := newSink(t, Config{URL: am.URL, BearerToken: secret.Source{File: p}},
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	flush(t, s, 1)
	write("new-am-token\n")
	add(t, s, detection("edge-2", schemas.StateFiring, schemas.SeverityCritical))
	flush(t, s, 1)
	add(t, s, detection("edge-3", schemas.StateFiring, schemas.SeverityCritical))
	_, err := s.Flush(context.Background())
	if err == nil || errors.Is(err, pipeline.ErrStop) {
		t.Fatalf("a refused token from a file: err = %v, want a retryable error", err)
	}
	if !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "am-token\n") || strings.Contains(err.Error(), "-am-token") {
		t.Errorf("the error does not name the file, or names the value: %v", err)
	}
	flush(t, s, 1)
	am.mu.Lock()
	auth := append([]string(nil), am.auth...)
	am.mu.Unlock()
	want := []string{"Bearer old-am-token", "Bearer new-am-token", "Bearer new-am-token", "Bearer new-am-token"}
	if strings.Join(auth, "|") != strings.Join(want, "|") {
		t.Fatalf("authorization seen by the server: %q, want %q", auth, want)
	}
	if strings.Contains(logs.String(), "-am-token") {
		t.Errorf("a token reached the log:\n%s", logs.String())
	}
}

// A bearer token from the environment is sent; a 401 then stops the stage
// (the value cannot change), and the error does not carry it.
func TestBearerTokenEnvRefusedStops(t *testing.T) {
	t.Setenv("TK_TEST_AM_TOKEN", "env-am-token")
	am := newFakeAM(t, http.StatusOK, http.StatusForbidden)
	s := newSink(t, Config{URL: am.URL, BearerToken: secret.Source{Env: "TK_TEST_AM_TOKEN"}})
	add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
	flush(t, s, 1)
	add(t, s, detection("edge-2", schemas.StateFiring, schemas.SeverityCritical))
	_, err := s.Flush(context.Background())
	if !errors.Is(err, pipeline.ErrStop) || strings.Contains(err.Error(), "env-am-token") {
		t.Fatalf("err = %v, want pipeline.ErrStop without the token", err)
	}
	am.mu.Lock()
	defer am.mu.Unlock()
	if am.auth[0] != "Bearer env-am-token" {
		t.Errorf("authorization seen by the server: %q", am.auth)
	}
}

func TestBearerTokenConfig(t *testing.T) {
	ok := "https://am.example.net"
	f := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%+v: error %v, want one containing %q", c, err, want)
		}
	}
	f(Config{URL: ok, BearerToken: secret.Source{Env: "T"}}, "")
	f(Config{URL: ok, BearerToken: secret.Source{File: "/t"}}, "")
	f(Config{URL: ok, BearerToken: secret.Source{Env: "T", File: "/t"}}, "bearer_token: set either file or env")
	f(Config{URL: ok, Username: "tk", Password: secret.Source{Env: "P"}, BearerToken: secret.Source{Env: "T"}}, "bearer_token: set either bearer_token or username/password, not both")
	f(Config{URL: ok, Password: secret.Source{Env: "P"}, BearerToken: secret.Source{Env: "T"}}, "bearer_token: set either bearer_token or username/password")
	if v := slog.AnyValue(Config{URL: ok, BearerToken: secret.Source{Env: "T"}}).Resolve().String(); !strings.Contains(v, "bearer_token_set=true") && !strings.Contains(v, "bearer_token_set:true") {
		t.Errorf("LogValue: %s", v)
	}
}
