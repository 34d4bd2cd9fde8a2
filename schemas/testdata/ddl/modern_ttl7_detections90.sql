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

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.power
(
    window_start DateTime64(9, 'UTC') COMMENT 'start of the window, device time, UTC' CODEC(DoubleDelta, ZSTD(1)),
    window_end DateTime64(9, 'UTC') COMMENT 'end of the window (exclusive)' CODEC(DoubleDelta, ZSTD(1)),
    device LowCardinality(String),
    model LowCardinality(String) COMMENT 'device model whose coefficients were used',
    row LowCardinality(String) COMMENT 'device, chassis, port or saving',
    component LowCardinality(String) COMMENT 'port list keys (port and saving rows); empty otherwise',
    measured_w Nullable(Float64) COMMENT 'mean measured PSU input power, W (device rows); NULL when not reported' CODEC(Gorilla, ZSTD(1)),
    modelled_w Float64 COMMENT 'W: model total, base, port attribution or power saved' CODEC(Gorilla, ZSTD(1)),
    energy_wh Float64 COMMENT 'energy over the window, Wh' CODEC(Gorilla, ZSTD(1)),
    utilisation Nullable(Float64) COMMENT 'port rows: mean (in+out)/(2 speed) in [0,1]' CODEC(Gorilla, ZSTD(1)),
    speed_bps Nullable(UInt64) COMMENT 'port speed, bit/s',
    reason LowCardinality(Nullable(String)) COMMENT 'saving rows: why',
    residual_z Nullable(Float64) COMMENT 'device rows: robust z of the window\'s mean residual',
    samples UInt32 COMMENT 'device rows: measurements in the window',
    fit_points UInt64 COMMENT 'measurements the model of this device model was fitted on',
    detail Nullable(String) COMMENT 'saving rows: a sentence for people' CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(window_start)
ORDER BY (row, device, component, window_start)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.maintenance
(
    id String COMMENT 'event id, unique per event and stable across re-delivery',
    version UInt8 COMMENT 'maintenance contract version',
    key String COMMENT '16 hex digits identifying (device, component, signal)',
    state LowCardinality(String) COMMENT 'open, update or closed',
    event_time DateTime64(9, 'UTC') COMMENT 'device time of the sample that caused the event' CODEC(DoubleDelta, ZSTD(1)),
    detected_at DateTime64(9, 'UTC') COMMENT 'wall time the stage emitted the event' CODEC(ZSTD(1)),
    opened_at DateTime64(9, 'UTC') COMMENT 'device time the event opened',
    closed_at Nullable(DateTime64(9, 'UTC')) COMMENT 'device time it closed; NULL unless closed',
    close_reason LowCardinality(String) COMMENT 'recovered, failed or stale when closed; empty otherwise',
    device LowCardinality(String),
    component LowCardinality(String) COMMENT 'list keys of the component',
    metric LowCardinality(String) COMMENT 'the series\' metric path',
    signal LowCardinality(String) COMMENT 'optic_rx_power, laser_bias, temperature, fan_speed, psu_efficiency, ...',
    unit LowCardinality(String) COMMENT 'unit of value and threshold',
    value Float64 COMMENT 'robust level estimate at event_time',
    slope_per_hour Float64 COMMENT 'robust slope, unit per hour',
    threshold Float64 COMMENT 'failure threshold',
    threshold_source LowCardinality(String) COMMENT 'device or configured',
    direction LowCardinality(String) COMMENT 'falling or rising',
    predicted_failure DateTime64(9, 'UTC') COMMENT 'when the level is predicted to reach the threshold',
    interval_earliest DateTime64(9, 'UTC') COMMENT 'earliest predicted failure time',
    interval_latest Nullable(DateTime64(9, 'UTC')) COMMENT 'latest predicted failure time; NULL when unbounded',
    confidence Float64 COMMENT 'in [0,1]',
    lead_time_seconds Float64 COMMENT 'predicted_failure - event_time, seconds',
    severity LowCardinality(String) COMMENT 'info, warning or critical',
    summary String COMMENT 'a sentence for people' CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (device, component, signal, event_time, id)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples_1m
(
    bucket DateTime('UTC') COMMENT 'start of the bucket, UTC',
    metric LowCardinality(String),
    device LowCardinality(String),
    keys LowCardinality(String),
    kind UInt8 COMMENT '1 counter, 2 gauge, 3 state',
    samples AggregateFunction(uniqExact, UInt64) COMMENT 'distinct sample timestamps (uniqExactMerge): exact under re-delivery',
    min_f64 AggregateFunction(min, Nullable(Float64)) COMMENT 'gauges: minMerge',
    max_f64 AggregateFunction(max, Nullable(Float64)) COMMENT 'gauges: maxMerge',
    avg_f64 AggregateFunction(avg, Nullable(Float64)) COMMENT 'gauges: avgMerge',
    q_f64 AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Nullable(Float64)) COMMENT 'gauges: quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)',
    first_ts AggregateFunction(min, UInt64) COMMENT 'Unix ns of the first sample (minMerge)',
    last_ts AggregateFunction(max, UInt64) COMMENT 'Unix ns of the last sample (maxMerge)',
    first_u64 AggregateFunction(argMin, UInt64, UInt64) COMMENT 'counters: first value (argMinMerge)',
    last_u64 AggregateFunction(argMax, UInt64, UInt64) COMMENT 'counters: last value (argMaxMerge)'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (metric, device, keys, kind, bucket)
TTL bucket + INTERVAL 90 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE MATERIALIZED VIEW IF NOT EXISTS telekernel.samples_1m_mv TO telekernel.samples_1m AS
SELECT
    toStartOfMinute(ts) AS bucket, metric, device, keys, kind,
    uniqExactState(toUInt64(toUnixTimestamp64Nano(ts))) AS samples,
    minState(if(isFinite(value_f64), value_f64, NULL)) AS min_f64,
    maxState(if(isFinite(value_f64), value_f64, NULL)) AS max_f64,
    avgState(if(isFinite(value_f64), value_f64, NULL)) AS avg_f64,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(if(isFinite(value_f64), value_f64, NULL)) AS q_f64,
    minState(toUInt64(toUnixTimestamp64Nano(ts))) AS first_ts,
    maxState(toUInt64(toUnixTimestamp64Nano(ts))) AS last_ts,
    argMinState(assumeNotNull(value_u64), toUInt64(toUnixTimestamp64Nano(ts))) AS first_u64,
    argMaxState(assumeNotNull(value_u64), toUInt64(toUnixTimestamp64Nano(ts))) AS last_u64
FROM telekernel.samples
GROUP BY bucket, metric, device, keys, kind;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples_1h
(
    bucket DateTime('UTC') COMMENT 'start of the bucket, UTC',
    metric LowCardinality(String),
    device LowCardinality(String),
    keys LowCardinality(String),
    kind UInt8 COMMENT '1 counter, 2 gauge, 3 state',
    samples AggregateFunction(uniqExact, UInt64) COMMENT 'distinct sample timestamps (uniqExactMerge): exact under re-delivery',
    min_f64 AggregateFunction(min, Nullable(Float64)) COMMENT 'gauges: minMerge',
    max_f64 AggregateFunction(max, Nullable(Float64)) COMMENT 'gauges: maxMerge',
    avg_f64 AggregateFunction(avg, Nullable(Float64)) COMMENT 'gauges: avgMerge',
    q_f64 AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Nullable(Float64)) COMMENT 'gauges: quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)',
    first_ts AggregateFunction(min, UInt64) COMMENT 'Unix ns of the first sample (minMerge)',
    last_ts AggregateFunction(max, UInt64) COMMENT 'Unix ns of the last sample (maxMerge)',
    first_u64 AggregateFunction(argMin, UInt64, UInt64) COMMENT 'counters: first value (argMinMerge)',
    last_u64 AggregateFunction(argMax, UInt64, UInt64) COMMENT 'counters: last value (argMaxMerge)'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (metric, device, keys, kind, bucket)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE MATERIALIZED VIEW IF NOT EXISTS telekernel.samples_1h_mv TO telekernel.samples_1h AS
SELECT
    toStartOfHour(ts) AS bucket, metric, device, keys, kind,
    uniqExactState(toUInt64(toUnixTimestamp64Nano(ts))) AS samples,
    minState(if(isFinite(value_f64), value_f64, NULL)) AS min_f64,
    maxState(if(isFinite(value_f64), value_f64, NULL)) AS max_f64,
    avgState(if(isFinite(value_f64), value_f64, NULL)) AS avg_f64,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(if(isFinite(value_f64), value_f64, NULL)) AS q_f64,
    minState(toUInt64(toUnixTimestamp64Nano(ts))) AS first_ts,
    maxState(toUInt64(toUnixTimestamp64Nano(ts))) AS last_ts,
    argMinState(assumeNotNull(value_u64), toUInt64(toUnixTimestamp64Nano(ts))) AS first_u64,
    argMaxState(assumeNotNull(value_u64), toUInt64(toUnixTimestamp64Nano(ts))) AS last_u64
FROM telekernel.samples
GROUP BY bucket, metric, device, keys, kind;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.incidents
(
    id String COMMENT 'incident id, stable for the incident\'s life',
    version UInt8 COMMENT 'incident contract version',
    update_version UInt64 COMMENT 'orders the updates of an incident: the latest (highest) one is the row FINAL keeps',
    state LowCardinality(String) COMMENT 'open or resolved',
    opened_at DateTime64(9, 'UTC') COMMENT 'event time of the first symptom' CODEC(DoubleDelta, ZSTD(1)),
    updated_at DateTime64(9, 'UTC') COMMENT 'event time of the latest evidence',
    resolved_at Nullable(DateTime64(9, 'UTC')) COMMENT 'when it resolved; NULL while open',
    severity LowCardinality(String) COMMENT 'info, warning or critical',
    rule LowCardinality(String) COMMENT 'the rule that named the cause: link, device, session, hardware, surge, traffic or unexplained',
    cause String COMMENT 'the probable cause, for a person',
    confidence Float64 COMMENT 'of the cause, in [0,1]',
    action String COMMENT 'suggested next step for a person; never applied',
    devices Array(LowCardinality(String)) COMMENT 'devices of every entity the incident names, sorted (past 100 KB of names, of the entities listed)',
    sites Array(LowCardinality(String)) COMMENT 'sites of every entity the incident names, sorted (past 100 KB of names, of the entities listed); empty when the inventory does not know them',
    members UInt32 COMMENT 'member and effect detections',
    entities String COMMENT 'affected entities as a JSON array: past correlate.engine.max_entities, the first named' CODEC(ZSTD(1)),
    merged_into String COMMENT 'the incident this one was merged into; \'\' otherwise: filter merged_into = \'\' to count each cause once',
    entities_omitted UInt32 COMMENT 'affected entities left out of entities; 0 when the update lists them all'
)
ENGINE = ReplacingMergeTree(update_version)
PARTITION BY toYYYYMM(opened_at)
ORDER BY id
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.incident_members
(
    incident_id String COMMENT 'the incident',
    event_time DateTime64(9, 'UTC') COMMENT 'the detection\'s event time' CODEC(DoubleDelta, ZSTD(1)),
    detection_id String COMMENT 'detections.id of the member',
    fingerprint String COMMENT 'detections.fingerprint of the member',
    role LowCardinality(String) COMMENT 'member (a symptom) or effect (a consequence)',
    state LowCardinality(String) COMMENT 'the detection\'s firing or resolved',
    device LowCardinality(String),
    metric LowCardinality(String),
    keys LowCardinality(String),
    detector LowCardinality(String),
    severity LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (incident_id, event_time, detection_id)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.inventory
(
    device String COMMENT 'the device\'s configured name (samples.device, detections.device)',
    site LowCardinality(String),
    role LowCardinality(String) COMMENT 'e.g. spine, leaf, border',
    vendor LowCardinality(String),
    model LowCardinality(String),
    tags Array(String),
    loaded_at DateTime('UTC') COMMENT 'when this version of the inventory was loaded: the latest wins'
)
ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY device
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (modern), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.inventory_links
(
    device String COMMENT 'one end',
    interface String,
    peer_device String COMMENT 'the other end',
    peer_interface String,
    loaded_at DateTime('UTC') COMMENT 'when this version of the inventory was loaded: the latest wins'
)
ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (device, interface)
SETTINGS index_granularity = 8192;
