package collectors

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

func TestParseConfigErrors(t *testing.T) {
	f := func(yaml, want string) {
		t.Helper()
		_, err := ParseConfig("c.yaml", []byte(yaml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%q: got %v, want an error containing %q", yaml, err, want)
		}
	}
	f("kafka: {brokers: [a:1]}\nbogus: 1\n", "c.yaml:2: bogus: unknown field")
	f("kafka: {brokers: [a:1], tls: {enabled: true, ca_file: /nonexistent/ca.pem}}\n", "c.yaml:1: kafka.tls.ca_file: cannot read it")
	f("kafka: {brokers: [a:1], sasl: {mechanism: SCRAM-SHA-512, username: tk, password: {env: TK_TEST_UNSET_VAR}}}\n",
		"c.yaml:1: kafka.sasl.password: environment variable TK_TEST_UNSET_VAR is not set")
	f("kafka: {brokers: [a:1]}\nhttp:\n  listen: notanaddr\n", `c.yaml:3: http.listen: "notanaddr" is not host:port`)
	f("kafka: {brokers: [a:1]}\ngnmi:\n  targets:\n    - {name: r1, address: r1:6030, username: u, password: {file: /nonexistent/pw}}\n",
		"c.yaml:4: gnmi.targets[0].password: cannot read secret file")
	f("kafka: {brokers: [a:1]}\ngnmi:\n  targets:\n    - {name: r1, address: r1:6030, tls: {enabled: true, cert_file: /c.pem}}\n",
		"c.yaml:4: gnmi.targets[0].tls.key_file: required with cert_file")
	f("kafka: {brokers: [a:1]}\ngnmi:\n  flush_interval: 10\n", "c.yaml:3: gnmi.flush_interval: 10 is not a duration: give a unit, e.g. 10s")
	f("kafka: {brokers: [a:1]}\ngnmi:\n  targets:\n    - {name: r1, address: r1:6030}\n    - {name: r2, address: nope}\n",
		"c.yaml:5: gnmi.targets[1].address")
	f("kafka: {brokers: [a:1]}\nsnmp:\n  targets:\n    - {name: s1, address: 10.0.0.1}\n", "c.yaml:4: snmp.targets[0].community")
	f("kafka: {brokers: [a:1]}\nsnmp:\n  targets:\n    - {name: s1, address: 10.0.0.1, version: v3, v3: {username: u, priv_protocol: AES, priv_password: {env: X}}}\n",
		"snmp.targets[0].v3.auth_protocol")
	f("gnmi: {}\n", "kafka.brokers")
	f("kafka: {brokers: [a:1]}\nmax_batch_bytes: 100\n", "c.yaml:2: max_batch_bytes: 100 is not between")
	f("kafka: {brokers: [a:1]}\ngnmi:\n  targets:\n    - {name: r1, address: r1:6030, max_cache_bytes: 1000}\n",
		"gnmi.targets[0].max_cache_bytes: 1000 is below the minimum")
	f("kafka: {brokers: [a:1]}\ngroup:\n  enabled: true\n  buckets: 5000\n", "c.yaml:4: group.buckets: 5000 is not between 1 and 1024")
	f("kafka: {brokers: [a:1]}\ngroup:\n  enabled: true\n  session_timeout: 1s\n", "c.yaml:4: group.session_timeout: 1s is outside the broker's usual bounds")
	f("kafka: {brokers: [a:1]}\ngroup:\n  enabled: true\n  topic: \"a b\"\n", "c.yaml:4: group.topic:")
	t.Setenv("GNMI_PW", "x")
	c, err := ParseConfig("c.yaml", []byte("kafka: {brokers: [a:1]}\ngnmi:\n  defaults: {username: admin, password: {env: GNMI_PW}}\n  targets: [{name: r1, address: r1:6030}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tg := c.GNMI.Targets[0]; tg.Username != "admin" || c.Topic != "tk.samples" || len(c.GNMI.Subscriptions) != 1 ||
		tg.MaxPast != gnmi.DefaultMaxPast || tg.MaxFuture != gnmi.DefaultMaxFuture || tg.MaxCacheBytes != gnmi.DefaultMaxCacheBytes {
		t.Fatalf("defaults not applied: %+v", c.GNMI)
	}
}

// TestRunReloadsTargets runs `collect gnmi` on a config with one device,
// then adds a second to the file: it is collected without a restart.
func TestRunReloadsTargets(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	fleet, a := simDevices(t, 2)
	tg := a.Targets()
	path := filepath.Join(t.TempDir(), "collect.yaml")
	write := func(n int) {
		var b strings.Builder
		fmt.Fprintf(&b, "kafka: {brokers: [%s]}\ntopic: samples\nreload: 50ms\nhttp: {listen: \"127.0.0.1:0\"}\n", cluster.ListenAddrs()[0])
		b.WriteString("gnmi:\n  flush_interval: 20ms\n  subscriptions: [{name: all, paths: [/]}]\n  targets:\n")
		for _, x := range tg[:n] {
			fmt.Fprintf(&b, "    - {name: %s, address: %q}\n", x.Name, x.Addr)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(1)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, "gnmi", path, cfg, slog.New(slog.DiscardHandler)) }()
	waitSubs := func(n int64) {
		deadline := time.Now().Add(10 * time.Second)
		for a.Stats().Subscribers != n {
			if time.Now().After(deadline) {
				t.Fatalf("%d subscribers, want %d", a.Stats().Subscribers, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSubs(1)
	time.Sleep(100 * time.Millisecond) // the initial sync
	write(2)
	waitSubs(2)
	time.Sleep(100 * time.Millisecond)
	for range 3 {
		if _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Read until both devices' three steps are there.
	rd, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	per := fleet.SeriesPerDevice() + 2
	// + each target's state and reason when it came up (gnmi/targetstate.go).
	want := 3*per + 2
	rows := map[string]int{}
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	for (rows["sim-00"] < want || rows["sim-01"] < want) && rctx.Err() == nil {
		rd.PollFetches(rctx).EachRecord(func(r *kgo.Record) { countRows(t, r, rows) })
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rows["sim-00"] != want || rows["sim-01"] != want {
		t.Fatalf("rows %v, want %d each", rows, want)
	}
}

// simDevices serves n simulated devices (one interface each, no faults)
// over gNMI until the test ends.
func simDevices(t *testing.T, n int) (*sim.Fleet, *agent.Agent) {
	t.Helper()
	fleet, err := sim.New(sim.Config{Devices: n, Interfaces: 1, Start: time.Now().Add(-time.Hour), Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{}, fleet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return fleet, a
}

func countRows(t *testing.T, r *kgo.Record, rows map[string]int) {
	t.Helper()
	var hs []schemas.Header
	for _, h := range r.Headers {
		hs = append(hs, schemas.Header{Key: h.Key, Value: h.Value})
	}
	rec, err := schemas.DecodeSamples(memory.DefaultAllocator, hs, r.Value)
	if err != nil {
		t.Fatal(err)
	}
	rows[string(r.Key)] += int(rec.NumRows())
	rec.Release()
}

// TestPlaintextCredentialsWarnOncePerTarget: a gNMI target with a username
// and no TLS is warned about once, across reloads, and a TLS target never.
func TestPlaintextCredentialsWarnOncePerTarget(t *testing.T) {
	t.Setenv("TK_TEST_GNMI_PW", "hunter2")
	doc := "kafka: {brokers: [a:1]}\ngnmi:\n  defaults: {username: admin, password: {env: TK_TEST_GNMI_PW}}\n  targets:\n" +
		"    - {name: r1, address: r1:6030}\n    - {name: r2, address: r2:6030, tls: {enabled: true}}\n"
	c1, err := ParseConfig("c.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := ParseConfig("c.yaml", []byte(doc+"    - {name: r3, address: r3:6030}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := c2.Warnings(); len(w) != 2 || !strings.HasPrefix(w[0], "gnmi.targets[0] (r1): ") || !strings.HasPrefix(w[1], "gnmi.targets[2] (r3): ") {
		t.Errorf("warnings: %q", w)
	}
	var buf strings.Builder
	warn := warnRisky(slog.New(slog.NewTextHandler(&buf, nil)))
	warn(c1)
	warn(c1) // a reload with the same targets
	warn(c2) // a reload adding r3
	out := buf.String()
	if strings.Count(out, "level=WARN") != 2 || strings.Count(out, "target=r1@") != 1 || strings.Count(out, "target=r3@") != 1 ||
		strings.Contains(out, "r2@") || strings.Contains(out, "hunter2") {
		t.Errorf("log: %s", out)
	}
}

// TestBatchBytesFromTopic: with max_batch_bytes unset, the record limit is
// learned from the real broker's topic config; set, it is kept.
func TestBatchBytesFromTopic(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	ctx := context.Background()
	cl, err := kafka.Connect(ctx, kafka.Config{Brokers: []string{broker}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topic := fmt.Sprintf("tk.samples.limit-%d", time.Now().UnixNano())
	limit := "300000"
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &limit}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if got := batchBytes(ctx, cl, &Config{Topic: topic}, log); got != 300000-16<<10 {
		t.Fatalf("learned %d, want %d", got, 300000-16<<10)
	}
	if got := batchBytes(ctx, cl, &Config{Topic: topic, Section: Section{MaxBatchBytes: 100 << 10}}, log); got != 100<<10 {
		t.Fatalf("configured 100 KiB, got %d", got)
	}
	if got := batchBytes(ctx, cl, &Config{Topic: "tk.no-such-topic-" + topic}, log); got != publish.DefaultMaxBatchBytes {
		t.Fatalf("unknown topic: %d, want the default", got)
	}
}

// TestWeakSNMPv3Warns: an SNMPv3 target below authPriv, or on MD5 or DES,
// is a warning of check and of collect snmp (once per target, across
// reloads); SHA-256/AES and v2c are not.
func TestWeakSNMPv3Warns(t *testing.T) {
	t.Setenv("TK_TEST_SNMP_PW", "hunter2hunter2")
	pw := "{env: TK_TEST_SNMP_PW}"
	doc := "kafka: {brokers: [a:1]}\nsnmp:\n  targets:\n" +
		"    - {name: ok, address: a, version: v3, v3: {username: u, auth_protocol: SHA-256, auth_password: " + pw + ", priv_protocol: AES, priv_password: " + pw + "}}\n" +
		"    - {name: v2, address: b, community: " + pw + "}\n" +
		"    - {name: none, address: c, version: v3, v3: {username: u}}\n" +
		"    - {name: nopriv, address: d, version: v3, v3: {username: u, auth_protocol: SHA, auth_password: " + pw + "}}\n" +
		"    - {name: md5, address: e, version: v3, v3: {username: u, auth_protocol: md5, auth_password: " + pw + ", priv_protocol: AES, priv_password: " + pw + "}}\n" +
		"    - {name: des, address: f, version: v3, v3: {username: u, auth_protocol: SHA, auth_password: " + pw + ", priv_protocol: DES, priv_password: " + pw + "}}\n"
	c, err := ParseConfig("c.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	want := []string{"snmp.targets[2] (none): ", "snmp.targets[3] (nopriv): ", "snmp.targets[4] (md5): ", "snmp.targets[5] (des): "}
	if len(w) != len(want) {
		t.Fatalf("warnings: %q", w)
	}
	for i := range want {
		if !strings.HasPrefix(w[i], want[i]) || strings.Contains(w[i], "hunter2") {
			t.Errorf("warning %d: %q, want %q...", i, w[i], want[i])
		}
	}
	var buf strings.Builder
	warn := warnRisky(slog.New(slog.NewTextHandler(&buf, nil)))
	warn(c)
	warn(c) // a reload with the same targets
	if out := buf.String(); strings.Count(out, "level=WARN") != 4 || strings.Contains(out, "hunter2") {
		t.Errorf("log: %s", out)
	}
}
