package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/alertstate"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/sinks/parquet"
)

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestRealKafkaAndClickHouse is the walking skeleton end to end on the real
// services: simulated samples → tk.samples → detect → tk.detections, and
// samples and detections into ClickHouse and Parquet, with exact counts.
func TestRealKafkaAndClickHouse(t *testing.T) {
	kafkaAddr := testenv.Service(t, "TK_KAFKA")
	chAddr := testenv.Service(t, "TK_CLICKHOUSE")
	amURL := testenv.Service(t, "TK_ALERTMANAGER")
	id := randomSuffix()

	cfg := config.Default()
	cfg.Kafka.Brokers = []string{kafkaAddr}
	cfg.Topics.Samples = "it-" + id + ".samples"
	cfg.Topics.Detections = "it-" + id + ".detections"
	cfg.Topics.DeadLetters = "it-" + id + ".deadletters"
	cfg.Topics.AlertState = "it-" + id + ".alerts"
	cfg.Topics.Power = "it-" + id + ".power"
	cfg.Topics.Maintenance = "it-" + id + ".maintenance"
	cfg.Alertmanager.URL = amURL
	cfg.Alertmanager.Source = alertmanager.SourceDetections // these tests check per-detection alerts
	cfg.Topics.GroupPrefix = "it-" + id
	cfg.Topics.Partitions = 3
	cfg.Correlate.Topic, cfg.Correlate.Input = "it-"+id+".incidents", "it-"+id+".incidents.input"
	cfg.Inventory.Topic = "it-" + id + ".inventory"
	cfg.ClickHouse.Addr = []string{chAddr}
	cfg.ClickHouse.Database = "tk_it_" + id
	cfg.HTTP.Listen = "off"
	cfg.Parquet.Root = t.TempDir()
	cfg.Sim.LabelsFile = cfg.Parquet.Root + "/labels.jsonl"
	const devices = 4
	cfg.Sim.Devices = devices
	cfg.Sim.Speed = config.Speed(math.Inf(1))
	cfg.Sim.Span = 4 * time.Hour
	cfg.Sim.Start = time.Date(2026, 11, 1, 22, 0, 0, 0, time.UTC) // crosses midnight: two dt= partitions

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Two bad messages wait in the samples topic before the pipeline starts:
	// every stage that reads samples must dead-letter both and go on. A
	// third holds only rows no stage keeps (times 0 and 2188, a string that
	// is not UTF-8): every such stage drops and counts them, one by one.
	admin, err := kafka.Connect(ctx, cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := kafka.EnsureTopics(ctx, admin, kafka.TopicSpec{Name: cfg.Topics.Samples, Partitions: cfg.Topics.Partitions}); err != nil {
		t.Fatal(err)
	}
	bad := []*kgo.Record{
		{Topic: cfg.Topics.Samples, Key: []byte("x"), Value: []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, Headers: kafkaHeaders(schemas.SamplesHeaders())},
		{Topic: cfg.Topics.Samples, Key: []byte("x"), Value: []byte("{}"), Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/json")}}},
	}
	badRows := []schemas.Sample{
		{TS: 0, Device: "x", Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"},
		{TS: time.Date(2188, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Device: "x", Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"},
		{TS: cfg.Sim.Start.UnixNano(), Device: "x", Metric: "/s", Kind: schemas.KindState, Str: "UP\xff", Source: "gnmi"},
	}
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	for i := range badRows {
		sb.Append(&badRows[i])
	}
	rec := sb.NewRecord()
	v, err := schemas.EncodeSamples(nil, rec)
	rec.Release()
	sb.Release()
	if err != nil {
		t.Fatal(err)
	}
	bad = append(bad, &kgo.Record{Topic: cfg.Topics.Samples, Key: []byte("x"), Value: v, Headers: kafkaHeaders(schemas.SamplesHeaders())})
	if err := admin.ProduceSync(ctx, bad...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	start := time.Now()
	reg := prometheus.NewRegistry()
	sum, err := Run(ctx, Options{Config: &cfg, Log: log, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (wall %v)", sum, time.Since(start).Round(time.Millisecond))

	ticks := int64(cfg.Sim.Span / cfg.Sim.Interval)
	want := ticks*devices*samplesPerDeviceTick(t, cfg.Sim.Config) + targetStateRows(int(devices))
	if sum.Samples != want {
		t.Fatalf("samples %d, want %d", sum.Samples, want)
	}
	if sum.DeadLetters != 2*6 {
		t.Errorf("dead letters %d, want 12 (2 bad messages × detect, power, maintain, inventory, parquet, clickhouse-samples)", sum.DeadLetters)
	}
	var onTopic int64
	if err := kafka.ReadAll(ctx, cfg.Kafka, cfg.Topics.DeadLetters, func(*kgo.Record) { onTopic++ }); err != nil || onTopic != sum.DeadLetters {
		t.Errorf("dead-letter topic holds %d records (%v), summary says %d", onTopic, err, sum.DeadLetters)
	}
	if want := int64(len(badRows)) * 5; sum.DroppedRows != want {
		t.Errorf("dropped rows %d, want %d (%d bad rows × 5 stages)", sum.DroppedRows, want, len(badRows))
	}
	// Power: one message per device and window, all on the topic.
	prs := readCommitted(t, cfg.Kafka.Brokers, cfg.Topics.Power)
	if n := len(prs); n == 0 || int64(n) != sum.PowerMessages {
		t.Errorf("power topic holds %d messages, summary says %d", n, sum.PowerMessages)
	}
	var powerRows int64
	for _, r := range prs {
		rows, err := schemas.DecodePower(kafka.Headers(r), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		powerRows += int64(len(rows))
	}

	// Parquet: exact rows, read back from the files.
	if n, err := parquet.CountRows(cfg.Parquet.Root); err != nil || n != want {
		t.Fatalf("parquet files hold %d rows (%v), want %d", n, err, want)
	}
	if sum.ParquetRows != want {
		t.Errorf("summary parquet rows %d, want %d", sum.ParquetRows, want)
	}

	// Detections: on the topic, in ClickHouse, and the injected spike found.
	dets := readDetections(t, cfg.Kafka.Brokers, cfg.Topics.Detections)
	if int64(len(dets)) != sum.Detections || len(dets) == 0 {
		t.Fatalf("topic holds %d detections, summary says %d", len(dets), sum.Detections)
	}
	checkDetections(t, dets, sum)

	// Alerting: the compacted alert-state topic holds each alert's latest
	// state (resolved, as the spike ended), and the Alertmanager bridge
	// posted them with no failed request.
	state, err := alertstate.Load(ctx, cfg.Kafka, cfg.Topics.AlertState)
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]bool{}
	for _, d := range dets {
		alerts[d.Fingerprint] = true
	}
	if len(state) != len(alerts) {
		t.Errorf("alert state holds %d alerts, the detections name %d", len(state), len(alerts))
	}
	for fp, d := range state {
		if d.State != schemas.StateResolved {
			t.Errorf("alert %s (%s %s) is %s in the alert state, want resolved", fp, d.Device, d.Metric, d.State)
		}
	}
	if posted := counterValue(t, reg, "telekernel_alertmanager_alerts_posted_total"); posted < float64(len(alerts)) {
		t.Errorf("alertmanager: %v alerts posted, want at least %d", posted, len(alerts))
	}
	if errs := counterValue(t, reg, "telekernel_alertmanager_request_errors_total"); errs != 0 {
		t.Errorf("alertmanager: %v failed requests", errs)
	}

	// ClickHouse: exact rows.
	ch, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{chAddr}, Database: cfg.ClickHouse.Database})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if os.Getenv("TK_KEEP") == "" {
			_ = ch.DropDatabase(context.Background())
		}
		ch.Close()
	}()
	if n, err := ch.Count(ctx, "samples"); err != nil || int64(n) != want {
		t.Errorf("clickhouse samples: %d rows (%v), want %d", n, err, want)
	}
	if n, err := ch.Count(ctx, "detections"); err != nil || int64(n) != sum.Detections {
		t.Errorf("clickhouse detections: %d rows (%v), want %d", n, err, sum.Detections)
	}
	if n, err := ch.Count(ctx, "power"); err != nil || int64(n) != powerRows {
		t.Errorf("clickhouse power: %d rows (%v), want the %d rows of the power topic", n, err, powerRows)
	}
	// Incidents: every update of the run's incidents topic is a row; FINAL
	// keeps one per incident.
	updates, ids := int64(0), map[string]bool{}
	if err := kafka.ReadAll(ctx, cfg.Kafka, cfg.Correlate.Topic, func(r *kgo.Record) { updates++; ids[string(r.Key)] = true }); err != nil {
		t.Fatal(err)
	}
	if n, err := ch.Count(ctx, schemas.TableIncidents); err != nil || int(n) != len(ids) {
		t.Errorf("clickhouse incidents: %d rows (%v), want the %d incidents of the topic", n, err, len(ids))
	}
	if sum.ClickHouseRows != want+sum.Detections+powerRows+updates {
		t.Errorf("summary clickhouse rows %d, want %d (with %d incident updates)", sum.ClickHouseRows, want+sum.Detections+powerRows+updates, updates)
	}
}

func kafkaHeaders(hs []schemas.Header) []kgo.RecordHeader {
	out := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	return out
}

// counterValue returns the value of an unlabelled counter in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// TestAlertmanagerRestoresFiringAlerts: a bridge that starts (say after a
// restart) re-posts the alerts the compacted alert-state topic says are
// firing, so Alertmanager keeps them active although no new detection
// arrives.
func TestAlertmanagerRestoresFiringAlerts(t *testing.T) {
	kafkaAddr := testenv.Service(t, "TK_KAFKA")
	amURL := testenv.Service(t, "TK_ALERTMANAGER")
	id := randomSuffix()
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{kafkaAddr}
	cfg.Topics.Samples = "it-" + id + ".samples"
	cfg.Topics.Detections = "it-" + id + ".detections"
	cfg.Topics.DeadLetters = "it-" + id + ".deadletters"
	cfg.Topics.AlertState = "it-" + id + ".alerts"
	cfg.Topics.GroupPrefix = "it-" + id
	cfg.Alertmanager.URL = amURL
	cfg.Alertmanager.Source = alertmanager.SourceDetections // these tests check per-detection alerts
	cfg.HTTP.Listen = "off"
	cfg.Stages = []string{"alertmanager"}
	off := false
	cfg.Sim.Enabled = &off

	// An alert that fired before the restart, in the alert state only.
	device := "restore-" + id
	now := time.Now().UTC().Truncate(time.Millisecond)
	labels := schemas.AlertLabels(device, "/interfaces/interface/state/counters/in-octets", "name=Ethernet1")
	d := &schemas.Detection{Version: schemas.DetectionVersion, EventTime: now, DetectedAt: now, State: schemas.StateFiring,
		Device: device, Metric: labels["metric"], Keys: labels["keys"], Detector: "robust_z", Score: 0.9,
		Severity: schemas.SeverityWarning, Labels: labels, StartsAt: now, Fingerprint: schemas.Fingerprint(labels)}
	d.ID = d.Fingerprint + "-" + now.Format(time.RFC3339Nano)
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := kafka.Connect(ctx, cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := alertstate.EnsureTopic(ctx, admin, cfg.Topics.AlertState, 1); err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Topic: cfg.Topics.AlertState, Key: []byte(d.Fingerprint), Value: v, Headers: kafkaHeaders(schemas.DetectionHeaders(d, "test"))}
	if err := admin.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}

	if _, err := Run(ctx, Options{Config: &cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), For: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"filter": {`device="` + device + `"`}}
	resp, err := http.Get(amURL + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []struct {
		Fingerprint string            `json:"fingerprint"`
		Labels      map[string]string `json:"labels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Labels["alertname"] != schemas.AlertName || alerts[0].Labels["device"] != device {
		t.Fatalf("Alertmanager's active alerts for %s: %+v, want the restored one", device, alerts)
	}
}
