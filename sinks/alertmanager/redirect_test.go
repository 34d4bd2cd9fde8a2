package alertmanager

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/schemas"
)

// TestRedirectToPlainHTTPKeepsCredentials: an https Alertmanager (or the
// proxy in front of it) that answers with a redirect to http, as a proxy
// that does not know it sits behind TLS does, never receives the basic
// auth password or the bearer token in the clear; the flush fails
// instead. Before, the client followed the redirect and, the host being
// the same, resent the Authorization header over plain HTTP.
func TestRedirectToPlainHTTPKeepsCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer secure.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TK_TEST_AM_PW", "am-secret-pw")
	t.Setenv("TK_TEST_AM_TOKEN", "am-secret-token")
	tc := tlsfiles.Config{Enabled: true, CAFile: ca}
	for _, cfg := range []Config{
		{URL: secure.URL, TLS: tc, Username: "tk", Password: secret.Source{Env: "TK_TEST_AM_PW"}},
		{URL: secure.URL, TLS: tc, BearerToken: secret.Source{Env: "TK_TEST_AM_TOKEN"}},
	} {
		s := newSink(t, cfg)
		add(t, s, detection("edge-1", schemas.StateFiring, schemas.SeverityCritical))
		_, err := s.Flush(context.Background())
		if err == nil {
			t.Errorf("username %q: a flush redirected to plain http succeeded", cfg.Username)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range seen {
		if a != "" {
			t.Errorf("the plain http server received Authorization %q", a)
		}
	}
}
