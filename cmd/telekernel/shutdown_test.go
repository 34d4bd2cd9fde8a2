package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Shutdown bounds stated in docs/how-it-works.md ("Stopping"): a stage process stops
// within pipeline.FinalFlushTimeout of SIGTERM however its sink fails; run
// adds its drain, at most drainTimeout (2 min) from the signal, and 5 s for
// closing. A process that takes longer fails the test; slack is only how
// much longer the test waits to report by how much.
const (
	stageStopBound = pipeline.FinalFlushTimeout
	runStopBound   = 2*time.Minute + pipeline.FinalFlushTimeout + 5*time.Second
	slack          = 5 * time.Second
)

// cutProxy forwards TCP connections to a target until cut; then its port
// is closed and the connections it carried are gone, as when the server
// stops.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// stopWithin sends one SIGTERM and waits for the exit: it fails the test
// unless the process exits within bound, and returns the time it took and
// the exit error.
func (p *proc) stopWithin(t *testing.T, bound time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		took := time.Since(start)
		if took > bound {
			t.Errorf("%s exited %v after one SIGTERM, beyond its bound %v", p.name, took.Round(time.Millisecond), bound)
		}
		return took, err
	case <-time.After(bound + slack):
		t.Fatalf("%s did not exit within %v of one SIGTERM (bound %v):\n%s", p.name, bound+slack, bound, tail(p.log.String(), 20))
	}
	return 0, nil
}

func waitLog(t *testing.T, p *proc, timeout time.Duration, what string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.Contains(p.log.String(), what); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within %v:\n%s", what, timeout, tail(p.log.String(), 20))
		}
	}
}

// clickhouseStageConfig writes the config of a `stage clickhouse` on
// broker whose topics and group are named after name, writing to
// database db at chAddr, with more clickhouse keys in extra (indented
// lines), and returns its path.
func clickhouseStageConfig(t *testing.T, broker, name, chAddr, db, extra string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "stage.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`kafka:
  brokers: [%s]
topics:
  samples: %[2]s.samples
  detections: %[2]s.detections
  dead_letters: %[2]s.deadletters
  power: %[2]s.power
  maintenance: %[2]s.maintenance
  group_prefix: %[2]s
inventory: {topic: %[2]s.inventory}
correlate: {topic: %[2]s.incidents, input: %[2]s.incidents.input}
clickhouse:
  addr: [%[3]s]
  database: %[4]s
%[5]shttp:
  listen: "off"
log:
  format: json
`, broker, name, chAddr, db, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestStageClickHouseDownStopsOnSIGTERM runs `stage clickhouse` on the real
// Kafka and a ClickHouse reached through a proxy, cuts the proxy (the port
// is then closed) while the stage holds rows it has not flushed, and sends
// one SIGTERM: the process exits within the stage bound, non-zero, with
// one line saying how many rows it did not flush.
func TestStageClickHouseDownStopsOnSIGTERM(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	chAddr := testenv.Service(t, "TK_CLICKHOUSE")
	chHTTP := testenv.Service(t, "TK_CLICKHOUSE_HTTP")
	bin := buildBinary(t)
	id := randomID()
	db := "tk_test_stop_" + id
	t.Cleanup(func() { chQuery(t, chHTTP, "DROP DATABASE IF EXISTS "+db) })
	proxy := newCutProxy(t, chAddr)
	cfg := clickhouseStageConfig(t, broker, "stop-"+id, proxy.ln.Addr().String(), db, "")
	p := startProc(t, "stage", bin, "stage", "clickhouse", "-c", cfg)
	waitLog(t, p, 60*time.Second, "schema applied")
	proxy.cut()
	produceSamples(t, broker, "stop-"+id+".samples", 500)
	waitLog(t, p, 60*time.Second, "flush failed; retrying with backoff")
	took, err := p.stopWithin(t, stageStopBound)
	t.Logf("exited in %v with %v; last lines:\n%s", took.Round(time.Millisecond), err, tail(p.log.String(), 3))
	if err == nil {
		t.Errorf("exit status 0 although rows were not flushed")
	}
	if !strings.Contains(p.log.String(), "clickhouse-samples: stopped without flushing 500 rows") {
		t.Errorf("no line saying the 500 rows were not flushed:\n%s", tail(p.log.String(), 5))
	}
}

// TestRunBrokenAlertmanagerStopsWithinBound runs the embedded default with
// an Alertmanager URL whose server accepts connections and never answers,
// and sends one SIGTERM: the drain waits for the Alertmanager stage at most
// its 2 minutes, the final flush at most FinalFlushTimeout, and the process
// exits within the run bound, non-zero, saying what was not flushed. It
// runs in parallel: it spends its 2 minutes waiting, and shares nothing
// (its own listener, data folder and embedded broker).
func TestRunBrokenAlertmanagerStopsWithinBound(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over 2 minutes; skipped in -short mode")
	}
	t.Parallel()
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			defer c.Close() // held open, never answered
		}
	}()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`alertmanager:
  url: http://%s
  source: detections
parquet:
  root: %s
sim:
  devices: 4
  labels_file: %s
http:
  listen: "off"
log:
  format: json
  level: info
`, ln.Addr(), filepath.Join(dir, "data"), filepath.Join(dir, "labels.jsonl"))), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "run", bin, "run", "-c", cfg, "--speed", "3000")
	for deadline := time.Now().Add(90 * time.Second); accepted.Load() == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("nothing was posted to Alertmanager within 90s (no detections?):\n%s", tail(p.log.String(), 20))
		}
	}
	took, err := p.stopWithin(t, runStopBound)
	t.Logf("exited in %v with %v; last lines:\n%s", took.Round(time.Millisecond), err, tail(p.log.String(), 3))
	if err == nil {
		t.Errorf("exit status 0 although alerts were not posted")
	}
	if !strings.Contains(p.log.String(), "alertmanager: stopped without flushing") {
		t.Errorf("no line saying what the Alertmanager stage did not flush:\n%s", tail(p.log.String(), 5))
	}
}

// chQuery runs a query over ClickHouse's HTTP interface and returns the
// trimmed answer.
func chQuery(t *testing.T, base, q string) string {
	t.Helper()
	resp, err := http.Post(base+"/?query="+url.QueryEscape(q), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// produceSamples writes n samples in one message to topic.
func produceSamples(t *testing.T, broker, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kafka.Connect(ctx, kafka.Config{Brokers: []string{broker}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	b := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer b.Release()
	ts := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := 0; i < n; i++ {
		b.Append(&schemas.Sample{TS: ts + int64(i)*int64(time.Second), Device: "d1", Metric: "/m", Kind: schemas.KindGauge, F64: float64(i), Source: "gnmi"})
	}
	rec := b.NewRecord()
	defer rec.Release()
	v, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: topic, Key: []byte("d1"), Value: v, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
