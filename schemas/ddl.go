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
	// TablePower holds the power contract's rows (tk.power).
	TablePower = "power"
	// TableMaintenance holds maintenance events (tk.maintenance), flattened.
	TableMaintenance = "maintenance"
	// TableSamples1m and TableSamples1h are the per-minute and per-hour
	// rollups of samples, maintained by materialized views on inserts into
	// TableSamples (ViewSamples1m, ViewSamples1h).
	TableSamples1m = "samples_1m"
	TableSamples1h = "samples_1h"
	ViewSamples1m  = "samples_1m_mv"
	ViewSamples1h  = "samples_1h_mv"
)

// DefaultMinuteRollupTTLDays is how long the per-minute rollup is kept on
// servers with TTL when DDLOptions.MinuteRollupTTLDays is zero. The hourly
// rollup is kept forever by default.
const DefaultMinuteRollupTTLDays = 90

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
	// MinuteRollupTTLDays is how long the per-minute rollup is kept on the
	// modern layout. Zero means DefaultMinuteRollupTTLDays (90); negative
	// keeps it forever.
	MinuteRollupTTLDays int
	// HourRollupTTLDays is how long the hourly rollup is kept on the
	// modern layout. Zero (the default) keeps it forever.
	HourRollupTTLDays int
	// Cluster, when set, selects the cluster form (see ClickHouseDDL):
	// every statement runs ON CLUSTER Cluster (a name from the servers'
	// remote_servers), the tables are Replicated and per node, named with
	// LocalTableSuffix, and Distributed tables with the plain names sit
	// over them. Empty (the default) is a single server.
	Cluster string
	// ReplicaPath is the ZooKeeper path prefix of the replicated tables in
	// the cluster form; "/<database>/<table>" is appended. Macros such as
	// {shard} are expanded by each server. Default
	// "/clickhouse/tables/<Cluster>/{shard}".
	ReplicaPath string
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

// The power table: the power contract (PowerSchema) as rows, one per
// device, chassis, port and saving per window. In the legacy layout the
// window bounds have *_frac siblings.
var powerColumns = []column{
	{"window_start", "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))", "DateTime('UTC')", "start of the window, device time, UTC"},
	{"window_start_frac", "-", "UInt32", "nanoseconds within the second of window_start"},
	{"window_end", "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))", "DateTime('UTC')", "end of the window (exclusive)"},
	{"window_end_frac", "-", "UInt32", "nanoseconds within the second of window_end"},
	{"device", "LowCardinality(String)", "String", ""},
	{"model", "LowCardinality(String)", "String", "device model whose coefficients were used"},
	{"row", "LowCardinality(String)", "String", "device, chassis, port or saving"},
	{"component", "LowCardinality(String)", "String", "port list keys (port and saving rows); empty otherwise"},
	{"measured_w", "Nullable(Float64) CODEC(Gorilla, ZSTD(1))", "Nullable(Float64)", "mean measured PSU input power, W (device rows); NULL when not reported"},
	{"modelled_w", "Float64 CODEC(Gorilla, ZSTD(1))", "Float64", "W: model total, base, port attribution or power saved"},
	{"energy_wh", "Float64 CODEC(Gorilla, ZSTD(1))", "Float64", "energy over the window, Wh"},
	{"utilisation", "Nullable(Float64) CODEC(Gorilla, ZSTD(1))", "Nullable(Float64)", "port rows: mean (in+out)/(2 speed) in [0,1]"},
	{"speed_bps", "Nullable(UInt64)", "", "port speed, bit/s"},
	{"reason", "LowCardinality(Nullable(String))", "Nullable(String)", "saving rows: why"},
	{"residual_z", "Nullable(Float64)", "", "device rows: robust z of the window's mean residual"},
	{"samples", "UInt32", "", "device rows: measurements in the window"},
	{"fit_points", "UInt64", "", "measurements the model of this device model was fitted on"},
	{"detail", "Nullable(String) CODEC(ZSTD(1))", "Nullable(String)", "saving rows: a sentence for people"},
}

// The maintenance table: schemas.MaintenanceEvent flattened. In the legacy
// layout event_time, detected_at, opened_at and closed_at have *_frac
// siblings; predicted times are estimates and are kept to the second there.
var maintenanceColumns = []column{
	{"id", "String", "", "event id, unique per event and stable across re-delivery"},
	{"version", "UInt8", "", "maintenance contract version"},
	{"key", "String", "", "16 hex digits identifying (device, component, signal)"},
	{"state", "LowCardinality(String)", "String", "open, update or closed"},
	{"event_time", "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))", "DateTime('UTC')", "device time of the sample that caused the event"},
	{"event_time_frac", "-", "UInt32", "nanoseconds within the second of event_time"},
	{"detected_at", "DateTime64(9, 'UTC') CODEC(ZSTD(1))", "DateTime('UTC')", "wall time the stage emitted the event"},
	{"detected_at_frac", "-", "UInt32", "nanoseconds within the second of detected_at"},
	{"opened_at", "DateTime64(9, 'UTC')", "DateTime('UTC')", "device time the event opened"},
	{"opened_at_frac", "-", "UInt32", "nanoseconds within the second of opened_at"},
	{"closed_at", "Nullable(DateTime64(9, 'UTC'))", "Nullable(DateTime('UTC'))", "device time it closed; NULL unless closed"},
	{"closed_at_frac", "-", "Nullable(UInt32)", "nanoseconds within the second of closed_at"},
	{"close_reason", "LowCardinality(String)", "String", "recovered, failed or stale when closed; empty otherwise"},
	{"device", "LowCardinality(String)", "String", ""},
	{"component", "LowCardinality(String)", "String", "list keys of the component"},
	{"metric", "LowCardinality(String)", "String", "the series' metric path"},
	{"signal", "LowCardinality(String)", "String", "optic_rx_power, laser_bias, temperature, fan_speed, psu_efficiency, ..."},
	{"unit", "LowCardinality(String)", "String", "unit of value and threshold"},
	{"value", "Float64", "", "robust level estimate at event_time"},
	{"slope_per_hour", "Float64", "", "robust slope, unit per hour"},
	{"threshold", "Float64", "", "failure threshold"},
	{"threshold_source", "LowCardinality(String)", "String", "device or configured"},
	{"direction", "LowCardinality(String)", "String", "falling or rising"},
	{"predicted_failure", "DateTime64(9, 'UTC')", "DateTime('UTC')", "when the level is predicted to reach the threshold"},
	{"interval_earliest", "DateTime64(9, 'UTC')", "DateTime('UTC')", "earliest predicted failure time"},
	{"interval_latest", "Nullable(DateTime64(9, 'UTC'))", "Nullable(DateTime('UTC'))", "latest predicted failure time; NULL when unbounded"},
	{"confidence", "Float64", "", "in [0,1]"},
	{"lead_time_seconds", "Float64", "", "predicted_failure - event_time, seconds"},
	{"severity", "LowCardinality(String)", "String", "info, warning or critical"},
	{"summary", "String CODEC(ZSTD(1))", "String", "a sentence for people"},
}

var schemaVersionColumns = []column{
	{"table_name", "String", "", ""},
	{"version", "UInt32", "", "ClickHouse layout version of the table"},
	{"layout", "String", "", "modern or legacy"},
	{"applied_at", "DateTime('UTC')", "", ""},
}

// ClickHouseColumns returns the column names of table (one of the Table
// constants) in layout l, in the order of the
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
	case TablePower:
		return powerColumns
	case TableMaintenance:
		return maintenanceColumns
	case TableIncidents:
		return incidentsColumns
	case TableIncidentMembers:
		return incidentMembersColumns
	case TableInventory:
		return inventoryColumns
	case TableInventoryLinks:
		return inventoryLinksColumns
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
// samples, detections, schema_version, power and maintenance tables, the
// rollups, and the incident and inventory tables (see incidentDDL) in it,
// for a server of version v. Every statement is idempotent (IF NOT EXISTS); apply them in
// order. The layout is opts.Layout, or chosen by ChooseLayout(v).
//
// Both layouts use ReplacingMergeTree with the sort key as the deduplication
// key, so rows written twice by a re-delivered batch collapse on merge and
// reads with FINAL are exact; both partition by day, so retention is a matter
// of dropping whole partitions.
//
// With opts.Cluster set the statements make the cluster form instead: each
// runs ON CLUSTER, the data and rollup tables are created per node as
// Replicated*MergeTree tables named with LocalTableSuffix (samples_local,
// ...), the rollup views read samples_local and write the local rollups,
// and Distributed tables with the plain names (samples, detections, power,
// maintenance, samples_1m, samples_1h) sit over them, sharded by
// cityHash64(device) so a series, and so its FINAL deduplication, stays on
// one shard. Queries and inserts use the plain names unchanged.
// schema_version is one Replicated table with a copy on every node. The
// legacy cluster form has no column comments: 18.16's replicated tables
// refuse them.
//
// db is quoted with backticks when it is not a plain identifier.
func ClickHouseDDL(db string, v ServerVersion, opts DDLOptions) []string {
	l := opts.Layout
	if l == LayoutAuto {
		l = ChooseLayout(v)
	}
	t := newDDLTarget(db, l, opts)
	header := fmt.Sprintf("-- telekernel clickhouse layout v%d (%s), samples contract v%d, detection contract v%d\n",
		ClickHouseSchemaVersion, l, SamplesVersion, DetectionVersion)

	stmts := []string{fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s%s", t.qdb, t.onCluster())}

	var b strings.Builder
	// samples
	b.WriteString(header)
	writeCreate(&b, t, t.local(TableSamples), samplesColumns, l)
	b.WriteString("ENGINE = " + t.engine("ReplacingMergeTree", TableSamples) + "\nPARTITION BY toDate(ts)\n")
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
	writeCreate(&b, t, t.local(TableDetections), detectionsColumns, l)
	b.WriteString("ENGINE = " + t.engine("ReplacingMergeTree", TableDetections) + "\nPARTITION BY toDate(event_time)\n")
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
	writeCreate(&b, t, QuoteIdent(TableSchemaVersion), schemaVersionColumns, l)
	b.WriteString("ENGINE = " + t.everyNodeEngine("ReplacingMergeTree", TableSchemaVersion) + "\nORDER BY (table_name, version)\nSETTINGS index_granularity = 8192")
	stmts = append(stmts, b.String())

	// power: queries select a row kind, then a device (energy per device
	// per day), then a component, over a time range.
	b.Reset()
	b.WriteString(header)
	writeCreate(&b, t, t.local(TablePower), powerColumns, l)
	b.WriteString("ENGINE = " + t.engine("ReplacingMergeTree", TablePower) + "\nPARTITION BY toDate(window_start)\n")
	if l == LayoutModern {
		b.WriteString("ORDER BY (row, device, component, window_start)\nSETTINGS index_granularity = 8192")
	} else {
		b.WriteString("ORDER BY (row, device, component, window_start, window_start_frac)\nSETTINGS index_granularity = 8192")
	}
	stmts = append(stmts, b.String())

	// maintenance: one component's signal's events are contiguous.
	b.Reset()
	b.WriteString(header)
	writeCreate(&b, t, t.local(TableMaintenance), maintenanceColumns, l)
	b.WriteString("ENGINE = " + t.engine("ReplacingMergeTree", TableMaintenance) + "\nPARTITION BY toDate(event_time)\n")
	if l == LayoutModern {
		b.WriteString("ORDER BY (device, component, signal, event_time, id)\nSETTINGS index_granularity = 8192")
	} else {
		b.WriteString("ORDER BY (device, component, signal, event_time, event_time_frac, id)\nSETTINGS index_granularity = 8192")
	}
	stmts = append(stmts, b.String())

	minuteTTL := opts.MinuteRollupTTLDays
	if minuteTTL == 0 {
		minuteTTL = DefaultMinuteRollupTTLDays
	}
	stmts = append(stmts,
		rollupTable(header, t, TableSamples1m, l, minuteTTL),
		rollupView(header, t, ViewSamples1m, TableSamples1m, "toStartOfMinute", l),
		rollupTable(header, t, TableSamples1h, l, opts.HourRollupTTLDays),
		rollupView(header, t, ViewSamples1h, TableSamples1h, "toStartOfHour", l),
	)
	stmts = append(stmts, incidentDDL(header, t, l)...)
	return append(stmts, t.distributedTables(header)...)
}

// RollupQuantiles are the levels of the q_f64 column of the rollups, in
// order: quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(q_f64)[3] is the p95.
const RollupQuantiles = "0.5, 0.9, 0.95, 0.99"

// rollupTable returns the CREATE TABLE of a samples rollup: one row per
// series and bucket, holding aggregate states that the view fills on every
// insert into samples and that merge with the -Merge combinators. The
// columns are the same on both layouts, so queries work on both; the
// legacy layout (18.16) has no LowCardinality, no TTL, and its states of
// Nullable arguments drop the Nullable.
//
// Under re-delivery (a batch inserted twice), samples (distinct
// timestamps), min_f64, max_f64, first/last timestamps and counter values,
// and so rates, stay exact; avg_f64 and q_f64 count the twice-inserted
// rows twice. See docs/analysts.md for rebuilding a day exactly.
func rollupTable(header string, t ddlTarget, table string, l Layout, ttlDays int) string {
	str, f64 := "LowCardinality(String)", "Nullable(Float64)"
	if l == LayoutLegacy {
		str, f64 = "String", "Float64"
	}
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s%s\n(\n", t.qdb, t.local(table), t.onCluster())
	cols := [][2]string{
		{"bucket", "DateTime('UTC') COMMENT 'start of the bucket, UTC'"},
		{"metric", str},
		{"device", str},
		{"keys", str},
		{"kind", "UInt8 COMMENT '1 counter, 2 gauge, 3 state'"},
		{"samples", "AggregateFunction(uniqExact, UInt64) COMMENT 'distinct sample timestamps (uniqExactMerge): exact under re-delivery'"},
		{"min_f64", "AggregateFunction(min, " + f64 + ") COMMENT 'gauges: minMerge'"},
		{"max_f64", "AggregateFunction(max, " + f64 + ") COMMENT 'gauges: maxMerge'"},
		{"avg_f64", "AggregateFunction(avg, " + f64 + ") COMMENT 'gauges: avgMerge'"},
		{"q_f64", "AggregateFunction(quantilesTDigest(" + RollupQuantiles + "), " + f64 + ") COMMENT 'gauges: quantilesTDigestMerge(" + RollupQuantiles + ")'"},
		{"first_ts", "AggregateFunction(min, UInt64) COMMENT 'Unix ns of the first sample (minMerge)'"},
		{"last_ts", "AggregateFunction(max, UInt64) COMMENT 'Unix ns of the last sample (maxMerge)'"},
		{"first_u64", "AggregateFunction(argMin, UInt64, UInt64) COMMENT 'counters: first value (argMinMerge)'"},
		{"last_u64", "AggregateFunction(argMax, UInt64, UInt64) COMMENT 'counters: last value (argMaxMerge)'"},
	}
	for i, c := range cols {
		sep := ",\n"
		if i == len(cols)-1 {
			sep = "\n"
		}
		fmt.Fprintf(&b, "    %s %s%s", c[0], t.columnType(c[1]), sep)
	}
	b.WriteString(")\nENGINE = " + t.engine("AggregatingMergeTree", table) + "\nPARTITION BY toYYYYMM(bucket)\nORDER BY (metric, device, keys, kind, bucket)\n")
	if l == LayoutModern && ttlDays > 0 {
		fmt.Fprintf(&b, "TTL bucket + INTERVAL %d DAY\nSETTINGS index_granularity = 8192, ttl_only_drop_parts = 1", ttlDays)
	} else {
		b.WriteString("SETTINGS index_granularity = 8192")
	}
	return b.String()
}

// RollupFiniteF64 is the gauge value the rollup views aggregate: value_f64
// when it is finite, else NULL, which the aggregate functions skip. A NaN
// or infinite reading would otherwise make its bucket's avg and quantiles
// NaN (and min or max infinite); samples keeps it as it came, and the
// rollups' samples column still counts it. The state types are those of a
// Nullable(Float64) argument, as for value_f64 itself, so the rollup
// tables are unchanged. isFinite exists on every server the DDL supports
// (18.16 included). Apply tells a view of an earlier build by the absence
// of this expression in its definition and replaces it.
const RollupFiniteF64 = "if(isFinite(value_f64), value_f64, NULL)"

// RollupViewIsCurrent reports whether createQuery, a rollup view's
// definition as the server returns it (system.tables.create_table_query),
// aggregates finite gauge values only, as the views of this build do.
// The views of earlier builds aggregated value_f64 as it came.
func RollupViewIsCurrent(createQuery string) bool {
	return strings.Contains(createQuery, "isFinite(value_f64)")
}

// rollupView returns the CREATE MATERIALIZED VIEW that feeds a rollup table
// from inserts into samples. The view sees each inserted block only; the
// AggregatingMergeTree merges the states of all blocks. Gauges aggregate
// finite values only (RollupFiniteF64).
func rollupView(header string, t ddlTarget, view, table, bucketFn string, l Layout) string {
	ns := "toUInt64(toUnixTimestamp64Nano(ts))"
	if l == LayoutLegacy {
		ns = "toUInt64(toUInt32(ts)) * 1000000000 + ts_frac"
	}
	return header + fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %[1]s.%[2]s%[8]s TO %[1]s.%[3]s AS
SELECT
    %[4]s(ts) AS bucket, metric, device, keys, kind,
    uniqExactState(%[5]s) AS samples,
    minState(%[9]s) AS min_f64,
    maxState(%[9]s) AS max_f64,
    avgState(%[9]s) AS avg_f64,
    quantilesTDigestState(%[6]s)(%[9]s) AS q_f64,
    minState(%[5]s) AS first_ts,
    maxState(%[5]s) AS last_ts,
    argMinState(assumeNotNull(value_u64), %[5]s) AS first_u64,
    argMaxState(assumeNotNull(value_u64), %[5]s) AS last_u64
FROM %[1]s.%[7]s
GROUP BY bucket, metric, device, keys, kind`, t.qdb, QuoteIdent(view), t.local(table), bucketFn, ns, RollupQuantiles, t.local(TableSamples), t.onCluster(),
		RollupFiniteF64)
}

// ClickHouseTimeColumn returns the time column of a table that has one in
// both layouts ("ts", "event_time", "window_start"), or "" for another
// table. In the legacy layout it has a sibling named with a "_frac" suffix,
// which is how the layout of an existing table is told.
func ClickHouseTimeColumn(table string) string {
	switch table {
	case TableSamples:
		return "ts"
	case TableDetections, TableMaintenance:
		return "event_time"
	case TablePower:
		return "window_start"
	case TableIncidents:
		return "opened_at"
	case TableIncidentMembers:
		return "event_time"
	}
	return ""
}

// ClickHouseAddColumn returns the ALTER TABLE statement that adds column
// name of table in layout l to an existing table (a migration), or "" if
// the layout has no such column. It has no IF NOT EXISTS (18.16 lacks it):
// callers add only columns that system.columns does not list.
func ClickHouseAddColumn(db, table string, l Layout, name string) string {
	for _, c := range tableColumns(table) {
		if c.name != name || c.typ(l) == "" {
			continue
		}
		typ, codec, _ := strings.Cut(c.typ(l), " CODEC(")
		stmt := fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN %s %s", QuoteIdent(db), QuoteIdent(table), QuoteIdent(name), typ)
		if c.comment != "" {
			stmt += " COMMENT " + quoteString(c.comment)
		}
		if codec != "" {
			stmt += " CODEC(" + codec
		}
		return stmt
	}
	return ""
}

// writeCreate writes the head of a CREATE TABLE of cols as table name
// (quoted) in t's database.
func writeCreate(b *strings.Builder, t ddlTarget, name string, cols []column, l Layout) {
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s.%s%s\n(\n", t.qdb, name, t.onCluster())
	var lines []string
	for _, c := range cols {
		ct := c.typ(l)
		if ct == "" {
			continue
		}
		// The column grammar is: name type [COMMENT '...'] [CODEC(...)].
		typ, codec, _ := strings.Cut(ct, " CODEC(")
		line := fmt.Sprintf("    %s %s", QuoteIdent(c.name), typ)
		if c.comment != "" && !t.noComments {
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
