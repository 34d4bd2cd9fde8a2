CREATE DATABASE IF NOT EXISTS telekernel;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples
(
    ts DateTime64(9, 'UTC') COMMENT 'device time of the value, UTC' CODEC(DoubleDelta, ZSTD(1)),
    device LowCardinality(String) COMMENT 'the target\'s configured name',
    metric LowCardinality(String) COMMENT 'OpenConfig-style path without list keys',
    keys LowCardinality(String) COMMENT 'list keys in canonical form, e.g. name=Ethernet1; empty when none',
    kind UInt8 COMMENT '1 counter (value_u64), 2 gauge (value_f64), 3 state (value_str)',
    value_u64 Nullable(UInt64) COMMENT 'counter value at full 64-bit precision' CODEC(T64, ZSTD(1)),
    value_f64 Nullable(Float64) COMMENT 'gauge value' CODEC(Gorilla, ZSTD(1)),
    value_str Nullable(String) COMMENT 'state value' CODEC(ZSTD(1)),
    source LowCardinality(String) COMMENT 'gnmi, snmp or sim'
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (metric, device, keys, ts, source)
TTL toDateTime(ts) + INTERVAL 7 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.detections
(
    id String COMMENT 'event id, unique per event and stable across re-delivery',
    version UInt8 COMMENT 'detection contract version',
    event_time DateTime64(9, 'UTC') COMMENT 'device time of the sample that caused the transition' CODEC(DoubleDelta, ZSTD(1)),
    detected_at DateTime64(9, 'UTC') COMMENT 'wall time the detector emitted the event' CODEC(ZSTD(1)),
    state LowCardinality(String) COMMENT 'firing or resolved',
    device LowCardinality(String),
    metric LowCardinality(String),
    keys LowCardinality(String),
    detector LowCardinality(String) COMMENT 'the detector that decided the transition',
    detectors Array(LowCardinality(String)) COMMENT 'every detector that fired for this event',
    score Float64 COMMENT 'calibrated anomaly score in [0,1]',
    severity LowCardinality(String) COMMENT 'info, warning or critical',
    observed Float64 COMMENT 'the value the detector saw (a rate for counters)',
    expected Float64 COMMENT 'the value it expected',
    band_lower Float64 COMMENT 'lower bound of the expected band',
    band_upper Float64 COMMENT 'upper bound of the expected band',
    starts_at DateTime64(9, 'UTC') COMMENT 'when the alert started firing',
    ends_at Nullable(DateTime64(9, 'UTC')) COMMENT 'when the alert resolved; NULL while firing',
    fingerprint String COMMENT 'Alertmanager-style hash of the sorted labels',
    labels String COMMENT 'alert labels as a JSON object' CODEC(ZSTD(1)),
    annotations String COMMENT 'alert annotations as a JSON object' CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (device, metric, keys, event_time, id)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.schema_version
(
    table_name String,
    version UInt32 COMMENT 'ClickHouse layout version of the table',
    layout String COMMENT 'modern or legacy',
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (table_name, version)
SETTINGS index_granularity = 8192;
