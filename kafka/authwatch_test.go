package kafka

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/secret"
)

// A client whose logins the broker keeps refusing logs one ERROR line (not
// one per retry), AuthError reports it until a login succeeds, and a
// connection that fails for another reason changes nothing.
func TestAuthWatch(t *testing.T) {
	var logs bytes.Buffer
	cfg := Config{Brokers: []string{"b:9094"}, SASL: SASLConfig{Mechanism: "PLAIN", Username: "tk", Password: secret.Source{File: "/run/secrets/kafka"}}}.
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	w1, w2 := cfg.newAuthWatch(cfg.log, "PLAIN"), cfg.newAuthWatch(cfg.log, "PLAIN")
	meta := kgo.BrokerMetadata{Host: "b", Port: 9094}
	refused := fmt.Errorf("sasl: %w", kerr.SaslAuthenticationFailed)
	w1.OnBrokerConnect(meta, 0, nil, nil) // logged in once, then refused
	for range 5 {
		w1.OnBrokerConnect(meta, 0, nil, refused)
		w2.OnBrokerConnect(meta, 0, nil, errors.New("connection refused"))
	}
	if err := cfg.AuthError(); err == nil || !strings.Contains(err.Error(), "(1 clients)") {
		t.Errorf("AuthError = %v", err)
	}
	out := logs.String()
	if n := strings.Count(out, "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for 5 refused logins, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "client=1 broker=b:9094 mechanism=PLAIN user=tk password_source=file:/run/secrets/kafka") {
		t.Errorf("the line does not name the client, broker, mechanism, user and source:\n%s", out)
	}
	w1.OnBrokerConnect(meta, 0, nil, nil)
	if err := cfg.AuthError(); err != nil {
		t.Errorf("AuthError after a login succeeded: %v", err)
	}
	if !strings.Contains(logs.String(), "the broker takes the SASL login again") {
		t.Errorf("no line when the login succeeded again:\n%s", logs.String())
	}
	w1.OnBrokerConnect(meta, 0, nil, refused) // a new episode is reported at once
	if n := strings.Count(logs.String(), "level=ERROR"); n != 2 {
		t.Errorf("%d ERROR lines after a second refusal, want 2", n)
	}
	if (Config{}).AuthError() != nil {
		t.Error("AuthError without WithLogger")
	}
}

// TestAuthWatchNeverLoggedIn: a client refused from its first login is
// not reported within the connect timeout, in which Connect fails with
// one line of its own (a wrong password at start is one line), and is
// reported after it (a client made without Connect). Readiness counts it
// at once.
func TestAuthWatchNeverLoggedIn(t *testing.T) {
	var logs bytes.Buffer
	cfg := Config{Brokers: []string{"b:9094"}, ConnectTimeout: time.Hour, SASL: SASLConfig{Mechanism: "PLAIN", Username: "tk", Password: secret.Source{Env: "TK_PW"}}}.
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	w := cfg.newAuthWatch(cfg.log, "PLAIN")
	meta := kgo.BrokerMetadata{Host: "b", Port: 9094}
	refused := fmt.Errorf("sasl: %w", kerr.SaslAuthenticationFailed)
	w.OnBrokerConnect(meta, 0, nil, refused)
	if n := strings.Count(logs.String(), "level=ERROR"); n != 0 {
		t.Errorf("%d ERROR lines within the connect timeout of a client that never logged in, want 0:\n%s", n, logs.String())
	}
	if cfg.AuthError() == nil {
		t.Error("AuthError nil for a refused client")
	}
	w.grace = 0 // the connect timeout has passed
	w.OnBrokerConnect(meta, 0, nil, refused)
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines after the connect timeout, want 1:\n%s", n, logs.String())
	}
}

// Every login the broker refuses to a client of a WithLogger config counts
// in AuthFailures (what telekernel_kafka_auth_failures_total serves), a
// connection failing for another reason and a login taken do not.
func TestAuthFailuresCounted(t *testing.T) {
	cfg := Config{Brokers: []string{"b:9094"}, SASL: SASLConfig{Mechanism: "PLAIN", Username: "tk", Password: secret.Source{Env: "TK_PW"}}}.
		WithLogger(slog.New(slog.DiscardHandler))
	w1, w2 := cfg.newAuthWatch(cfg.log, "PLAIN"), cfg.newAuthWatch(cfg.log, "PLAIN")
	meta := kgo.BrokerMetadata{Host: "b", Port: 9094}
	refused := fmt.Errorf("sasl: %w", kerr.SaslAuthenticationFailed)
	for range 3 {
		w1.OnBrokerConnect(meta, 0, nil, refused)
	}
	w2.OnBrokerConnect(meta, 0, nil, refused)
	w2.OnBrokerConnect(meta, 0, nil, errors.New("connection refused"))
	w1.OnBrokerConnect(meta, 0, nil, nil)
	if n := cfg.AuthFailures(); n != 4 {
		t.Errorf("AuthFailures = %d after 4 refused logins, want 4", n)
	}
	if n := (Config{}).AuthFailures(); n != 0 {
		t.Errorf("AuthFailures without WithLogger = %d", n)
	}
}
