package kafka

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/secret"
)

// TestAuthErrorForgetsClosedClient: a client whose last login the broker
// refused and which is then closed (a short-lived admin client, say, at a
// stage's start during a broker restart) produces and consumes nothing any
// more, so /readyz (AuthError) must not stay not ready for it.
func TestAuthErrorForgetsClosedClient(t *testing.T) {
	e := newSCRAMTest(t, "tk-closed-")
	saslAddr, tc, id, user := e.sasl, e.tc, e.id, e.user
	e.setPassword("right-pass-" + id)

	t.Setenv("TK_TEST_KAFKA_PW", "wrong-pass-"+id)
	cfg := Config{Brokers: []string{saslAddr},
		SASL: SASLConfig{Mechanism: "SCRAM-SHA-512", Username: user, Password: secret.Source{Env: "TK_TEST_KAFKA_PW"}}}.
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	opts, err := cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.Dialer((&cutDialer{tc: tc}).DialContext))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	perr := cl.Ping(ctx)
	cancel()
	t.Logf("ping with the wrong password: %v", perr)
	if err := cfg.AuthError(); err == nil {
		t.Fatal("AuthError is nil while the broker refuses the login")
	}
	cl.Close()
	if err := cfg.AuthError(); err != nil {
		t.Errorf("AuthError after the only refused client was closed: %v", err)
	}
}
