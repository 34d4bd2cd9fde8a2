CREATE DATABASE IF NOT EXISTS telekernel ON CLUSTER tk_2s1r;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples_local ON CLUSTER tk_2s1r
(
    ts DateTime('UTC'),
    ts_frac UInt32,
    device String,
    metric String,
    keys String,
    kind UInt8,
    value_u64 Nullable(UInt64),
    value_f64 Nullable(Float64),
    value_str Nullable(String),
    source String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/samples_local', '{replica}')
PARTITION BY toDate(ts)
ORDER BY (metric, device, keys, ts, ts_frac, source)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.detections_local ON CLUSTER tk_2s1r
(
    id String,
    version UInt8,
    event_time DateTime('UTC'),
    event_time_frac UInt32,
    detected_at DateTime('UTC'),
    detected_at_frac UInt32,
    state String,
    device String,
    metric String,
    keys String,
    detector String,
    detectors Array(String),
    score Float64,
    severity String,
    observed Float64,
    expected Float64,
    band_lower Float64,
    band_upper Float64,
    starts_at DateTime('UTC'),
    starts_at_frac UInt32,
    ends_at Nullable(DateTime('UTC')),
    ends_at_frac Nullable(UInt32),
    fingerprint String,
    labels String,
    annotations String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/detections_local', '{replica}')
PARTITION BY toDate(event_time)
ORDER BY (device, metric, keys, event_time, event_time_frac, id)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.schema_version ON CLUSTER tk_2s1r
(
    table_name String,
    version UInt32,
    layout String,
    applied_at DateTime('UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/all/telekernel/schema_version', '{replica}')
ORDER BY (table_name, version)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.power_local ON CLUSTER tk_2s1r
(
    window_start DateTime('UTC'),
    window_start_frac UInt32,
    window_end DateTime('UTC'),
    window_end_frac UInt32,
    device String,
    model String,
    row String,
    component String,
    measured_w Nullable(Float64),
    modelled_w Float64,
    energy_wh Float64,
    utilisation Nullable(Float64),
    speed_bps Nullable(UInt64),
    reason Nullable(String),
    residual_z Nullable(Float64),
    samples UInt32,
    fit_points UInt64,
    detail Nullable(String)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/power_local', '{replica}')
PARTITION BY toDate(window_start)
ORDER BY (row, device, component, window_start, window_start_frac)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.maintenance_local ON CLUSTER tk_2s1r
(
    id String,
    version UInt8,
    key String,
    state String,
    event_time DateTime('UTC'),
    event_time_frac UInt32,
    detected_at DateTime('UTC'),
    detected_at_frac UInt32,
    opened_at DateTime('UTC'),
    opened_at_frac UInt32,
    closed_at Nullable(DateTime('UTC')),
    closed_at_frac Nullable(UInt32),
    close_reason String,
    device String,
    component String,
    metric String,
    signal String,
    unit String,
    value Float64,
    slope_per_hour Float64,
    threshold Float64,
    threshold_source String,
    direction String,
    predicted_failure DateTime('UTC'),
    interval_earliest DateTime('UTC'),
    interval_latest Nullable(DateTime('UTC')),
    confidence Float64,
    lead_time_seconds Float64,
    severity String,
    summary String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/maintenance_local', '{replica}')
PARTITION BY toDate(event_time)
ORDER BY (device, component, signal, event_time, event_time_frac, id)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples_1m_local ON CLUSTER tk_2s1r
(
    bucket DateTime('UTC'),
    metric String,
    device String,
    keys String,
    kind UInt8,
    samples AggregateFunction(uniqExact, UInt64),
    min_f64 AggregateFunction(min, Float64),
    max_f64 AggregateFunction(max, Float64),
    avg_f64 AggregateFunction(avg, Float64),
    q_f64 AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64),
    first_ts AggregateFunction(min, UInt64),
    last_ts AggregateFunction(max, UInt64),
    first_u64 AggregateFunction(argMin, UInt64, UInt64),
    last_u64 AggregateFunction(argMax, UInt64, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/samples_1m_local', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY (metric, device, keys, kind, bucket)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE MATERIALIZED VIEW IF NOT EXISTS telekernel.samples_1m_mv ON CLUSTER tk_2s1r TO telekernel.samples_1m_local AS
SELECT
    toStartOfMinute(ts) AS bucket, metric, device, keys, kind,
    uniqExactState(toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS samples,
    minState(if(isFinite(value_f64), value_f64, NULL)) AS min_f64,
    maxState(if(isFinite(value_f64), value_f64, NULL)) AS max_f64,
    avgState(if(isFinite(value_f64), value_f64, NULL)) AS avg_f64,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(if(isFinite(value_f64), value_f64, NULL)) AS q_f64,
    minState(toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS first_ts,
    maxState(toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS last_ts,
    argMinState(assumeNotNull(value_u64), toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS first_u64,
    argMaxState(assumeNotNull(value_u64), toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS last_u64
FROM telekernel.samples_local
GROUP BY bucket, metric, device, keys, kind;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples_1h_local ON CLUSTER tk_2s1r
(
    bucket DateTime('UTC'),
    metric String,
    device String,
    keys String,
    kind UInt8,
    samples AggregateFunction(uniqExact, UInt64),
    min_f64 AggregateFunction(min, Float64),
    max_f64 AggregateFunction(max, Float64),
    avg_f64 AggregateFunction(avg, Float64),
    q_f64 AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64),
    first_ts AggregateFunction(min, UInt64),
    last_ts AggregateFunction(max, UInt64),
    first_u64 AggregateFunction(argMin, UInt64, UInt64),
    last_u64 AggregateFunction(argMax, UInt64, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/samples_1h_local', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY (metric, device, keys, kind, bucket)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE MATERIALIZED VIEW IF NOT EXISTS telekernel.samples_1h_mv ON CLUSTER tk_2s1r TO telekernel.samples_1h_local AS
SELECT
    toStartOfHour(ts) AS bucket, metric, device, keys, kind,
    uniqExactState(toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS samples,
    minState(if(isFinite(value_f64), value_f64, NULL)) AS min_f64,
    maxState(if(isFinite(value_f64), value_f64, NULL)) AS max_f64,
    avgState(if(isFinite(value_f64), value_f64, NULL)) AS avg_f64,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(if(isFinite(value_f64), value_f64, NULL)) AS q_f64,
    minState(toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS first_ts,
    maxState(toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS last_ts,
    argMinState(assumeNotNull(value_u64), toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS first_u64,
    argMaxState(assumeNotNull(value_u64), toUInt64(toUInt32(ts)) * 1000000000 + ts_frac) AS last_u64
FROM telekernel.samples_local
GROUP BY bucket, metric, device, keys, kind;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.incidents_local ON CLUSTER tk_2s1r
(
    id String,
    version UInt8,
    update_version UInt64,
    state String,
    opened_at DateTime('UTC'),
    opened_at_frac UInt32,
    updated_at DateTime('UTC'),
    updated_at_frac UInt32,
    resolved_at Nullable(DateTime('UTC')),
    resolved_at_frac Nullable(UInt32),
    severity String,
    rule String,
    cause String,
    confidence Float64,
    action String,
    devices Array(String),
    sites Array(String),
    members UInt32,
    entities String,
    merged_into String,
    entities_omitted UInt32
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/incidents_local', '{replica}', update_version)
PARTITION BY toYYYYMM(opened_at)
ORDER BY id
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.incident_members_local ON CLUSTER tk_2s1r
(
    incident_id String,
    event_time DateTime('UTC'),
    event_time_frac UInt32,
    detection_id String,
    fingerprint String,
    role String,
    state String,
    device String,
    metric String,
    keys String,
    detector String,
    severity String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/{shard}/telekernel/incident_members_local', '{replica}')
PARTITION BY toYYYYMM(event_time)
ORDER BY (incident_id, event_time, event_time_frac, detection_id)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.inventory ON CLUSTER tk_2s1r
(
    device String,
    site String,
    role String,
    vendor String,
    model String,
    tags Array(String),
    loaded_at DateTime('UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/all/telekernel/inventory', '{replica}', loaded_at)
ORDER BY device
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.inventory_links ON CLUSTER tk_2s1r
(
    device String,
    interface String,
    peer_device String,
    peer_interface String,
    loaded_at DateTime('UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tk_2s1r/all/telekernel/inventory_links', '{replica}', loaded_at)
ORDER BY (device, interface)
SETTINGS index_granularity = 8192;

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples ON CLUSTER tk_2s1r AS telekernel.samples_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'samples_local', cityHash64(device));

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.detections ON CLUSTER tk_2s1r AS telekernel.detections_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'detections_local', cityHash64(device));

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.power ON CLUSTER tk_2s1r AS telekernel.power_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'power_local', cityHash64(device));

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.maintenance ON CLUSTER tk_2s1r AS telekernel.maintenance_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'maintenance_local', cityHash64(device));

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples_1m ON CLUSTER tk_2s1r AS telekernel.samples_1m_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'samples_1m_local', cityHash64(device));

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.samples_1h ON CLUSTER tk_2s1r AS telekernel.samples_1h_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'samples_1h_local', cityHash64(device));

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.incidents ON CLUSTER tk_2s1r AS telekernel.incidents_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'incidents_local', cityHash64(id));

-- telekernel clickhouse layout v1 (legacy), samples contract v1, detection contract v1
CREATE TABLE IF NOT EXISTS telekernel.incident_members ON CLUSTER tk_2s1r AS telekernel.incident_members_local
ENGINE = Distributed('tk_2s1r', 'telekernel', 'incident_members_local', cityHash64(incident_id));
