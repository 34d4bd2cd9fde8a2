package snmp

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// procNetDev reads the receive and transmit byte counters of each
// interface from /proc/net/dev, which Net-SNMP's IF-MIB reads too.
func procNetDev(t *testing.T) map[string][2]uint64 {
	t.Helper()
	f, err := os.Open("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][2]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) < 9 {
			continue
		}
		rx, _ := strconv.ParseUint(fs[0], 10, 64)
		tx, _ := strconv.ParseUint(fs[8], 10, 64)
		out[strings.TrimSpace(name)] = [2]uint64{rx, tx}
	}
	return out
}

func snmpdTargets(t *testing.T) []Target {
	addr := testenv.Service(t, "TK_SNMP_ADDR")
	for _, v := range []string{"TK_SNMP_COMMUNITY", "TK_SNMP_V3_USER", "TK_SNMP_V3_USER256", "TK_SNMP_V3_AUTH_PASS", "TK_SNMP_V3_PRIV_PASS"} {
		testenv.Service(t, v)
	}
	auth, priv := secret.Source{Env: "TK_SNMP_V3_AUTH_PASS"}, secret.Source{Env: "TK_SNMP_V3_PRIV_PASS"}
	return []Target{
		{Name: "snmpd-v2c", Address: addr, Community: secret.Source{Env: "TK_SNMP_COMMUNITY"}},
		{Name: "snmpd-v3-sha", Address: addr, Version: "v3", V3: V3{Username: os.Getenv("TK_SNMP_V3_USER"),
			AuthProtocol: "SHA", AuthPassword: auth, PrivProtocol: "AES", PrivPassword: priv}},
		{Name: "snmpd-v3-sha256", Address: addr, Version: "v3", V3: V3{Username: os.Getenv("TK_SNMP_V3_USER256"),
			AuthProtocol: "SHA-256", AuthPassword: auth, PrivProtocol: "AES", PrivPassword: priv}},
	}
}

// TestSnmpdIfMIB polls the machine's own snmpd over v2c and v3 authPriv
// (SHA/AES and SHA-256/AES) and checks the interface octet counters
// against /proc/net/dev.
func TestSnmpdIfMIB(t *testing.T) {
	for _, tg := range snmpdTargets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			before := procNetDev(t)
			got := pollSamples(t, tg, &state{})
			after := procNetDev(t)
			checked := 0
			for _, s := range got {
				if s.Metric != schemas.MetricInOctets && s.Metric != schemas.MetricOutOctets {
					continue
				}
				name := strings.TrimPrefix(s.Keys, "name=")
				b, ok1 := before[name]
				a, ok2 := after[name]
				if !ok1 || !ok2 {
					continue
				}
				i := 0
				if s.Metric == schemas.MetricOutOctets {
					i = 1
				}
				// snmpd caches interface statistics for a few seconds, so
				// its value may trail /proc a little: allow 1% or 4 MiB
				// below, nothing above what /proc showed afterwards.
				slack := max(b[i]/100, 4<<20)
				if s.U64 > a[i] || s.U64+slack < b[i] {
					t.Errorf("%s %s: snmp %d, /proc/net/dev between %d and %d", name, s.Metric, s.U64, b[i], a[i])
				}
				checked++
			}
			if checked < 2 {
				t.Fatalf("checked %d counters; samples: %+v", checked, got)
			}
			var oper, admin int
			for _, s := range got {
				if s.Metric == schemas.MetricOperStatus && s.Keys == "name=lo" {
					oper++
					if s.Str != "UP" && s.Str != "UNKNOWN" {
						t.Errorf("lo oper-status %q", s.Str)
					}
				}
				if s.Metric == schemas.MetricAdminStatus && s.Keys == "name=lo" {
					admin++
					if s.Str != "UP" {
						t.Errorf("lo admin-status %q", s.Str)
					}
				}
			}
			if oper != 1 || admin != 1 {
				t.Errorf("%d oper-status and %d admin-status samples of lo, want 1 each", oper, admin)
			}
		})
	}
}

// TestSnmpdToKafka runs the collector against snmpd (v2c and both v3
// users) for a few polls into a real Kafka, and reads back exactly the rows
// it published.
func TestSnmpdToKafka(t *testing.T) {
	targets := snmpdTargets(t)
	broker := testenv.Service(t, "TK_KAFKA")
	ctx := context.Background()
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc, kgo.MaxBufferedBytes(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topic := fmt.Sprintf("tk.samples.snmp-test-%d", time.Now().UnixNano())
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	pub, err := publish.New(cl, publish.Config{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	for i := range targets {
		targets[i].Interval = 300 * time.Millisecond
	}
	c, err := New(Config{Targets: targets, Workers: 2}, pub, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for c.Stats().Polls < 6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Polls < 6 || st.Failures != 0 {
		t.Fatalf("stats %+v", st)
	}
	if ps := pub.Stats(); ps.Samples != st.Samples || ps.Errors != 0 {
		t.Fatalf("publisher %+v, collector %+v", ps, st)
	}
	rd, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rows := map[string]int{}
	total := int64(0)
	pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
	defer pcancel()
	for total < st.Samples && pctx.Err() == nil {
		rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			var hs []schemas.Header
			for _, h := range r.Headers {
				hs = append(hs, schemas.Header{Key: h.Key, Value: h.Value})
			}
			rec, err := schemas.DecodeSamples(memory.DefaultAllocator, hs, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			samples, _ := schemas.Samples(rec)
			rec.Release()
			for _, s := range samples {
				if s.Device != string(r.Key) || s.Source != schemas.SourceSNMP {
					t.Fatalf("row %+v in record keyed %s", s, r.Key)
				}
				rows[s.Device]++
			}
			total += int64(len(samples))
		})
	}
	if total != st.Samples {
		t.Fatalf("read %d rows, the collector published %d", total, st.Samples)
	}
	for _, tg := range targets {
		if rows[tg.Name] == 0 {
			t.Fatalf("no rows of %s: %v", tg.Name, rows)
		}
	}
}
