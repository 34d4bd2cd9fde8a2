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
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"gopkg.in/yaml.v3"
)

const secretPassword = "s3cr3t-Pa55"

func TestConfigYAML(t *testing.T) {
	const doc = `
addr: ["ch1:9440", "ch2:9440"]
database: tk
username: writer
password: ` + secretPassword + `
tls:
  enable: true
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
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: []string{"ch1:9440", "ch2:9440"}, Database: "tk", Username: "writer", Password: secretPassword,
		TLS:         TLSConfig{Enable: true, CAFile: "/etc/tk/ca.pem", ServerName: "clickhouse.internal"},
		DialTimeout: 2 * time.Second, ReadTimeout: 30 * time.Second, BatchRows: 50000, Compression: "zstd", Layout: "legacy", TTLDays: 7, Cluster: "analytics"}
	if fmt.Sprintf("%#v", c) != fmt.Sprintf("%#v", want) || c.Password != want.Password {
		t.Errorf("parsed\n %#v\nwant\n %#v", c, want)
	}
	d := Config{}.withDefaults()
	if d.Addr[0] != DefaultAddr || d.Database != DefaultDatabase || d.Username != DefaultUsername || d.DialTimeout != DefaultDialTimeout ||
		d.BatchRows != DefaultBatchRows || d.Compression != "lz4" || d.Layout != "auto" {
		t.Errorf("defaults: %v", d)
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%v: unexpected error %v", c, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%v: error %v, want one containing %q", c, err, want)
		}
	}
	f(Config{}, "")
	f(Config{Addr: []string{"[::1]:9000", "ch:9440"}}, "")
	f(Config{Addr: []string{"ch"}}, `addr[0] "ch": want host:port`)
	f(Config{Addr: []string{"ch:9000", ":9000"}}, `addr[1] ":9000": want host:port`)
	f(Config{Addr: []string{"ch:http"}}, `addr[0] "ch:http": port must be 1-65535`)
	f(Config{Database: "tk-prod"}, `database "tk-prod": want a plain identifier`)
	f(Config{Cluster: "tk-cluster"}, `cluster "tk-cluster": want a plain identifier`)
	f(Config{Password: "x", PasswordFile: "/f"}, "password and password_file are both set")
	f(Config{DialTimeout: -time.Second}, "dial_timeout -1s")
	f(Config{BatchRows: -1}, "batch_rows -1")
	f(Config{Compression: "gzip"}, `compression "gzip": want lz4, zstd or none`)
	f(Config{Layout: "new"}, `layout: unknown clickhouse layout "new"`)
	f(Config{TTLDays: -2}, "ttl_days -2")
	f(Config{DetectionsTTLDays: -1}, "detections_ttl_days -1")
	f(Config{TLS: TLSConfig{CAFile: "/ca.pem"}}, "tls: settings are given but tls.enable is false")
	f(Config{TLS: TLSConfig{Enable: true, CertFile: "/c.pem"}}, "tls: cert_file and key_file must be set together")
}

func TestConfigHidesPassword(t *testing.T) {
	c := Config{Addr: []string{"ch:9000"}, Password: secretPassword}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("config", "config", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
	for _, s := range []string{buf.String(), c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v", &c)} {
		if strings.Contains(s, secretPassword) {
			t.Errorf("password leaked: %s", s)
		}
		if !strings.Contains(s, redacted) {
			t.Errorf("no %s marker in %s", redacted, s)
		}
	}
	if !strings.Contains(buf.String(), `"password":"<redacted>"`) {
		t.Errorf("JSON log: %s", buf.String())
	}
	t.Log(c.String())
}

func TestConfigPasswordFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(secretPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Config{PasswordFile: p}.password()
	if err != nil || got != secretPassword {
		t.Fatalf("password() = %q, %v", got, err)
	}
}

func TestTLSBuild(t *testing.T) {
	if c, err := (TLSConfig{}).build(); c != nil || err != nil {
		t.Fatalf("disabled TLS: %v, %v", c, err)
	}
	c, err := TLSConfig{Enable: true, ServerName: "ch.internal"}.build()
	if err != nil {
		t.Fatal(err)
	}
	// Go's defaults stay: no narrowed curves or versions.
	if c.CurvePreferences != nil || c.MinVersion != 0 || c.MaxVersion != 0 || c.ServerName != "ch.internal" {
		t.Errorf("tls config narrows defaults: %+v", c)
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := (TLSConfig{Enable: true, CAFile: bad}).build(); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("bad CA file: %v", err)
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
