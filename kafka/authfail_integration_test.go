package kafka

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
)

// TestSASLRefusedLoginIsReported rotates, on the real broker, the SCRAM
// password of a client whose password comes from an environment variable
// (fixed at start): its produces cannot go out. The operator must be told:
// one ERROR line per client naming the mechanism, the user and where the
// password comes from (never the value), not one per retry, and
// Config.AuthError (what /readyz reports) says it until a login succeeds.
func TestSASLRefusedLoginIsReported(t *testing.T) {
	e := newSCRAMTest(t, "tk-refused-")
	saslAddr, tc, id, user, admCl, adm := e.sasl, e.tc, e.id, e.user, e.admCl, e.adm
	setPassword, topic := e.setPassword, "tk.test.refused."+id

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setPassword("first-pass-" + id)
	if err := EnsureTopics(ctx, admCl, TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = adm.DeleteTopics(context.Background(), topic) }()

	t.Setenv("TK_TEST_KAFKA_PW", "first-pass-"+id)
	logs := &testenv.LogBuffer{}
	cfg := Config{Brokers: []string{saslAddr},
		SASL: SASLConfig{Mechanism: "SCRAM-SHA-512", Username: user, Password: secret.Source{Env: "TK_TEST_KAFKA_PW"}}}
	cfg = cfg.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))
	d := &cutDialer{tc: tc}
	cl, err := Connect(ctx, cfg, kgo.Dialer(d.DialContext))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// A produce in flight waits for its connection whatever its context
	// says: bound the wait here.
	produce := func(wait time.Duration) error {
		done := make(chan error, 1)
		go func() { done <- cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr() }()
		select {
		case err := <-done:
			return err
		case <-time.After(wait):
			return errors.New("no acknowledgement within " + wait.String())
		}
	}
	if err := produce(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	// The broker takes a new password; the process still has the old one.
	setPassword("second-pass-" + id)
	d.cut()
	start := time.Now()
	perr := produce(10 * time.Second)
	t.Logf("produce after the rotation: %v (after %v)", perr, time.Since(start).Round(time.Millisecond))
	out := logs.String()
	t.Logf("log:\n%s", out)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "level=ERROR") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d ERROR lines in 10 s of refused logins, want 1", len(lines))
	}
	for _, want := range []string{"mechanism=SCRAM-SHA-512", "user=" + user, "password_source=env:TK_TEST_KAFKA_PW"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the ERROR line lacks %s: %s", want, lines[0])
		}
	}
	if strings.Contains(out, "-pass-") {
		t.Error("a password reached the log")
	}
	if err := cfg.AuthError(); err == nil {
		t.Error("AuthError is nil while the broker refuses the login")
	}

	// The operator restores a password the process has: it goes on (the
	// record held since the rotation too).
	setPassword("first-pass-" + id)
	if err := produce(60 * time.Second); err != nil {
		t.Fatalf("after the broker took the old password back: %v", err)
	}
	if err := cfg.AuthError(); err != nil {
		t.Errorf("AuthError after a login succeeded: %v", err)
	}
}
