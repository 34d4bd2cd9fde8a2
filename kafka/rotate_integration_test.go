package kafka

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
)

// cutDialer dials TLS and can close every connection it made, so a test
// makes the client connect (and authenticate) again.
type cutDialer struct {
	tc    *tls.Config
	mu    sync.Mutex
	conns []net.Conn
}

func (d *cutDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&tls.Dialer{Config: d.tc}).DialContext(ctx, network, addr)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
	}
	return c, err
}

func (d *cutDialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.conns = nil
}

// scramTest is a test-only SCRAM-SHA-512 user on the real broker: the
// PLAINTEXT and SASL_SSL listeners, a TLS config trusting it, the user (a prefix and a
// random id), an admin client on the PLAINTEXT listener, and setPassword
// (scramUser).
type scramTest struct {
	plain, sasl string
	tc          *tls.Config
	id, user    string
	admCl       *kgo.Client
	adm         *kadm.Client
	setPassword func(pw string)
}

// newSCRAMTest creates the user prefix+id; it is deleted, and the admin
// client closed, when the test ends.
func newSCRAMTest(t *testing.T, prefix string) *scramTest {
	t.Helper()
	e := &scramTest{plain: testenv.Service(t, "TK_KAFKA"), sasl: testenv.Service(t, "TK_KAFKA_SASL")}
	pem, err := os.ReadFile(testenv.Service(t, "TK_TLS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	e.tc = &tls.Config{RootCAs: pool}
	var r [4]byte
	_, _ = rand.Read(r[:])
	e.id = hex.EncodeToString(r[:])
	e.user = prefix + e.id
	if e.admCl, err = kgo.NewClient(kgo.SeedBrokers(e.plain)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.admCl.Close)
	e.adm = kadm.NewClient(e.admCl)
	e.setPassword = scramUser(t, e.adm, e.sasl, e.tc, e.user)
	return e
}

// scramUser creates a test-only SCRAM-SHA-512 user on the real broker
// (through its PLAINTEXT listener) and returns a function that sets its
// password and waits until the SASL listener takes it.
func scramUser(t *testing.T, adm *kadm.Client, saslAddr string, tc *tls.Config, user string) func(pw string) {
	t.Helper()
	set := func(pw string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: pw}})
		if err == nil {
			err = res.Error()
		}
		if err != nil {
			t.Fatalf("cannot set the SCRAM password of %s: %v", user, err)
		}
		for { // the credential reaches the listener through the metadata log
			cl, err := kgo.NewClient(kgo.SeedBrokers(saslAddr), kgo.DialTLSConfig(tc),
				kgo.SASL(scramAuth(user, pw)))
			if err == nil {
				err = cl.Ping(ctx)
				cl.Close()
			}
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("the broker does not take the new password of %s: %v", user, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	})
	return set
}

// TestSASLPasswordFileRotation rotates the SCRAM password of a client
// connected to the real broker's SASL_SSL listener: the broker takes a new
// password, the operator rewrites the password file, and the next
// connection authenticates with the new one, so records produced after
// the rotation arrive without a restart, every one once. A password file
// that cannot be read meanwhile keeps the old value, with one line naming
// the field and the file.
func TestSASLPasswordFileRotation(t *testing.T) {
	e := newSCRAMTest(t, "tk-rotate-")
	saslAddr, tc, id, user, admCl, adm := e.sasl, e.tc, e.id, e.user, e.admCl, e.adm
	setPassword, topic := e.setPassword, "tk.test.rotate."+id

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setPassword("first-pass-" + id)
	if err := EnsureTopics(ctx, admCl, TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = adm.DeleteTopics(context.Background(), topic) }()

	pwFile := filepath.Join(t.TempDir(), "kafka-password")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(pwFile+".tmp", []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(pwFile+".tmp", pwFile); err != nil { // as a secret volume swaps its files
			t.Fatal(err)
		}
	}
	write("first-pass-" + id)
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil))
	cfg := Config{Brokers: []string{saslAddr},
		SASL: SASLConfig{Mechanism: "SCRAM-SHA-512", Username: user, Password: secret.Source{File: pwFile}}}
	d := &cutDialer{tc: tc}
	cfg = cfg.WithLogger(log)
	cl, err := Connect(ctx, cfg, kgo.Dialer(d.DialContext), kgo.RecordRetries(20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n := 0
	produce := func(count int) error {
		t.Helper()
		recs := make([]*kgo.Record, count)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint(n + i))}
		}
		// A produce in flight waits for its connection whatever its
		// context says: bound the wait here.
		done := make(chan error, 1)
		go func() { done <- cl.ProduceSync(ctx, recs...).FirstErr() }()
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-time.After(30 * time.Second):
			return errors.New("no acknowledgement within 30s")
		}
		n += count
		return nil
	}
	if err := produce(100); err != nil {
		t.Fatal(err)
	}
	// A second client of the same config, as a process has several.
	d2 := &cutDialer{tc: tc}
	cl2, err := Connect(ctx, cfg, kgo.Dialer(d2.DialContext))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()

	// The file goes away: new connections keep the old password.
	if err := os.Remove(pwFile); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d.cut()
		d2.cut()
		if err := produce(10); err != nil {
			t.Fatalf("with the password file gone: %v", err)
		}
		if err := cl2.Ping(ctx); err != nil {
			t.Fatalf("second client, with the password file gone: %v", err)
		}
	}

	// The rotation: the broker first, then the file, then a reconnect.
	setPassword("second-pass-" + id)
	write("second-pass-" + id)
	d.cut()
	if err := produce(100); err != nil {
		if errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("after the password file was rewritten, the client still authenticates with the old password: %v", err)
		}
		t.Fatal(err)
	}

	seen := map[string]int{}
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if err := ReadAll(rctx, Config{Brokers: []string{e.plain}}, topic, func(r *kgo.Record) { seen[string(r.Value)]++ }); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Errorf("record %d arrived %d times", i, c)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct records, want %d", len(seen), n)
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	t.Logf("log:\n%s", out)
	if c := strings.Count(out, "cannot read the secret file again"); c != 1 {
		t.Errorf("%d lines for the missing file from two clients, want 1", c)
	}
	if !strings.Contains(out, "field=kafka.sasl.password file="+pwFile) {
		t.Error("no line names the field and the file")
	}
	if strings.Contains(out, "-pass-") {
		t.Error("a password reached the log")
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func scramAuth(user, pw string) sasl.Mechanism {
	return scram.Auth{User: user, Pass: pw}.AsSha512Mechanism()
}
