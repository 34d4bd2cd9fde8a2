package clickhouse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

const secretPassword = "s3cr3t-Pa55"

func TestConfigYAML(t *testing.T) {
	const doc = `
addr: ["ch1:9440", "ch2:9440"]
database: tk
username: writer
password: {env: TK_CH_PASSWORD}
tls:
  enabled: true
  ca_file: /etc/tk/ca.pem
  server_name: clickhouse.internal
dial_timeout: 2s
read_timeout: 30s
batch_rows: 50000
compression: zstd
layout: legacy
ttl_days: 7
cluster: analytics
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: []string{"ch1:9440", "ch2:9440"}, Database: "tk", Username: "writer", Password: secret.Source{Env: "TK_CH_PASSWORD"},
		TLS:         tlsfiles.Config{Enabled: true, CAFile: "/etc/tk/ca.pem", ServerName: "clickhouse.internal"},
		DialTimeout: 2 * time.Second, ReadTimeout: 30 * time.Second, BatchRows: 50000, Compression: "zstd", Layout: "legacy", TTLDays: 7, Cluster: "analytics"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parsed\n %#v\nwant\n %#v", c, want)
	}
	if d := c.Deprecated(); d != nil {
		t.Errorf("deprecations of a current file: %q", d)
	}
	d := Config{}.WithDefaults()
	if d.Addr[0] != DefaultAddr || d.Database != DefaultDatabase || d.Username != DefaultUsername || d.DialTimeout != DefaultDialTimeout ||
		d.BatchRows != DefaultBatchRows || d.Compression != "lz4" || d.Layout != "auto" {
		t.Errorf("defaults: %v", d)
	}
}

// The spellings of the sink's README before issue 14 (password_file,
// tls.enable) still load, each with one line saying how to migrate.
func TestConfigDeprecatedSpellings(t *testing.T) {
	var c Config
	if err := yaml.Unmarshal([]byte("password_file: /run/secrets/ch\ntls: {enable: true}\n"), &c); err != nil {
		t.Fatal(err)
	}
	want := []string{"password_file: deprecated spelling, write password: {file: /run/secrets/ch}", "tls.enable: deprecated spelling, write enabled: true"}
	if got := c.Deprecated(); !reflect.DeepEqual(got, want) {
		t.Errorf("Deprecated() = %q, want %q", got, want)
	}
	d := c.WithDefaults()
	if d.Password != (secret.Source{File: "/run/secrets/ch"}) || d.PasswordFile != "" {
		t.Errorf("password_file not folded into password: %+v", d.Password)
	}
	if tc, err := d.TLS.Client(); err != nil || tc == nil {
		t.Errorf("tls.enable does not turn TLS on: %v, %v", tc, err)
	}
	both := Config{PasswordFile: "/f", Password: secret.Source{Env: "X"}}
	if err := both.Validate(); err == nil || !strings.HasPrefix(err.Error(), "password_file: ") {
		t.Errorf("password_file and password: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%v: unexpected error %v", c, err)
		case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
			t.Errorf("%v: error %v, want one starting with %q", c, err, want)
		}
	}
	f(Config{}, "")
	f(Config{Addr: []string{"[::1]:9000", "ch:9440"}}, "")
	f(Config{Addr: []string{"ch"}}, `addr[0]: "ch" is not host:port`)
	f(Config{Addr: []string{"ch:9000", ":9000"}}, `addr[1]: ":9000" is not host:port`)
	f(Config{Addr: []string{"ch:http"}}, `addr[0]: "ch:http" is not host:port`)
	f(Config{Addr: []string{"ch:65536"}}, `addr[0]: "ch:65536" has a port outside 1-65535`)
	f(Config{Database: "tk-prod"}, `database: "tk-prod" is not a plain identifier`)
	f(Config{Cluster: "tk-cluster"}, `cluster: "tk-cluster" is not a plain identifier`)
	f(Config{Password: secret.Source{File: "/f", Env: "X"}}, "password: set either file or env, not both")
	f(Config{DialTimeout: -time.Second}, "dial_timeout: -1s")
	f(Config{BatchRows: -1}, "batch_rows: -1")
	f(Config{Compression: "gzip"}, `compression: "gzip" is not lz4, zstd or none`)
	f(Config{Layout: "new"}, `layout: unknown clickhouse layout "new"`)
	f(Config{TTLDays: -2}, "ttl_days: -2")
	f(Config{DetectionsTTLDays: -1}, "detections_ttl_days: -1")
}

// The password never reaches a log: the config holds only its source, and
// New reads it.
func TestConfigLogsNoPassword(t *testing.T) {
	t.Setenv("TK_CH_TEST_PASSWORD", secretPassword)
	c := Config{Addr: []string{"ch:9000"}, Password: secret.Source{Env: "TK_CH_TEST_PASSWORD"}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	if s := buf.String(); strings.Contains(s, secretPassword) || !strings.Contains(s, `"password_set":true`) {
		t.Errorf("JSON log: %s", s)
	}
	pw, err := c.Password.Load()
	if err != nil || pw.Reveal() != secretPassword || fmt.Sprint(pw) != "***" {
		t.Errorf("password %v (%q), %v", pw, pw.Reveal(), err)
	}
}

func TestConfigPasswordFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(secretPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Config{PasswordFile: p}.WithDefaults().Password.Load()
	if err != nil || got.Reveal() != secretPassword {
		t.Fatalf("password = %q, %v", got.Reveal(), err)
	}
}

func TestIsRetryable(t *testing.T) {
	f := func(err error, want bool) {
		t.Helper()
		if got := IsRetryable(err); got != want {
			t.Errorf("IsRetryable(%v) = %v, want %v", err, got, want)
		}
	}
	wrap := func(err error) error { return fmt.Errorf("cannot insert 5 rows into tk.samples: %w", err) }
	f(nil, false)
	f(wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true)
	f(wrap(syscall.ECONNRESET), true)
	f(wrap(syscall.EPIPE), true)
	f(wrap(io.EOF), true)
	f(wrap(io.ErrUnexpectedEOF), true)
	f(wrap(context.DeadlineExceeded), true)
	f(wrap(ch.ErrAcquireConnTimeout), true)
	f(wrap(&net.DNSError{Err: "no such host", Name: "ch", IsNotFound: true}), true)
	f(wrap(&ch.Exception{Code: codeTooManyParts, Message: "Too many parts"}), true)
	f(wrap(&ch.Exception{Code: codeMemoryLimitExceeded}), true)
	f(wrap(&ch.Exception{Code: codeTimeoutExceeded}), true)
	f(wrap(&ch.Exception{Code: codeNetworkError}), true)
	f(wrap(&ch.Exception{Code: codeAllConnTriesFailed, Message: "All connection tries failed."}), true)
	f(wrap(&ch.Exception{Code: 60, Message: "Table tk.samples doesn't exist."}), false)
	f(wrap(&ch.Exception{Code: 16, Message: "No such column"}), false)
	f(wrap(&ch.Exception{Code: 53, Message: "Type mismatch"}), false)
	f(wrap(&ch.Exception{Code: 62, Message: "Syntax error"}), false)
	f(wrap(&ch.Exception{Code: codeWrongPassword}), false)
	f(wrap(&ch.Exception{Code: codeAuthenticationFailed}), false)
	f(wrap(&ch.OpError{Op: "AppendRow", ColumnName: "ts", Err: errors.New("converting")}), false)
	f(wrap(ErrBadInput), false)
	f(wrap(ErrSchemaMismatch), false)
	f(wrap(ErrClosed), false)
	f(wrap(context.Canceled), false)
	f(wrap(ch.ErrConnectionClosed), false)
	f(errors.New("something else"), false)
	f(&ConnectError{Addr: "x:1", Err: syscall.ECONNREFUSED, Hint: "h"}, true)
}

func TestClosedSink(t *testing.T) {
	s := &Sink{conn: nil}
	s.closed.Store(true)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.InsertSamples(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("InsertSamples after Close: %v", err)
	}
	if _, err := s.InsertDetections(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("InsertDetections after Close: %v", err)
	}
	if err := s.EnsureTables(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("EnsureTables after Close: %v", err)
	}
	if _, err := s.Count(ctx, "samples"); !errors.Is(err, ErrClosed) {
		t.Errorf("Count after Close: %v", err)
	}
}
