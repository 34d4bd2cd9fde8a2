package clickhouse

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// Defaults of Config fields left at their zero value.
const (
	DefaultAddr        = "127.0.0.1:9000"
	DefaultDatabase    = "telekernel"
	DefaultUsername    = "default"
	DefaultDialTimeout = 5 * time.Second
	DefaultReadTimeout = 60 * time.Second
	DefaultBatchRows   = 100_000
	DefaultCompression = "lz4"
	DefaultMaxOpenConn = 4
)

// redacted replaces secrets in logs and formatted output.
const redacted = "<redacted>"

// Config configures a Sink. The zero value of every field means its default;
// see the Default* constants. A Config is a plain value: copying it is fine.
type Config struct {
	// Addr lists host:port of native-protocol (TCP) endpoints, default
	// DefaultAddr. With several, connections go to the first that answers.
	Addr []string `yaml:"addr"`
	// Database holds the tables, default DefaultDatabase. EnsureTables
	// creates it. It must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*).
	Database string `yaml:"database"`
	// Username, default DefaultUsername.
	Username string `yaml:"username"`
	// Password of Username. It is never logged or printed: String, GoString
	// and LogValue show it as <redacted>. Prefer PasswordFile.
	Password string `yaml:"password"`
	// PasswordFile names a file holding the password (a trailing newline is
	// trimmed). It is read by New. Mutually exclusive with Password.
	PasswordFile string `yaml:"password_file"`
	// TLS configures TLS to the server; off by default.
	TLS TLSConfig `yaml:"tls"`
	// DialTimeout bounds connecting and the handshake, default
	// DefaultDialTimeout.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ReadTimeout bounds each wait for the server while a query runs,
	// default DefaultReadTimeout.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// BatchRows is the number of rows after which an insert sends the block
	// it has built so far, default DefaultBatchRows. An InsertSamples call
	// is still one INSERT; BatchRows bounds the memory it holds. Callers
	// should also gather about this many rows before calling it (ClickHouse
	// prefers 10k-100k-row inserts about once a second per table).
	BatchRows int `yaml:"batch_rows"`
	// Compression of blocks on the wire: "lz4" (default), "zstd" or "none".
	Compression string `yaml:"compression"`
	// MaxOpenConns bounds the connection pool, default DefaultMaxOpenConn.
	MaxOpenConns int `yaml:"max_open_conns"`
	// Layout forces the table layout EnsureTables creates: "auto" (default:
	// modern on servers at or above schemas.ModernLayoutFloor, legacy below),
	// "modern" or "legacy". Inserts always follow the layout of the tables
	// as they exist.
	Layout string `yaml:"layout"`
	// TTLDays is the retention of samples on the modern layout, default
	// schemas.DefaultTTLDays (30); -1 keeps them forever.
	TTLDays int `yaml:"ttl_days"`
	// DetectionsTTLDays is the retention of detections on the modern layout;
	// 0 (the default) keeps them forever.
	DetectionsTTLDays int `yaml:"detections_ttl_days"`
	// Cluster names a cluster of the servers' remote_servers config. When
	// set, Apply creates the cluster form of the schema ON CLUSTER
	// (Replicated per-node tables under Distributed tables with the plain
	// names; see schemas.ClickHouseDDL) and inserts go through the
	// Distributed tables synchronously (insert_distributed_sync=1), so an
	// acknowledged insert is on a replica of every shard it touches and a
	// retried block is dropped by the replicated table's deduplication.
	// Empty (the default) is a single server. It must be a plain
	// identifier.
	Cluster string `yaml:"cluster"`
}

// TLSConfig configures TLS to ClickHouse. Go's crypto/tls defaults apply
// (TLS 1.3 preferred, hybrid post-quantum key exchange offered first); they
// are never narrowed.
type TLSConfig struct {
	// Enable turns TLS on. The server's secure native port is usually 9440.
	Enable bool `yaml:"enable"`
	// CAFile is a PEM bundle of CAs to trust instead of the system pool.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key (mTLS).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the server's certificate;
	// by default it is the host of the address dialled.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate verification. For tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if len(c.Addr) == 0 {
		c.Addr = []string{DefaultAddr}
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Username == "" {
		c.Username = DefaultUsername
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.BatchRows == 0 {
		c.BatchRows = DefaultBatchRows
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = DefaultMaxOpenConn
	}
	if c.Layout == "" {
		c.Layout = "auto"
	}
	return c
}

// Validate reports the first field that is not valid, naming it. Zero
// fields are valid (they take their defaults). Validate does no I/O: files
// are read by New.
func (c Config) Validate() error {
	for i, a := range c.Addr {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return fmt.Errorf("addr[%d] %q: want host:port", i, a)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("addr[%d] %q: port must be 1-65535", i, a)
		}
	}
	if c.Database != "" && schemas.QuoteIdent(c.Database) != c.Database {
		return fmt.Errorf("database %q: want a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", c.Database)
	}
	if c.Cluster != "" && schemas.QuoteIdent(c.Cluster) != c.Cluster {
		return fmt.Errorf("cluster %q: want a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", c.Cluster)
	}
	if c.Password != "" && c.PasswordFile != "" {
		return errors.New("password and password_file are both set: use one")
	}
	if c.DialTimeout < 0 {
		return fmt.Errorf("dial_timeout %v: must not be negative", c.DialTimeout)
	}
	if c.ReadTimeout < 0 {
		return fmt.Errorf("read_timeout %v: must not be negative", c.ReadTimeout)
	}
	if c.BatchRows < 0 {
		return fmt.Errorf("batch_rows %d: must not be negative", c.BatchRows)
	}
	if c.MaxOpenConns < 0 {
		return fmt.Errorf("max_open_conns %d: must not be negative", c.MaxOpenConns)
	}
	switch c.Compression {
	case "", "lz4", "zstd", "none":
	default:
		return fmt.Errorf("compression %q: want lz4, zstd or none", c.Compression)
	}
	if _, err := schemas.ParseLayout(c.Layout); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if c.TTLDays < -1 {
		return fmt.Errorf("ttl_days %d: want a number of days, 0 for the default or -1 for none", c.TTLDays)
	}
	if c.DetectionsTTLDays < 0 {
		return fmt.Errorf("detections_ttl_days %d: want a number of days or 0 for none", c.DetectionsTTLDays)
	}
	t := c.TLS
	if !t.Enable && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		return errors.New("tls: settings are given but tls.enable is false")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("tls: cert_file and key_file must be set together")
	}
	return nil
}

// password returns the configured password, reading PasswordFile if set.
func (c Config) password() (string, error) {
	if c.PasswordFile == "" {
		return c.Password, nil
	}
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// build returns the crypto/tls configuration, or nil when TLS is off.
func (t TLSConfig) build() (*tls.Config, error) {
	if !t.Enable {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, for tests
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate found", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// secret shows whether a secret is set without showing it.
func secret(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// LogValue implements slog.LogValuer: the config with the password hidden.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("addr", c.Addr),
		slog.String("database", c.Database),
		slog.String("username", c.Username),
		slog.String("password", secret(c.Password)),
		slog.String("password_file", c.PasswordFile),
		slog.Group("tls",
			slog.Bool("enable", c.TLS.Enable),
			slog.String("ca_file", c.TLS.CAFile),
			slog.String("cert_file", c.TLS.CertFile),
			slog.String("key_file", c.TLS.KeyFile),
			slog.String("server_name", c.TLS.ServerName),
			slog.Bool("insecure_skip_verify", c.TLS.InsecureSkipVerify)),
		slog.Duration("dial_timeout", c.DialTimeout),
		slog.Duration("read_timeout", c.ReadTimeout),
		slog.Int("batch_rows", c.BatchRows),
		slog.String("compression", c.Compression),
		slog.Int("max_open_conns", c.MaxOpenConns),
		slog.String("layout", c.Layout),
		slog.Int("ttl_days", c.TTLDays),
		slog.Int("detections_ttl_days", c.DetectionsTTLDays),
		slog.String("cluster", c.Cluster),
	)
}

// String formats the config with the password hidden.
func (c Config) String() string {
	c.Password = secret(c.Password)
	type plain Config // drops the methods, so %+v does not recurse
	return fmt.Sprintf("%+v", plain(c))
}

// GoString formats the config for %#v with the password hidden.
func (c Config) GoString() string { return "clickhouse.Config" + c.String() }

var _ slog.LogValuer = Config{}
var _ fmt.Stringer = Config{}
var _ fmt.GoStringer = Config{}
