// Package clickhouse writes telekernel samples and detections to ClickHouse
// over the native protocol (github.com/ClickHouse/clickhouse-go/v2), for
// analysts.
//
// # Use
//
//	s, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{"127.0.0.1:9000"}}, clickhouse.WithLogger(log))
//	if err != nil { ... }                     // one actionable line, see ConnectError
//	defer s.Close()
//	if err := s.EnsureTables(ctx); err != nil { ... }
//	n, err := s.InsertSamples(ctx, records)   // one INSERT, columns straight from Arrow
//	if err != nil && clickhouse.IsRetryable(err) { back off and send the same records again }
//
// A Sink is safe for concurrent use. Every call that talks to the server
// takes a context and blocks until the server has answered. Retries belong
// to the caller, which commits its Kafka offsets only after an insert
// returned nil; IsRetryable tells connection and load errors (retry) from
// schema errors and bad input (dead-letter).
//
// # Tables and layouts
//
// The DDL lives in package schemas (schemas.ClickHouseDDL), in two layouts
// chosen by server version:
//
//   - modern (ClickHouse 21.8 and later): ts is DateTime64(9, 'UTC');
//     device, metric, keys and source are LowCardinality(String); ts has
//     CODEC(DoubleDelta, ZSTD), counters T64+ZSTD, gauges Gorilla+ZSTD;
//     TTL drops samples after Config.TTLDays (30) days.
//   - legacy (older servers, down to Debian's 18.16): ts is DateTime('UTC')
//     (whole seconds) and ts_frac a UInt32 holding the nanoseconds within
//     that second, so nothing is lost: Unix nanoseconds are
//     toUInt64(toUInt32(ts)) * 1000000000 + ts_frac. Strings are plain
//     String; there are no codecs and no TTL (drop old daily partitions).
//     Detections carry a *_frac column beside every timestamp.
//
// Both layouts partition by day and sort samples by
// (metric, device, keys, ts, source) — ts, ts_frac on the legacy layout —
// from low to high cardinality with time last, so one metric across the
// fleet, one device's series, and one series over a time range are each a
// contiguous range of the sort key (source only keeps a gNMI and an SNMP
// value of the same instant apart).
// Detections sort by (device, metric, keys, event_time, id). Inserts follow
// the layout the tables actually have (read from system.columns), not the
// one the server would get today, so a server upgraded from 18.16 keeps
// working on its legacy tables.
//
// # Pipelines, more tables, rollups
//
// NewSamplesStage, NewDetectionsStage, NewPowerStage and
// NewMaintenanceStage adapt a Sink to pipeline.Sink for a pipeline.Runner.
// InsertPower and InsertMaintenance write the power and maintenance
// contracts to their tables. The DDL also creates the rollups samples_1m
// and samples_1h, maintained by materialized views; Apply creates or
// migrates everything idempotently (docs/analysts.md describes the tables).
//
// # Re-delivery
//
// Kafka delivers at least once, so the same batch can reach the sink twice
// (a crash between the insert and the offset commit). Both tables use
// ReplacingMergeTree with the sort key as the deduplication key: rows that
// are written twice collapse into one when their parts merge, and reads with
// FINAL (or duplicate-insensitive aggregates such as max, min, argMax,
// uniqExact) are exact before that. Insert-block deduplication
// (insert_deduplication_token) was not chosen: on 18.16 it only exists for
// Replicated tables, which need ZooKeeper. A consequence of the choice: two
// samples of the same series and source with the same timestamp are one row
// — which is also what a device that repeats a last-change timestamp means.
//
// # Driver notes
//
// Batch inserts name their columns (INSERT INTO t (a, b, …)); INSERT …
// VALUES through Exec is never used; settings are never passed as strings.
// INSERTs lift max_partitions_per_insert_block on servers that have it (a
// flush may span more than 100 daily partitions).
// LowCardinality columns are appended row by row inside the driver (it
// reflects on each value), which the benchmark shows; plain String columns
// of the legacy layout are appended in one copy.
// InsertSamples gathers the rows of each block (Config.BatchRows, cut at
// record boundaries as before), a run of about 8192 rows at a time, into
// one typed slice per column and appends each column once per run; a block
// is still sent whole. Its scratch slices are kept between calls.
package clickhouse
