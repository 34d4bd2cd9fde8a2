package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// The day all test data lives on.
var testDay = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

const (
	metricInOctets = "/interfaces/interface/state/counters/in-octets"
	metricOper     = "/interfaces/interface/state/oper-status"
	metricTemp     = "/components/component/state/temperature/instant"
)

// testServerAddr returns the ClickHouse address for integration tests, or
// skips the test when none is configured. Under TK_INTEGRATION=1 (make test)
// a server is required, so a missing one fails the test in newTestSink.
func testServerAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("TK_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("TK_INTEGRATION") != "1" {
			t.Skip("skipping ClickHouse integration test: set TK_CLICKHOUSE=host:port (deploy/local/clickhouse.sh start serves 127.0.0.1:9000) or TK_INTEGRATION=1")
		}
		addr = "127.0.0.1:9000"
	}
	return addr
}

// testLogger logs through t.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newTestSink connects to the test server with a fresh database
// tk_test_<random>, which is dropped when the test ends. opts follow the
// test logger, so a WithLogger among them wins.
func newTestSink(t testing.TB, mod func(*Config), opts ...Option) *Sink {
	t.Helper()
	addr := testServerAddr(t)
	var r [6]byte
	_, _ = rand.Read(r[:])
	cfg := Config{Addr: []string{addr}, Database: "tk_test_" + hex.EncodeToString(r[:])}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, cfg, append([]Option{WithLogger(testLogger(t))}, opts...)...)
	if err != nil {
		t.Fatalf("ClickHouse integration test needs a server at %s (deploy/local/clickhouse.sh start): %v", addr, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+s.db); err != nil {
			t.Errorf("cannot drop test database %s: %v", cfg.Database, err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// fleet returns samples of a simulated fleet on testDay: per device and
// interface an in-octets counter every 30 s starting above 2^53 (one
// interface near 2^64), an oper-status state every 10 minutes, and a
// temperature gauge per device every 30 s. Timestamps have nanosecond
// fractions, including 0 and 999999999.
func fleet(devices, ifaces, steps int) []schemas.Sample {
	rng := mrand.New(mrand.NewPCG(1, 2))
	var out []schemas.Sample
	for d := 1; d <= devices; d++ {
		dev := fmt.Sprintf("edge%d", d)
		src := schemas.SourceGNMI
		if d%3 == 0 {
			src = schemas.SourceSNMP
		}
		for i := 1; i <= ifaces; i++ {
			keys := fmt.Sprintf("name=Ethernet%d", i)
			ctr := uint64(1)<<60 + uint64(d)*1_000_000_000_007 + uint64(i)*13
			if i == ifaces {
				ctr = math.MaxUint64 - uint64(steps)*20_000_000_000 - uint64(d)
			}
			rate := uint64(d*i) * 1_000_000 // bytes/s
			for k := 0; k < steps; k++ {
				ts := testDay.Add(time.Duration(k) * 30 * time.Second).UnixNano()
				switch k % 4 {
				case 1:
					ts += 999_999_999
				case 2:
					ts += rng.Int64N(1_000_000_000)
				case 3:
					ts += 1 // ns precision
				}
				ctr += rate*30 + uint64(rng.IntN(1000))
				out = append(out, schemas.Sample{TS: ts, Device: dev, Metric: metricInOctets, Keys: keys,
					Kind: schemas.KindCounter, U64: ctr, Source: src})
				if k%20 == 0 {
					st := "UP"
					if (k/20+d+i)%5 == 0 {
						st = "DOWN"
					}
					out = append(out, schemas.Sample{TS: ts + 7, Device: dev, Metric: metricOper, Keys: keys,
						Kind: schemas.KindState, Str: st, Source: src})
				}
			}
		}
		for k := 0; k < steps; k++ {
			ts := testDay.Add(time.Duration(k)*30*time.Second + 123_456_789).UnixNano()
			temp := 30 + float64(d) + float64(rng.IntN(1000))/100
			out = append(out, schemas.Sample{TS: ts, Device: dev, Metric: metricTemp, Keys: "name=CPU0",
				Kind: schemas.KindGauge, F64: temp, Source: src})
		}
	}
	// A few unusual values.
	out = append(out,
		schemas.Sample{TS: testDay.Add(time.Hour).UnixNano() + 42, Device: "edge1", Metric: "/system/state/hostname", Kind: schemas.KindState, Str: "édge-1 ✓", Source: schemas.SourceGNMI},
		schemas.Sample{TS: testDay.Add(2 * time.Hour).UnixNano(), Device: "edge1", Metric: "/system/memory/state/free", Kind: schemas.KindGauge, F64: -0.5e-300, Source: schemas.SourceSim},
		schemas.Sample{TS: testDay.Add(3 * time.Hour).UnixNano(), Device: "edge2", Metric: "/system/state/boot-count", Kind: schemas.KindCounter, U64: 1<<53 + 1, Source: schemas.SourceSNMP},
	)
	return out
}

// records builds samples records of at most per rows each from mem. The
// caller releases them.
func records(mem memory.Allocator, rows []schemas.Sample, per int) []arrow.RecordBatch {
	b := schemas.NewSampleBuilder(mem)
	defer b.Release()
	var out []arrow.RecordBatch
	for i := range rows {
		b.Append(&rows[i])
		if b.Len() == per {
			out = append(out, b.NewRecord())
		}
	}
	if b.Len() > 0 {
		out = append(out, b.NewRecord())
	}
	return out
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// sortSamples orders samples by the table's sort key.
func sortSamples(s []schemas.Sample) {
	sort.Slice(s, func(i, j int) bool {
		a, b := &s[i], &s[j]
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		if a.Keys != b.Keys {
			return a.Keys < b.Keys
		}
		if a.TS != b.TS {
			return a.TS < b.TS
		}
		return a.Source < b.Source
	})
}

// testDetections returns n valid detections on testDay: device edgeK gets
// more firings the smaller K is, and every third alert resolves.
func testDetections(n int) []schemas.Detection {
	var out []schemas.Detection
	for i := 0; i < n; i++ {
		dev := fmt.Sprintf("edge%d", 1+(i*i+i/40)%9)
		keys := fmt.Sprintf("name=Ethernet%d", 1+i%3)
		labels := schemas.AlertLabels(dev, metricInOctets, keys)
		ev := testDay.Add(time.Duration(i)*time.Minute + time.Duration(i*7919)%time.Second)
		d := schemas.Detection{
			Version: schemas.DetectionVersion, ID: fmt.Sprintf("det-%05d", i),
			EventTime: ev, DetectedAt: ev.Add(1500 * time.Millisecond), State: schemas.StateFiring,
			Device: dev, Metric: metricInOctets, Keys: keys,
			Detector: "mad", Detectors: []string{"mad", "ewma"}[:1+i%2],
			Score: float64(i%100) / 100, Severity: []string{schemas.SeverityInfo, schemas.SeverityWarning, schemas.SeverityCritical}[i%3],
			Observed: 1e9 + float64(i), Expected: 5e8, Band: schemas.Band{Lower: 4e8, Upper: 6e8 + 0.25},
			Labels:      labels,
			Annotations: map[string]string{"summary": fmt.Sprintf("in-octets rate on %s %s is high", dev, keys), "note": `quote " and \ back`},
			StartsAt:    ev.Add(-time.Duration(i%5) * time.Minute), Fingerprint: schemas.Fingerprint(labels),
		}
		if i%3 == 2 {
			d.State = schemas.StateResolved
			end := ev.Add(123 * time.Nanosecond)
			d.EndsAt = &end
		}
		if i == 0 {
			d.Annotations = nil
			d.Detectors = nil
		}
		out = append(out, d)
	}
	return out
}

var sqlBlock = regexp.MustCompile("(?s)```sql\n(-- query: ([a-z0-9-]+)\n.*?)```")

// readmeQueries returns the example queries of README.md by name, in order,
// with the database telekernel replaced by db.
func readmeQueries(t testing.TB, db string) (names []string, queries map[string]string) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	queries = map[string]string{}
	for _, m := range sqlBlock.FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[2])
		queries[m[2]] = strings.ReplaceAll(m[1], "telekernel.", db+".")
	}
	if len(names) != 3 {
		t.Fatalf("README.md has %d example queries (%v), want 3", len(names), names)
	}
	return names, queries
}

// expectedQueryResults computes the README queries' results from the rows
// inserted, as rows of cells (strings or float64).
func expectedQueryResults(samples []schemas.Sample, dets []schemas.Detection) map[string][][]any {
	out := map[string][][]any{}
	dayEnd := testDay.Add(24 * time.Hour).UnixNano()
	inDay := func(ns int64) bool { return ns >= testDay.UnixNano() && ns < dayEnd }

	// interface-rates
	type bucket struct {
		keys string
		t    int64
	}
	type agg struct {
		minV, maxV   uint64
		minTS, maxTS int64
		n            int
	}
	rates := map[bucket]*agg{}
	for _, s := range samples {
		if s.Metric != metricInOctets || s.Device != "edge1" || !inDay(s.TS) {
			continue
		}
		sec := s.TS / 1e9
		k := bucket{s.Keys, sec - sec%300}
		a := rates[k]
		if a == nil {
			a = &agg{minV: s.U64, maxV: s.U64, minTS: sec, maxTS: sec}
			rates[k] = a
		}
		a.minV, a.maxV = min(a.minV, s.U64), max(a.maxV, s.U64)
		a.minTS, a.maxTS = min(a.minTS, sec), max(a.maxTS, sec)
		a.n++
	}
	var bs []bucket
	for k, a := range rates {
		if a.n > 1 {
			bs = append(bs, k)
		}
	}
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].keys != bs[j].keys {
			return bs[i].keys < bs[j].keys
		}
		return bs[i].t < bs[j].t
	})
	for _, k := range bs {
		a := rates[k]
		bps := float64((a.maxV-a.minV)*8) / float64(a.maxTS-a.minTS)
		out["interface-rates"] = append(out["interface-rates"], []any{k.keys, time.Unix(k.t, 0).UTC().Format(time.DateTime), bps})
	}

	// top-devices-by-detections
	type devAgg struct {
		firings int
		fps     map[string]bool
		maxS    float64
	}
	byDev := map[string]*devAgg{}
	for _, d := range dets {
		if d.State != schemas.StateFiring || !inDay(d.EventTime.UnixNano()) {
			continue
		}
		a := byDev[d.Device]
		if a == nil {
			a = &devAgg{fps: map[string]bool{}}
			byDev[d.Device] = a
		}
		a.firings++
		a.fps[d.Fingerprint] = true
		a.maxS = max(a.maxS, d.Score)
	}
	var devs []string
	for d := range byDev {
		devs = append(devs, d)
	}
	sort.Slice(devs, func(i, j int) bool {
		if byDev[devs[i]].firings != byDev[devs[j]].firings {
			return byDev[devs[i]].firings > byDev[devs[j]].firings
		}
		return devs[i] < devs[j]
	})
	for i, d := range devs {
		if i == 5 {
			break
		}
		a := byDev[d]
		out["top-devices-by-detections"] = append(out["top-devices-by-detections"], []any{d, float64(a.firings), float64(len(a.fps)), a.maxS})
	}

	// fleet-temperature
	type tempAgg struct {
		lastTS     int64
		last, maxV float64
	}
	temps := map[string]*tempAgg{}
	for _, s := range samples {
		if s.Metric != metricTemp || !inDay(s.TS) {
			continue
		}
		a := temps[s.Device]
		if a == nil {
			a = &tempAgg{lastTS: s.TS, last: s.F64, maxV: s.F64}
			temps[s.Device] = a
		}
		if s.TS > a.lastTS {
			a.lastTS, a.last = s.TS, s.F64
		}
		a.maxV = max(a.maxV, s.F64)
	}
	devs = devs[:0]
	for d := range temps {
		devs = append(devs, d)
	}
	sort.Slice(devs, func(i, j int) bool {
		if temps[devs[i]].maxV != temps[devs[j]].maxV {
			return temps[devs[i]].maxV > temps[devs[j]].maxV
		}
		return devs[i] < devs[j]
	})
	for i, d := range devs {
		if i == 10 {
			break
		}
		out["fleet-temperature"] = append(out["fleet-temperature"], []any{d, temps[d].last, temps[d].maxV})
	}
	return out
}

func parseJSONObject(t testing.TB, s string) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not a JSON object of strings: %q: %v", s, err)
	}
	return m
}

// tlsConfig returns a Config for deploy/local's ClickHouse TLS port (its
// TLS user, database default), reached through a proxy, trusting the
// server's CA (serverCA, PEM) from a copy in cfg.TLS.CAFile, which the
// test may rewrite.
func tlsConfig(t *testing.T) (cfg Config, proxy *sinktest.Proxy, serverCA []byte) {
	t.Helper()
	addr := testenv.Service(t, "TK_CLICKHOUSE_TLS")
	user := testenv.Service(t, "TK_CLICKHOUSE_TLS_USER")
	testenv.Service(t, "TK_CLICKHOUSE_TLS_PASSWORD")
	serverCA, err := os.ReadFile(testenv.Service(t, "TK_TLS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	testenv.WriteFile(t, caFile, serverCA)
	proxy = sinktest.NewProxy(t, addr)
	return Config{Addr: []string{proxy.Addr()}, Database: "default", Username: user,
		Password: secret.Source{Env: "TK_CLICKHOUSE_TLS_PASSWORD"}, DialTimeout: 2 * time.Second,
		TLS: tlsfiles.Config{Enabled: true, CAFile: caFile}}, proxy, serverCA
}
