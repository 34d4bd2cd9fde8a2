CREATE DATABASE IF NOT EXISTS telekernel;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples
(
    ts DateTime('UTC') COMMENT 'device time of the value, UTC',
    ts_frac UInt32 COMMENT 'nanoseconds within the second of ts (0-999999999); Unix ns = toUInt64(toUInt32(ts)) * 1000000000 + ts_frac',
    device String COMMENT 'the target\'s configured name',
    metric String COMMENT 'OpenConfig-style path without list keys',
    keys String COMMENT 'list keys in canonical form, e.g. name=Ethernet1; empty when none',
    kind UInt8 COMMENT '1 counter (value_u64), 2 gauge (value_f64), 3 state (value_str)',
    value_u64 Nullable(UInt64) COMMENT 'counter value at full 64-bit precision',
    value_f64 Nullable(Float64) COMMENT 'gauge value',
    value_str Nullable(String) COMMENT 'state value',
    source String COMMENT 'gnmi, snmp or sim'
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (metric, device, keys, ts, ts_frac, source)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.detections
(
    id String COMMENT 'event id, unique per event and stable across re-delivery',
    version UInt8 COMMENT 'detection contract version',
    event_time DateTime('UTC') COMMENT 'device time of the sample that caused the transition',
    event_time_frac UInt32 COMMENT 'nanoseconds within the second of event_time',
    detected_at DateTime('UTC') COMMENT 'wall time the detector emitted the event',
    detected_at_frac UInt32 COMMENT 'nanoseconds within the second of detected_at',
    state String COMMENT 'firing or resolved',
    device String,
    metric String,
    keys String,
    detector String COMMENT 'the detector that decided the transition',
    detectors Array(String) COMMENT 'every detector that fired for this event',
    score Float64 COMMENT 'calibrated anomaly score in [0,1]',
    severity String COMMENT 'info, warning or critical',
    observed Float64 COMMENT 'the value the detector saw (a rate for counters)',
    expected Float64 COMMENT 'the value it expected',
    band_lower Float64 COMMENT 'lower bound of the expected band',
    band_upper Float64 COMMENT 'upper bound of the expected band',
    starts_at DateTime('UTC') COMMENT 'when the alert started firing',
    starts_at_frac UInt32 COMMENT 'nanoseconds within the second of starts_at',
    ends_at Nullable(DateTime('UTC')) COMMENT 'when the alert resolved; NULL while firing',
    ends_at_frac Nullable(UInt32) COMMENT 'nanoseconds within the second of ends_at',
    fingerprint String COMMENT 'Alertmanager-style hash of the sorted labels',
    labels String COMMENT 'alert labels as a JSON object',
    annotations String COMMENT 'alert annotations as a JSON object'
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (device, metric, keys, event_time, event_time_frac, id)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
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
