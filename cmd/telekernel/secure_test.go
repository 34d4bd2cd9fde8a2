package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// secure is the SASL_SSL Kafka listener and the TLS ClickHouse port that
// deploy/local starts, as env.sh exports them.
type secure struct {
	kafka, ca, kafkaUser, clickhouse, chUser string
	id                                       string // unique per test run: topics, groups, database
}

func secureServices(t *testing.T) secure {
	s := secure{
		kafka: testenv.Service(t, "TK_KAFKA_SASL"), ca: testenv.Service(t, "TK_TLS_CA"),
		kafkaUser: testenv.Service(t, "TK_KAFKA_SASL_USER"), clickhouse: testenv.Service(t, "TK_CLICKHOUSE_TLS"),
		chUser: testenv.Service(t, "TK_CLICKHOUSE_TLS_USER"), id: strconv.FormatInt(time.Now().UnixNano()%1e12, 36),
	}
	testenv.Service(t, "TK_KAFKA_SASL_PASSWORD")
	testenv.Service(t, "TK_CLICKHOUSE_TLS_PASSWORD")
	return s
}

// kafkaYAML is the kafka section over SASL_SSL with the password from
// passwordEnv.
func (s secure) kafkaYAML(passwordEnv string) string {
	return fmt.Sprintf("kafka:\n  brokers: [%s]\n  connect_timeout: 5s\n  tls: {enabled: true, ca_file: %s}\n"+
		"  sasl: {mechanism: SCRAM-SHA-512, username: %s, password: {env: %s}}\n", s.kafka, s.ca, s.kafkaUser, passwordEnv)
}

// pipelineYAML is a pipeline config on the secure services: detect,
// parquet and clickhouse over a 2-device, 2-hour simulation.
func (s secure) pipelineYAML(kafkaPasswordEnv, chPasswordEnv, root string) string {
	return s.kafkaYAML(kafkaPasswordEnv) + fmt.Sprintf(`stages: [detect, parquet, clickhouse]
topics: {samples: sec-%[1]s.samples, detections: sec-%[1]s.detections, dead_letters: sec-%[1]s.dl, power: sec-%[1]s.power, maintenance: sec-%[1]s.maint, partitions: 2, group_prefix: sec-%[1]s}
inventory: {topic: sec-%[1]s.inventory}
correlate: {topic: sec-%[1]s.incidents, input: sec-%[1]s.incidents.input}
sim: {devices: 2, speed: .inf, backfill: 2h, span: 2h}
parquet: {root: %[2]s}
clickhouse:
  addr: [%[3]s]
  database: tk_sec_%[1]s
  username: %[4]s
  password: {env: %[5]s}
  tls: {enabled: true, ca_file: %[6]s}
http: {listen: "off"}
`, s.id, root, s.clickhouse, s.chUser, chPasswordEnv, s.ca)
}

// TestSecureServices runs the pipeline on the SASL_SSL (SCRAM-SHA-512)
// listener and the TLS ClickHouse port of deploy/local: `check`, `schema
// apply`, `run` (detect, parquet, clickhouse) and a `stage` all connect and
// agree on the counts; wrong credentials fail in one line without the
// password.
func TestSecureServices(t *testing.T) {
	s := secureServices(t)
	root := t.TempDir()
	cfgPath := writeFile(t, "secure.yaml", s.pipelineYAML("TK_KAFKA_SASL_PASSWORD", "TK_CLICKHOUSE_TLS_PASSWORD", root))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.ClickHouse.Config
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if ch, err := clickhouse.New(ctx, cc); err == nil {
			_ = ch.DropDatabase(ctx)
			ch.Close()
		}
	})

	if code, out, stderr := tk(t, "check", "-c", cfgPath); code != 0 || stderr != "" {
		t.Fatalf("check: %d %s%s", code, out, stderr)
	}
	if code, out, stderr := tk(t, "schema", "apply", "--config", cfgPath); code != 0 || !strings.Contains(out, "created: detections") {
		t.Fatalf("schema apply over TLS: %d\n%s%s", code, out, stderr)
	}
	code, out, stderr := tk(t, "run", "-c", cfgPath)
	if code != 0 {
		t.Fatalf("run over SASL_SSL and TLS: code %d\n%s%s", code, out, stderr)
	}
	m := regexp.MustCompile(`^telekernel: (\d+) samples in .* (\d+) parquet rows in \d+ files, (\d+) clickhouse rows`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("summary %q", out)
	}
	samples, _ := strconv.ParseUint(m[1], 10, 64)
	parquetRows, _ := strconv.ParseUint(m[2], 10, 64)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ch, err := clickhouse.New(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	chSamples, err := ch.Count(ctx, "samples")
	if err != nil {
		t.Fatal(err)
	}
	if samples == 0 || parquetRows != samples || chSamples != samples {
		t.Fatalf("samples %d, parquet rows %d, clickhouse samples %d: want all equal and non-zero", samples, parquetRows, chSamples)
	}
	t.Logf("over SASL_SSL + TLS: %d samples, %d parquet rows, %d clickhouse samples", samples, parquetRows, chSamples)

	// One stage in its own consumer group reads every sample again.
	again := t.TempDir()
	stageCfg := writeFile(t, "stage.yaml", strings.Replace(s.pipelineYAML("TK_KAFKA_SASL_PASSWORD", "TK_CLICKHOUSE_TLS_PASSWORD", again),
		"group_prefix: sec-"+s.id, "group_prefix: sec2-"+s.id, 1))
	code, out, stderr = tk(t, "stage", "parquet", "-c", stageCfg, "--for", "8s")
	if code != 0 || !strings.Contains(out, fmt.Sprintf(", %d parquet rows", samples)) {
		t.Fatalf("stage parquet over SASL_SSL: code %d, %q, want %d parquet rows\n%s", code, out, samples, stderr)
	}

	// Wrong credentials: one line each, naming what to check, without the password.
	t.Setenv("TK_TEST_WRONG_PW", "wrong-secret-pw")
	wrong := func(name, kafkaEnv, chEnv, want string) {
		t.Helper()
		p := writeFile(t, name, s.pipelineYAML(kafkaEnv, chEnv, t.TempDir()))
		code, out, stderr := tk(t, "run", "-c", p)
		if code != 1 || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "wrong-secret-pw") {
			t.Errorf("%s: code %d, stdout %q, stderr %q; want one line containing %q", name, code, out, stderr, want)
		}
	}
	wrong("wrong-kafka.yaml", "TK_TEST_WRONG_PW", "TK_CLICKHOUSE_TLS_PASSWORD", "SASL_AUTHENTICATION_FAILED")
	wrong("wrong-clickhouse.yaml", "TK_KAFKA_SASL_PASSWORD", "TK_TEST_WRONG_PW", "Wrong password for user "+s.chUser)
}

// TestSecureSASLAgainstPlaintext: SASL settings against the plaintext
// listener fail in one line that says the listener does not take SASL.
func TestSecureSASLAgainstPlaintext(t *testing.T) {
	s := secureServices(t)
	s.kafka = testenv.Service(t, "TK_KAFKA")
	_, err := kafka.Connect(context.Background(), kafka.Config{Brokers: []string{s.kafka}, ConnectTimeout: 5 * time.Second,
		SASL: kafka.SASLConfig{Mechanism: "SCRAM-SHA-512", Username: s.kafkaUser}})
	if err == nil || !strings.Contains(err.Error(), "this listener does not take SASL") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("SASL against PLAINTEXT: %v", err)
	}
}

// TestSecureCollect runs `collect gnmi` against a simulated device with its
// samples going to Kafka over SASL_SSL, and reads them back over SASL_SSL.
func TestSecureCollect(t *testing.T) {
	s := secureServices(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := func(args ...string) <-chan string {
		done := make(chan string, 1)
		go func() {
			var out, errb bytes.Buffer
			code := execute(ctx, args, &out, &errb)
			done <- fmt.Sprintf("%s exit %d\n%s%s", args[0], code, out.String(), errb.String())
		}()
		return done
	}
	simDone := run("sim", "-c", writeFile(t, "sim.yaml", "sim:\n  interval: 1s\n  backfill: 5s\n"), "--serve", dir, "--tls", "--devices", "1", "--speed", "1")
	p := filepath.Join(dir, "collect-gnmi.yaml")
	var doc map[string]any
	for t0 := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(p); err == nil && yaml.Unmarshal(b, &doc) == nil && doc["collect"] != nil {
			break
		}
		if time.Since(t0) > 15*time.Second {
			cancel()
			t.Fatalf("sim --serve wrote no %s:\n%s", p, <-simDone)
		}
	}
	var kdoc map[string]any
	if err := yaml.Unmarshal([]byte(s.kafkaYAML("TK_KAFKA_SASL_PASSWORD")), &kdoc); err != nil {
		t.Fatal(err)
	}
	topic := "sec-" + s.id + ".collect"
	doc["kafka"], doc["topics"] = kdoc["kafka"], map[string]any{"samples": topic}
	doc["collect"].(map[string]any)["http"] = map[string]any{"listen": "off"}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	collectCfg := writeFile(t, "collect-gnmi.yaml", string(b))
	collectDone := run("collect", "gnmi", "-c", collectCfg)

	var kc struct {
		Kafka kafka.Config `yaml:"kafka"`
	}
	if err := yaml.Unmarshal([]byte(s.kafkaYAML("TK_KAFKA_SASL_PASSWORD")), &kc); err != nil {
		t.Fatal(err)
	}
	n, err := countRecords(ctx, kc.Kafka, topic, 3, 45*time.Second)
	cancel()
	for _, ch := range []<-chan string{simDone, collectDone} {
		if out := <-ch; !strings.Contains(out, "exit 0") {
			t.Errorf("%s", out)
		}
	}
	if err != nil || n < 3 {
		t.Fatalf("read %d sample batches from %s over SASL_SSL (%v), want at least 3", n, topic, err)
	}
}

// countRecords reads topic from the start until it has seen want records or
// timeout passes, and returns how many it saw.
func countRecords(ctx context.Context, kc kafka.Config, topic string, want int, timeout time.Duration) (int, error) {
	cl, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	n := 0
	for n < want && pctx.Err() == nil {
		n += cl.PollFetches(pctx).NumRecords()
	}
	return n, nil
}
