package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// A file's collect section, with the file's kafka, topics and log, is what
// `telekernel collect` runs on; nothing is deprecated.
func TestCollectSection(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`kafka: {brokers: [k:9092]}
topics: {samples: tk.lab.samples, partitions: 3}
log: {level: debug}
collect:
  reload: 30s
  http: {listen: 127.0.0.1:9475}
  gnmi:
    targets: [{name: r1, address: "r1:6030"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Deprecated(); d != nil {
		t.Errorf("Deprecated() = %q", d)
	}
	cc, err := c.Collector()
	if err != nil {
		t.Fatal(err)
	}
	if cc.Topic != "tk.lab.samples" || cc.Partitions != 3 || cc.Log.Level != "debug" || cc.Reload != 30*time.Second ||
		cc.HTTP.Listen != "127.0.0.1:9475" || len(cc.GNMI.Targets) != 1 || cc.Kafka.Brokers[0] != "k:9092" || c.HTTP.Listen != DefaultHTTP {
		t.Errorf("collector config %+v (pipeline http %q)", cc, c.HTTP.Listen)
	}
	if err := cc.Validate(); err != nil {
		t.Errorf("the collector refuses what the file passed: %v", err)
	}
	// A reload reads the file the same way.
	n, err := cc.Parse("c.yaml", []byte("kafka: {brokers: [k:9092]}\ncollect:\n  gnmi:\n    targets: [{name: r1, address: \"r1:6030\"}, {name: r2, address: \"r2:6030\"}]\n"))
	if err != nil || len(n.GNMI.Targets) != 2 {
		t.Fatalf("reload: %v, %v", n, err)
	}
	d := Default()
	if d.Collect.HTTP.Listen != "127.0.0.1:9465" || d.Collect.Reload != 10*time.Second {
		t.Errorf("collect defaults: %+v", d.Collect)
	}
}

// A collector-only file of earlier releases loads as before (its http is
// the collector's endpoint, topic the samples topic), with exactly one
// line saying how to migrate; errors keep naming its fields and lines.
func TestLegacyCollectorFile(t *testing.T) {
	const old = `kafka: {brokers: [k:9092]}
topic: tk.old.samples
partitions: 2
reload: 5s
http: {listen: 127.0.0.1:9466}
gnmi:
  targets:
    - {name: r1, address: "r1:6030", username: u, password: {env: TK_TEST_GNMI_PW}}
`
	t.Setenv("TK_TEST_GNMI_PW", "pw")
	c, err := Parse("old.yaml", []byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Deprecated(); len(d) != 1 || d[0] != legacyNotice {
		t.Errorf("Deprecated() = %q, want exactly the notice", d)
	}
	cc, err := c.Collector()
	if err != nil {
		t.Fatal(err)
	}
	if cc.Topic != "tk.old.samples" || cc.Partitions != 2 || cc.Reload != 5*time.Second || cc.HTTP.Listen != "127.0.0.1:9466" ||
		len(cc.GNMI.Targets) != 1 || c.HTTP.Listen != DefaultHTTP {
		t.Errorf("migrated %+v (pipeline http %q)", cc, c.HTTP.Listen)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "gnmi.targets[0] (r1): ") {
		t.Errorf("Warnings() = %q", w)
	}
	// The same file in the new shape gives the same collector config.
	const cur = `kafka: {brokers: [k:9092]}
topics: {samples: tk.old.samples, partitions: 2}
collect:
  reload: 5s
  http: {listen: 127.0.0.1:9466}
  gnmi:
    targets:
      - {name: r1, address: "r1:6030", username: u, password: {env: TK_TEST_GNMI_PW}}
`
	n, err := Parse("new.yaml", []byte(cur))
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := n.Collector()
	cc.Parse, nc.Parse = nil, nil
	if !reflect.DeepEqual(cc, nc) {
		t.Errorf("old file\n %+v\nnew file\n %+v", cc, nc)
	}
	if w := n.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "collect.gnmi.targets[0] (r1): ") {
		t.Errorf("Warnings() = %q", w)
	}
}

// tls.enable (the ClickHouse sink's old spelling, now read by every TLS
// setting) turns TLS on wherever it is written, with one deprecation line
// per section.
func TestDeprecatedTLSEnable(t *testing.T) {
	t.Setenv("TK_TEST_GNMI_PW", "pw")
	c, err := Parse("c.yaml", []byte(`kafka: {brokers: [k:9092]}
collect:
  gnmi:
    defaults: {username: u, password: {env: TK_TEST_GNMI_PW}, tls: {enable: true}}
    targets: [{name: r1, address: "r1:6030"}, {name: r2, address: "r2:6030", tls: {enable: true}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range c.Collect.GNMI.Targets {
		if !tg.TLS.Enabled || tg.PlaintextCredentials() {
			t.Errorf("target %s: TLS off with tls.enable: true", tg.Name)
		}
	}
	want := []string{"collect.gnmi: tls.enable: deprecated spelling, write enabled: true"}
	if d := c.Deprecated(); !reflect.DeepEqual(d, want) {
		t.Errorf("Deprecated() = %q, want %q", d, want)
	}
}

// check refuses what collect would refuse, naming file, line and field as
// the file spells them.
func TestCheckRefusesWhatCollectRefuses(t *testing.T) {
	f := func(doc, want string) { t.Helper(); wantParseError(t, doc, want) }
	f("collect:\n  gnmi:\n    targets: [{name: r1, address: \"r1:6030\"}]\n", "bad.yaml: kafka.brokers: at least one broker is required to collect")
	f("kafka: {brokers: [k:9092]}\ncollect:\n  gnmi:\n    targets:\n      - {name: r1, address: nope}\n", "bad.yaml:5: collect.gnmi.targets[0].address")
	f("kafka: {brokers: [k:9092]}\ncollect:\n  snmp:\n    targets:\n      - {name: s1, address: 10.0.0.1}\n", "bad.yaml:5: collect.snmp.targets[0].community")
	f("kafka: {brokers: [k:9092]}\ncollect:\n  http: {listen: nope}\n", `bad.yaml:3: collect.http.listen: "nope" is not host:port`)
	f("kafka: {brokers: [k:9092]}\ncollect:\n  max_buffered_bytes: 10\n", "bad.yaml:3: collect.max_buffered_bytes: 10 is below 1 MiB")
	f("kafka: {brokers: [k:9092]}\ncollect:\n  max_batch_bytes: 8388608\n", "bad.yaml:3: collect.max_batch_bytes: 8388608 is above max_buffered_bytes (2097152): a record that large could never be buffered and would be lost; raise max_buffered_bytes with it")
	f("kafka: {brokers: [k:9092]}\ncollect:\n  gnmi:\n    flush_interval: 10\n", "bad.yaml:4: collect.gnmi.flush_interval: 10 is not a duration")
	f("kafka: {brokers: [k:9092]}\ncollect:\n  gnmi:\n    targetz: []\n", "bad.yaml:4: collect.gnmi.targetz: unknown field (did you mean targets?)")
	// A collector-only file keeps its own field names.
	f("kafka: {brokers: [k:9092]}\ngnmi:\n  targets:\n    - {name: r1, address: nope}\n", "bad.yaml:4: gnmi.targets[0].address")
	f("gnmi: {targets: [{name: r1, address: \"r1:6030\"}]}\n", "bad.yaml: kafka.brokers: at least one broker is required")
	f("kafka: {brokers: [k:9092]}\nreload: 5s\ncollect: {reload: 5s}\n", "bad.yaml:3: collect: set beside top-level collector fields")
}

// wantParseError fails t unless parsing doc as bad.yaml fails with one line
// starting with want.
func wantParseError(t *testing.T, doc, want string) {
	t.Helper()
	_, err := Parse("bad.yaml", []byte(doc))
	if err == nil {
		t.Fatalf("%q: want an error", doc)
	}
	if got := err.Error(); !strings.HasPrefix(got, want) || strings.Contains(got, "\n") {
		t.Errorf("got  %q\nwant prefix %q", got, want)
	}
}
