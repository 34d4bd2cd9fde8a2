package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/kafka"
)

// TestTransactPasswordRotationWindow runs a transactional stage on the real
// broker's SASL_SSL listener as a test-only SCRAM user whose password comes
// from a file. The broker takes a new password while the file still holds
// the old one, and the stage's idle produce connection is reaped (kgo's
// 30 s idle timeout), so the next transaction logs in anew inside that
// window and is refused. The stage must wait, not stop: once the file is
// rewritten it goes on, and every input record is processed and output
// once.
func TestTransactPasswordRotationWindow(t *testing.T) {
	plainAddr := testenv.Service(t, "TK_KAFKA")
	saslAddr := testenv.Service(t, "TK_KAFKA_SASL")
	caFile := testenv.Service(t, "TK_TLS_CA")
	if os.Getenv("TK_TEST_SLOW") == "" && os.Getenv("TK_INTEGRATION") != "1" {
		t.Skip("takes over a minute (the idle connection reaper): set TK_INTEGRATION=1 or TK_TEST_SLOW=1")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "test-rotate-" + hex.EncodeToString(b)
	user := "tk-" + id
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	plain := kafka.Config{Brokers: []string{plainAddr}}
	cl := testClient(t, ctx, plain)
	adm := kadm.NewClient(cl)
	setPassword := func(pw string) {
		t.Helper()
		res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: pw}})
		if err == nil {
			err = res.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			c, err := kgo.NewClient(kgo.SeedBrokers(saslAddr), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
				kgo.SASL(scram.Auth{User: user, Pass: pw}.AsSha512Mechanism()))
			if err == nil {
				err = c.Ping(ctx)
				c.Close()
			}
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the broker does not take the new password: %v", err)
			}
		}
	}
	t.Cleanup(func() {
		_, _ = adm.AlterUserSCRAMs(context.Background(), []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	})
	setPassword("first-pass-" + id)
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: id, Partitions: 1}, kafka.TopicSpec{Name: id + ".out", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), id, id+"-changelog", id+".out", id+".dlq") })
	pwFile := filepath.Join(t.TempDir(), "pw")
	writeFile := func(v string) {
		t.Helper()
		if err := os.WriteFile(pwFile+".tmp", []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(pwFile+".tmp", pwFile); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("first-pass-" + id)

	input := func(n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: id, Value: []byte("x")}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	input(50)
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedBuf{&logs, &mu}, nil))
	kc := kafka.Config{Brokers: []string{saslAddr}, TLS: tlsfiles.Config{Enabled: true, CAFile: caFile},
		SASL: kafka.SASLConfig{Mechanism: "SCRAM-SHA-512", Username: user, Password: secret.Source{File: pwFile}}}
	kc = kc.WithLogger(log)
	tcfg := TransactionConfig{Interval: 200 * time.Millisecond}
	proc := &seenProc{countProc: newCountProc(id+".out", tcfg)}
	tr, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "rotate", Group: id, Input: id, DeadLetterTopic: id + ".dlq", Transaction: tcfg},
		proc, NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()
	waitSeen(t, &proc.seen, 50)
	// Committed, not only processed: a commit that opens its connection
	// after the password changed would be refused too, and the check
	// below would see 0 (it did, on a loaded CI machine).
	for deadline := time.Now().Add(30 * time.Second); tr.Stats().Flushed < 50; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d outputs committed 30 s after the first 50 inputs were processed, want 50", tr.Stats().Flushed)
		}
	}

	// The broker takes the new password; the file still holds the old
	// one. Wait until the idle produce connection is reaped, then give
	// the stage work: its next produce logs in again and is refused.
	setPassword("second-pass-" + id)
	select {
	case err := <-ran:
		t.Fatalf("the stage stopped: %v", err)
	case <-time.After(65 * time.Second):
	}
	input(50)
	select {
	case err := <-ran:
		t.Fatalf("the stage stopped on the refused login instead of waiting for the file: %v", err)
	case <-time.After(10 * time.Second):
	}
	if f := tr.Stats().Flushed; f != 50 {
		t.Fatalf("%d outputs committed before the file was rewritten, want 50: the refused login is not tested", f)
	}
	writeFile("second-pass-" + id)
	rewritten := time.Now()
	waitSeen(t, &proc.seen, 100)
	for deadline := time.Now().Add(30 * time.Second); tr.Stats().Flushed < 100; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d outputs committed 30 s after the file was rewritten, want 100", tr.Stats().Flushed)
		}
	}
	t.Logf("all 100 committed %v after the file was rewritten", time.Since(rewritten).Round(time.Millisecond))
	stop()
	waitRun(t, ran, FinalFlushTimeout+5*time.Second)
	var outs int
	if err := kafka.ReadAll(ctx, plain, id+".out", func(*kgo.Record) { outs++ }); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "secret file") {
			t.Logf("log: %s", l)
		}
	}
	if outs != 100 {
		t.Errorf("%d outputs visible to read_committed readers, want 100 (each input once)", outs)
	}
	if strings.Contains(out, "-pass-") {
		t.Error("a password reached the log")
	}
}

type lockedBuf struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
