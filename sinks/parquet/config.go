package parquet

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config fields left at their zero value.
const (
	// DefaultTable is the table folder under Config.Root.
	DefaultTable = "samples"
	// DefaultTimestampUnit is the unit of the ts column: microseconds, which
	// every Parquet reader understands (Spark and older readers cannot read
	// TIMESTAMP(NANOS)).
	DefaultTimestampUnit = TimestampMicros
	// DefaultRowGroupRows is the most rows per row group: 128 Ki rows. A row
	// group is the unit that readers skip by its statistics and the unit the
	// encoder holds in memory before writing. At about 4-8 bytes per row per
	// column after encoding and zstd, 128 Ki rows make column chunks of a few
	// hundred KiB and row groups of 1-2 MiB: big enough for efficient
	// sequential reads, small enough that a flush of a busy partition (often
	// 100 k - 1 M rows) still has several row groups whose (device, metric)
	// ranges do not overlap, so a query for one device reads a fraction of
	// the file; and it bounds the encoder's memory to a few MiB.
	DefaultRowGroupRows = 128 << 10
	// DefaultCompression is the page compression codec.
	DefaultCompression = "zstd"
)

// Values of Config.TimestampUnit.
const (
	// TimestampMicros writes ts as TIMESTAMP(MICROS, isAdjustedToUTC=true).
	TimestampMicros = "us"
	// TimestampNanos writes ts as TIMESTAMP(NANOS, isAdjustedToUTC=true),
	// keeping full precision; Spark and older readers cannot read it.
	TimestampNanos = "ns"
)

// maxRowGroupRows bounds Config.RowGroupRows: a larger row group makes the
// encoder hold hundreds of MiB per file.
const maxRowGroupRows = 64 << 20

// ErrInvalidConfig is wrapped by every error that Config.Validate returns.
var ErrInvalidConfig = errors.New("invalid parquet sink config")

// configError is a "field: problem" error that wraps ErrInvalidConfig.
type configError struct{ msg string }

func (e configError) Error() string { return e.msg }
func (e configError) Unwrap() error { return ErrInvalidConfig }

// invalid returns a configError formatted as fmt.Sprintf does.
func invalid(format string, args ...any) error { return configError{fmt.Sprintf(format, args...)} }

// Config configures a Writer. Zero values mean the documented default.
type Config struct {
	// Root is the lake folder; files go to Root/Table/dt=…/hour=…/.
	// Required.
	Root string `yaml:"root"`
	// Table is the table's folder name under Root, one path element.
	// Default DefaultTable ("samples").
	Table string `yaml:"table"`
	// TimestampUnit is the unit of the ts column: "us" (default) or "ns".
	TimestampUnit string `yaml:"timestamp_unit"`
	// RowGroupRows is the most rows in one row group. Default
	// DefaultRowGroupRows (131072).
	RowGroupRows int `yaml:"row_group_rows"`
	// Compression is the page codec: "zstd" (default), "snappy", "gzip",
	// "lz4" (LZ4_RAW) or "none".
	Compression string `yaml:"compression"`
}

// Validate reports the first invalid field of c as "field: problem", the
// field named by its YAML key. Zero values are valid (they mean the
// default) except Root, which is required. Errors wrap ErrInvalidConfig.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Root) == "" {
		return invalid("root: required (the folder that holds the lake)")
	}
	if c.Table != "" {
		if c.Table == "." || c.Table == ".." || strings.ContainsAny(c.Table, `/\`) ||
			strings.HasPrefix(c.Table, ".") || strings.HasPrefix(c.Table, "_") {
			return invalid("table: %q must be one folder name not starting with '.' or '_'", c.Table)
		}
	}
	switch c.TimestampUnit {
	case "", TimestampMicros, TimestampNanos:
	default:
		return invalid("timestamp_unit: %q is not %s or %s", c.TimestampUnit, TimestampMicros, TimestampNanos)
	}
	if c.RowGroupRows < 0 || c.RowGroupRows > maxRowGroupRows {
		return invalid("row_group_rows: %d is not between 1 and %d (0 means %d)", c.RowGroupRows, maxRowGroupRows, DefaultRowGroupRows)
	}
	if _, err := codec(c.Compression); err != nil {
		return invalid("compression: %v", err)
	}
	return nil
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Table, DefaultTable)
	cfgcheck.Default(&c.TimestampUnit, DefaultTimestampUnit)
	cfgcheck.Default(&c.RowGroupRows, DefaultRowGroupRows)
	cfgcheck.Default(&c.Compression, DefaultCompression)
	return c
}

func codec(name string) (compress.Codec, error) {
	switch name {
	case "", "zstd":
		return &pq.Zstd, nil
	case "snappy":
		return &pq.Snappy, nil
	case "gzip":
		return &pq.Gzip, nil
	case "lz4":
		return &pq.Lz4Raw, nil
	case "none":
		return &pq.Uncompressed, nil
	}
	return nil, fmt.Errorf("%q is not one of zstd, snappy, gzip, lz4, none", name)
}

// Option configures a Writer beyond its Config.
type Option func(*options)

type options struct {
	logger *slog.Logger
}

// WithLogger sets the logger; the Writer logs through a child with
// component=sinks/parquet. By default it logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
