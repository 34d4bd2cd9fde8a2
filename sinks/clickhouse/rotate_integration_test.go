package clickhouse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// rotatingUser adds a test-only user to the local server through a file in
// its users.d (ClickHouse 18.16 has no ALTER USER; it reloads its users
// config, users.d included, within seconds of a change: checked every 2 s,
// by mtime in whole seconds) and returns a
// function that sets the user's password and waits until the server takes
// it. The file is removed when the test ends.
func rotatingUser(t *testing.T, addr, user string) func(pw string) {
	t.Helper()
	dir := os.Getenv("TK_LOCAL_DIR")
	if dir == "" {
		dir = "/tmp/telekernel-local"
	}
	dir = filepath.Join(dir, "clickhouse")
	if _, err := os.Stat(filepath.Join(dir, "users.xml")); err != nil {
		t.Skipf("the test changes a user of the local server (deploy/local/clickhouse.sh), whose users.xml is not at %s: %v", dir, err)
	}
	usersD := filepath.Join(dir, "users.d")
	if err := os.MkdirAll(usersD, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(usersD, user+".xml")
	t.Cleanup(func() { _ = os.Remove(file) })
	var mtime time.Time
	return func(pw string) {
		t.Helper()
		sum := sha256.Sum256([]byte(pw))
		xml := fmt.Sprintf(`<?xml version="1.0"?>
<!-- A test-only user of sinks/clickhouse TestIntegrationPasswordFileRotation; removed by the test. -->
<yandex><users><%[1]s>
    <password_sha256_hex>%[2]s</password_sha256_hex>
    <networks><ip>127.0.0.1</ip><ip>::1</ip><ip>::ffff:127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota>
</%[1]s></users></yandex>
`, user, hex.EncodeToString(sum[:]))
		tmp := filepath.Join(dir, user+".xml.tmp") // outside users.d: the server reads only the whole file
		if err := os.WriteFile(tmp, []byte(xml), 0o644); err != nil {
			t.Fatal(err)
		}
		// The server notices a change by the file's mtime in whole
		// seconds: a rewrite within the second of the last is not seen.
		next := time.Now().Truncate(time.Second)
		if !next.After(mtime) {
			next = mtime.Add(time.Second)
		}
		mtime = next
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the server to take the new password of "+user, func() bool { return loginOK(addr, user, pw) })
	}
}

// loginOK reports whether user can log in with pw.
func loginOK(addr, user, pw string) bool {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Auth: ch.Auth{Username: user, Password: pw}, DialTimeout: 2 * time.Second})
	if err != nil {
		return false
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return conn.Ping(ctx) == nil
}

// TestIntegrationPasswordFileRotation rotates the password of the samples
// stage's ClickHouse user while it runs on the real Kafka and ClickHouse:
// the server takes a new password, the connections drop (a proxy cut), the
// stage's flushes fail authentication until the operator rewrites the
// password file, and then the stage goes on by itself: it does not stop,
// every sample lands once, and no password is logged.
func TestIntegrationPasswordFileRotation(t *testing.T) {
	addr := testServerAddr(t)
	var r [4]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	user := "tk_rotate_" + id
	setPassword := rotatingUser(t, addr, user)
	setPassword("first-pass-" + id)
	pwFile := filepath.Join(t.TempDir(), "clickhouse-password")
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

	kc, cl := sinktest.Kafka(t)
	proxy := sinktest.NewProxy(t, addr)
	log, lines := sinktest.NewLog(t)
	s := newTestSink(t, func(c *Config) {
		c.Addr = []string{proxy.Addr()}
		c.Username = user
		c.Password = secret.Source{File: pwFile}
		c.DialTimeout = time.Second
		c.ReadTimeout = 5 * time.Second
	}, WithLogger(log))
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	topic := sinktest.Topic(t, cl, "tk-test-chrotate-", 2)
	want := fleet(4, 4, 30)
	recs := records(mem, want, 50)
	defer release(recs)
	third := len(recs) / 3
	sinktest.ProduceSamples(t, cl, topic, recs[:third])

	stage := NewSamplesStage(s, mem)
	defer stage.Close()
	rn := newRunner(t, kc, sinktest.Name("tk-test-chrotate-"), topic, stage, 200, 100*time.Millisecond, log)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rn.Run(rctx) }()
	waitFor(t, 30*time.Second, "the first third to be written", func() bool { return rn.Stats().Flushed >= 50*int64(third) })

	// The server takes a new password; the connections drop, so the next
	// flush logs in again, with the password the file still holds.
	setPassword("second-pass-" + id)
	proxy.Cut()
	proxy.Restore(t)
	sinktest.ProduceSamples(t, cl, topic, recs[third:2*third])
	flushFailed := func() bool {
		for _, l := range lines.Lines(slog.LevelInfo) {
			if strings.HasPrefix(l.Msg, "flush failed") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(20 * time.Second); !flushFailed(); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("the stage stopped on the old password instead of waiting for the file: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no flush failed with the old password: the rotation is not tested")
		}
	}
	flushedBefore := rn.Stats().Flushed
	time.Sleep(2 * time.Second) // a few retries with the old password
	select {
	case err := <-done:
		t.Fatalf("the stage stopped on the old password instead of waiting for the file: %v", err)
	default:
	}
	if f := rn.Stats().Flushed; f != flushedBefore {
		t.Fatalf("rows written with a password the server no longer takes: %d → %d", flushedBefore, f)
	}

	// The operator rewrites the file: the stage goes on by itself.
	writeFile("second-pass-" + id)
	rewrittenAt := time.Now()
	sinktest.ProduceSamples(t, cl, topic, recs[2*third:])
	end, err := rn.EndOffsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go rn.DrainTo(end)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runner: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the stage did not drain within 40 s of the password file being rewritten")
	}
	t.Logf("drained %v after the password file was rewritten", time.Since(rewrittenAt).Round(time.Millisecond))
	n, err := s.Count(ctx, schemas.TableSamples)
	if err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(want)) {
		t.Fatalf("count FINAL = %d, want N = %d", n, len(want))
	}
	var changed int
	for _, l := range lines.Lines(slog.LevelDebug) {
		if strings.Contains(l.Text, "-pass-") {
			t.Errorf("a password reached the log: %s", l.Text)
		}
		if l.Msg == "secret file changed; using the new value" {
			changed++
		}
		if l.Level >= slog.LevelInfo && strings.Contains(l.Msg, "flush") {
			t.Logf("log: %s", l.Text)
		}
	}
	if changed != 1 {
		t.Errorf("%d lines saying the password file changed, want 1", changed)
	}
}
