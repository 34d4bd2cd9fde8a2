package clickhouse

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/internal/hostport"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
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

// Config configures a Sink. The zero value of every field means its default;
// see the Default* constants. A Config is a plain value: copying it is fine.
// It holds no secret itself: the password is read from its Source by New.
type Config struct {
	// Addr lists host:port of native-protocol (TCP) endpoints, default
	// DefaultAddr. With several, connections go to the first that answers.
	Addr []string `yaml:"addr"`
	// Database holds the tables, default DefaultDatabase. EnsureTables
	// creates it. It must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*).
	Database string `yaml:"database"`
	// Username, default DefaultUsername.
	Username string `yaml:"username"`
	// Password of Username, from a file or an environment variable
	// (password: {file: PATH} or {env: VAR}); read by New, never logged.
	// A file is read again before every new connection, so a password
	// rotated by rewriting it needs no restart; a variable is fixed.
	Password secret.Source `yaml:"password"`
	// PasswordFile is the deprecated spelling of password: {file: PATH};
	// it is still read, and Deprecated names it.
	PasswordFile string `yaml:"password_file"`
	// TLS configures TLS to the server; off by default. The server's secure
	// native port is usually 9440. Go's crypto/tls defaults apply (TLS 1.3
	// preferred, hybrid post-quantum key exchange offered first).
	TLS tlsfiles.Config `yaml:"tls"`
	// DialTimeout bounds connecting and the handshake, default
	// DefaultDialTimeout.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ReadTimeout bounds each wait for the server while a query runs,
	// default DefaultReadTimeout: a read, and a write that makes no
	// progress (a server that stops reading mid-INSERT fails the insert,
	// retryably, about ReadTimeout after the last byte it took,
	// where the driver alone would wait for ever between blocks).
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

// WithDefaults returns c with every zero field set to its default, and the
// deprecated password_file folded into Password.
func (c Config) WithDefaults() Config {
	if c.PasswordFile != "" && c.Password.IsZero() {
		c.Password.File, c.PasswordFile = c.PasswordFile, ""
	}
	if len(c.Addr) == 0 {
		c.Addr = []string{DefaultAddr}
	}
	cfgcheck.Default(&c.Database, DefaultDatabase)
	cfgcheck.Default(&c.Username, DefaultUsername)
	cfgcheck.Default(&c.DialTimeout, DefaultDialTimeout)
	cfgcheck.Default(&c.ReadTimeout, DefaultReadTimeout)
	cfgcheck.Default(&c.BatchRows, DefaultBatchRows)
	cfgcheck.Default(&c.Compression, DefaultCompression)
	cfgcheck.Default(&c.MaxOpenConns, DefaultMaxOpenConn)
	cfgcheck.Default(&c.Layout, "auto")
	return c
}

// Validate reports the first field that is not valid, naming it. Zero
// fields are valid (they take their defaults). Validate does no I/O: files
// are read by New.
func (c Config) Validate() error {
	for i, a := range c.Addr {
		if err := hostport.Check(a, "username and password"); err != nil {
			return fmt.Errorf("addr[%d]: %w", i, err)
		}
	}
	if c.Database != "" && schemas.QuoteIdent(c.Database) != c.Database {
		return fmt.Errorf("database: %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", c.Database)
	}
	if c.Cluster != "" && schemas.QuoteIdent(c.Cluster) != c.Cluster {
		return fmt.Errorf("cluster: %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", c.Cluster)
	}
	if c.PasswordFile != "" && !c.Password.IsZero() {
		return errors.New("password_file: set with password; keep only password: {file: PATH}")
	}
	if c.Password.File != "" && c.Password.Env != "" {
		return errors.New("password: set either file or env, not both")
	}
	if err := cfgcheck.First(
		cfgcheck.NonNegative("dial_timeout", c.DialTimeout),
		cfgcheck.NonNegative("read_timeout", c.ReadTimeout),
		cfgcheck.NonNegative("batch_rows", c.BatchRows),
		cfgcheck.NonNegative("max_open_conns", c.MaxOpenConns),
	); err != nil {
		return err
	}
	switch c.Compression {
	case "", "lz4", "zstd", "none":
	default:
		return fmt.Errorf("compression: %q is not lz4, zstd or none", c.Compression)
	}
	if _, err := schemas.ParseLayout(c.Layout); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if c.TTLDays < -1 {
		return fmt.Errorf("ttl_days: %d is not a number of days, 0 for the default or -1 for none", c.TTLDays)
	}
	if c.DetectionsTTLDays < 0 {
		return fmt.Errorf("detections_ttl_days: %d is not a number of days or 0 for none", c.DetectionsTTLDays)
	}
	return nil
}

// Deprecated returns one "field: how to migrate" line per deprecated
// spelling c was read with (before WithDefaults), for the caller to log.
func (c Config) Deprecated() []string {
	var out []string
	if c.PasswordFile != "" {
		out = append(out, "password_file: deprecated spelling, write password: {file: "+c.PasswordFile+"}")
	}
	for _, d := range c.TLS.Deprecated() {
		out = append(out, "tls."+d)
	}
	return out
}

// LogValue implements slog.LogValuer: the config without secrets (the
// password's source only).
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("addr", c.Addr),
		slog.String("database", c.Database),
		slog.String("username", c.Username),
		slog.Bool("password_set", !c.Password.IsZero() || c.PasswordFile != ""),
		slog.Bool("tls", c.TLS.Enabled || c.TLS.Enable),
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

var _ slog.LogValuer = Config{}
