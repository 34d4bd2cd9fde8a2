package schemas

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ClickHouseSchemaVersion is the version of the ClickHouse table layout this
// build creates and writes. It is recorded per table in the schema_version
// table, so a build that meets tables of a later layout can refuse to write
// to them instead of guessing.
const ClickHouseSchemaVersion = 1

// DefaultTTLDays is the retention of the samples table on servers that
// support TTL, when DDLOptions.TTLDays is zero.
const DefaultTTLDays = 30

// ClickHouse table names.
const (
	TableSamples       = "samples"
	TableDetections    = "detections"
	TableSchemaVersion = "schema_version"
)

// ServerVersion is a ClickHouse server version, e.g. 24.8.2 for "24.8.2.3".
// It mirrors the driver's version type so this package need not import it.
type ServerVersion struct {
	Major, Minor, Patch int
}

// ParseServerVersion parses a ClickHouse version string such as "18.16.1",
// "24.8.2.3" or "v24.8.2.3-lts". Components after the third and any suffix
// after the numbers are ignored; the patch may be missing.
func ParseServerVersion(s string) (ServerVersion, error) {
	in := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(parts) < 2 {
		return ServerVersion{}, fmt.Errorf("cannot parse clickhouse server version %q: want MAJOR.MINOR[.PATCH[.BUILD]]", in)
	}
	var n [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		v, err := strconv.Atoi(parts[i])
		if err != nil || v < 0 {
			return ServerVersion{}, fmt.Errorf("cannot parse clickhouse server version %q: want MAJOR.MINOR[.PATCH[.BUILD]]", in)
		}
		n[i] = v
	}
	return ServerVersion{Major: n[0], Minor: n[1], Patch: n[2]}, nil
}

// String formats v as MAJOR.MINOR.PATCH.
func (v ServerVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is o or later.
func (v ServerVersion) AtLeast(o ServerVersion) bool {
	if v.Major != o.Major {
		return v.Major > o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor > o.Minor
	}
	return v.Patch >= o.Patch
}

// ModernLayoutFloor returns the oldest server version that gets the modern
// layout: 21.8, the first long-term-support release at which everything the modern
// layout uses was generally available and past its early bug fixes —
// DateTime64 (new in 20.1), the DoubleDelta/Gorilla/T64 codecs (19.x),
// LowCardinality without an experimental setting (19.x), TTL and
// ttl_only_drop_parts (19.x–20.x). Older servers, down to 18.16, get the
// legacy layout, which uses none of these.
func ModernLayoutFloor() ServerVersion { return ServerVersion{Major: 21, Minor: 8} }

// Layout selects one of the two table layouts.
type Layout int

// The layouts. The zero Layout is LayoutAuto.
const (
	// LayoutAuto picks LayoutModern for servers at or above
	// ModernLayoutFloor() and LayoutLegacy below it.
	LayoutAuto Layout = iota
	// LayoutModern uses DateTime64(9, 'UTC'), LowCardinality(String),
	// column codecs and TTL.
	LayoutModern
	// LayoutLegacy works on ClickHouse 18.16: DateTime('UTC') seconds plus a
	// UInt32 nanosecond fraction, plain String, no codecs, no TTL.
	LayoutLegacy
)

// String returns "auto", "modern" or "legacy".
func (l Layout) String() string {
	switch l {
	case LayoutAuto:
		return "auto"
	case LayoutModern:
		return "modern"
	case LayoutLegacy:
		return "legacy"
	}
	return fmt.Sprintf("layout(%d)", int(l))
}

// ParseLayout parses a layout name as returned by Layout.String. The empty
// string is LayoutAuto.
func ParseLayout(s string) (Layout, error) {
	switch s {
	case "", "auto":
		return LayoutAuto, nil
	case "modern":
		return LayoutModern, nil
	case "legacy":
		return LayoutLegacy, nil
	}
	return 0, fmt.Errorf("unknown clickhouse layout %q (want auto, modern or legacy)", s)
}

// ChooseLayout returns the layout for a server of version v: LayoutModern at
// or above ModernLayoutFloor(), LayoutLegacy below.
func ChooseLayout(v ServerVersion) Layout {
	if v.AtLeast(ModernLayoutFloor()) {
		return LayoutModern
	}
	return LayoutLegacy
}

// DDLOptions tunes the generated DDL. The zero value is the default.
type DDLOptions struct {
	// Layout forces a layout; LayoutAuto (the default) chooses by server
	// version with ChooseLayout.
	Layout Layout
	// TTLDays is how long samples are kept on the modern layout. Zero means
	// DefaultTTLDays (30); a negative value keeps samples forever. The legacy
	// layout has no TTL: drop old daily partitions instead.
	TTLDays int
	// DetectionsTTLDays is how long detections are kept on the modern
	// layout. Zero (the default) keeps them forever.
	DetectionsTTLDays int
}

// column is one column of a table in both layouts.
type column struct {
	name           string
	modern, legacy string // type and codec; legacy "" means "same as modern"; "-" means absent
	comment        string
}

// The samples table. In the legacy layout ts is whole seconds and ts_frac
// the nanoseconds within that second, so no precision is lost.
var samplesColumns = []column{
	{"ts", "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))", "DateTime('UTC')", "device time of the value, UTC"},
	{"ts_frac", "-", "UInt32", "nanoseconds within the second of ts (0-999999999); Unix ns = toUInt64(toUInt32(ts)) * 1000000000 + ts_frac"},
	{"device", "LowCardinality(String)", "String", "the target's configured name"},
	{"metric", "LowCardinality(String)", "String", "OpenConfig-style path without list keys"},
	{"keys", "LowCardinality(String)", "String", "list keys in canonical form, e.g. name=Ethernet1; empty when none"},
	{"kind", "UInt8", "", "1 counter (value_u64), 2 gauge (value_f64), 3 state (value_str)"},
	{"value_u64", "Nullable(UInt64) CODEC(T64, ZSTD(1))", "Nullable(UInt64)", "counter value at full 64-bit precision"},
	{"value_f64", "Nullable(Float64) CODEC(Gorilla, ZSTD(1))", "Nullable(Float64)", "gauge value"},
	{"value_str", "Nullable(String) CODEC(ZSTD(1))", "Nullable(String)", "state value"},
	{"source", "LowCardinality(String)", "String", "gnmi, snmp or sim"},
}

// The detections table: schemas.Detection flattened. In the legacy layout
// every timestamp has a *_frac sibling with its nanoseconds.
var detectionsColumns = []column{
	{"id", "String", "", "event id, unique per event and stable across re-delivery"},
	{"version", "UInt8", "", "detection contract version"},
	{"event_time", "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))", "DateTime('UTC')", "device time of the sample that caused the transition"},
	{"event_time_frac", "-", "UInt32", "nanoseconds within the second of event_time"},
	{"detected_at", "DateTime64(9, 'UTC') CODEC(ZSTD(1))", "DateTime('UTC')", "wall time the detector emitted the event"},
	{"detected_at_frac", "-", "UInt32", "nanoseconds within the second of detected_at"},
	{"state", "LowCardinality(String)", "String", "firing or resolved"},
	{"device", "LowCardinality(String)", "String", ""},
	{"metric", "LowCardinality(String)", "String", ""},
	{"keys", "LowCardinality(String)", "String", ""},
	{"detector", "LowCardinality(String)", "String", "the detector that decided the transition"},
	{"detectors", "Array(LowCardinality(String))", "Array(String)", "every detector that fired for this event"},
	{"score", "Float64", "", "calibrated anomaly score in [0,1]"},
	{"severity", "LowCardinality(String)", "String", "info, warning or critical"},
	{"observed", "Float64", "", "the value the detector saw (a rate for counters)"},
	{"expected", "Float64", "", "the value it expected"},
	{"band_lower", "Float64", "", "lower bound of the expected band"},
	{"band_upper", "Float64", "", "upper bound of the expected band"},
	{"starts_at", "DateTime64(9, 'UTC')", "DateTime('UTC')", "when the alert started firing"},
	{"starts_at_frac", "-", "UInt32", "nanoseconds within the second of starts_at"},
	{"ends_at", "Nullable(DateTime64(9, 'UTC'))", "Nullable(DateTime('UTC'))", "when the alert resolved; NULL while firing"},
	{"ends_at_frac", "-", "Nullable(UInt32)", "nanoseconds within the second of ends_at"},
	{"fingerprint", "String", "", "Alertmanager-style hash of the sorted labels"},
	{"labels", "String CODEC(ZSTD(1))", "String", "alert labels as a JSON object"},
	{"annotations", "String CODEC(ZSTD(1))", "String", "alert annotations as a JSON object"},
}

var schemaVersionColumns = []column{
	{"table_name", "String", "", ""},
	{"version", "UInt32", "", "ClickHouse layout version of the table"},
	{"layout", "String", "", "modern or legacy"},
	{"applied_at", "DateTime('UTC')", "", ""},
}

// ClickHouseColumns returns the column names of table ("samples",
// "detections" or "schema_version") in layout l, in the order of the
// CREATE TABLE statement, which is the order inserts use. l must be
// LayoutModern or LayoutLegacy. It returns nil for an unknown table.
func ClickHouseColumns(table string, l Layout) []string {
	cols := tableColumns(table)
	if cols == nil {
		return nil
	}
	var names []string
	for _, c := range cols {
		if c.typ(l) != "" {
			names = append(names, c.name)
		}
	}
	return names
}

func tableColumns(table string) []column {
	switch table {
	case TableSamples:
		return samplesColumns
	case TableDetections:
		return detectionsColumns
	case TableSchemaVersion:
		return schemaVersionColumns
	}
	return nil
}

// typ returns the column's type (and codec) in layout l, or "" if the column
// does not exist there.
func (c column) typ(l Layout) string {
	t := c.modern
	if l == LayoutLegacy && c.legacy != "" {
		t = c.legacy
	}
	if t == "-" {
		return ""
	}
	return t
}

// ClickHouseDDL returns the statements that create database db and the
// samples, detections and schema_version tables in it, for a server of
// version v. Every statement is idempotent (IF NOT EXISTS); apply them in
// order. The layout is opts.Layout, or chosen by ChooseLayout(v).
//
// Both layouts use ReplacingMergeTree with the sort key as the deduplication
// key, so rows written twice by a re-delivered batch collapse on merge and
// reads with FINAL are exact; both partition by day, so retention is a matter
// of dropping whole partitions.
//
// db is quoted with backticks when it is not a plain identifier.
func ClickHouseDDL(db string, v ServerVersion, opts DDLOptions) []string {
	l := opts.Layout
	if l == LayoutAuto {
		l = ChooseLayout(v)
	}
	qdb := QuoteIdent(db)
	header := fmt.Sprintf("-- telekernel clickhouse layout v%d (%s), samples contract v%d, detection contract v%d\n",
		ClickHouseSchemaVersion, l, SamplesVersion, DetectionVersion)

	stmts := []string{fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s", qdb)}

	var b strings.Builder
	// samples
	b.WriteString(header)
	writeCreate(&b, qdb, TableSamples, samplesColumns, l)
	b.WriteString("ENGINE = ReplacingMergeTree\nPARTITION BY toDate(ts)\n")
	if l == LayoutModern {
		b.WriteString("ORDER BY (metric, device, keys, ts, source)\n")
		ttl := opts.TTLDays
		if ttl == 0 {
			ttl = DefaultTTLDays
		}
		if ttl > 0 {
			fmt.Fprintf(&b, "TTL toDateTime(ts) + INTERVAL %d DAY\n", ttl)
		}
		b.WriteString("SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1")
	} else {
		b.WriteString("ORDER BY (metric, device, keys, ts, ts_frac, source)\n")
		b.WriteString("SETTINGS index_granularity = 8192")
	}
	stmts = append(stmts, b.String())

	// detections
	b.Reset()
	b.WriteString(header)
	writeCreate(&b, qdb, TableDetections, detectionsColumns, l)
	b.WriteString("ENGINE = ReplacingMergeTree\nPARTITION BY toDate(event_time)\n")
	if l == LayoutModern {
		b.WriteString("ORDER BY (device, metric, keys, event_time, id)\n")
		if opts.DetectionsTTLDays > 0 {
			fmt.Fprintf(&b, "TTL toDateTime(event_time) + INTERVAL %d DAY\n", opts.DetectionsTTLDays)
		}
		b.WriteString("SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1")
	} else {
		b.WriteString("ORDER BY (device, metric, keys, event_time, event_time_frac, id)\n")
		b.WriteString("SETTINGS index_granularity = 8192")
	}
	stmts = append(stmts, b.String())

	// schema_version
	b.Reset()
	b.WriteString(header)
	writeCreate(&b, qdb, TableSchemaVersion, schemaVersionColumns, l)
	b.WriteString("ENGINE = ReplacingMergeTree\nORDER BY (table_name, version)\nSETTINGS index_granularity = 8192")
	stmts = append(stmts, b.String())
	return stmts
}

func writeCreate(b *strings.Builder, qdb, table string, cols []column, l Layout) {
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s.%s\n(\n", qdb, QuoteIdent(table))
	var lines []string
	for _, c := range cols {
		t := c.typ(l)
		if t == "" {
			continue
		}
		// The column grammar is: name type [COMMENT '...'] [CODEC(...)].
		typ, codec, _ := strings.Cut(t, " CODEC(")
		line := fmt.Sprintf("    %s %s", QuoteIdent(c.name), typ)
		if c.comment != "" {
			line += " COMMENT " + quoteString(c.comment)
		}
		if codec != "" {
			line += " CODEC(" + codec
		}
		lines = append(lines, line)
	}
	b.WriteString(strings.Join(lines, ",\n"))
	b.WriteString("\n)\n")
}

var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// QuoteIdent returns s as a ClickHouse identifier: unchanged when it is a
// plain identifier, otherwise in backticks with backticks and backslashes
// escaped.
func QuoteIdent(s string) string {
	if plainIdent.MatchString(s) {
		return s
	}
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`")
	return "`" + r.Replace(s) + "`"
}

func quoteString(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "'", "\\'")
	return "'" + r.Replace(s) + "'"
}
