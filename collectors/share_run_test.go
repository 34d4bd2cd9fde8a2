package collectors

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestRunSNMPGroup runs two `collect snmp` (Run, in process) on one config
// with a group, on the real Kafka and snmpd: twelve targets (all the
// machine's snmpd under different names) are split between them, each
// polled by its owner; when one stops, the other owns all twelve and their
// samples keep arriving.
func TestRunSNMPGroup(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	addr := testenv.Service(t, "TK_SNMP_ADDR")
	testenv.Service(t, "TK_SNMP_COMMUNITY")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	topic := "share-snmp-" + id + ".samples"
	var y strings.Builder
	fmt.Fprintf(&y, "kafka: {brokers: [%s]}\ntopic: %s\nlog: {format: json}\n", broker, topic)
	fmt.Fprintf(&y, "group: {enabled: true, name: share-snmp-%s, topic: share-snmp-%s.control, buckets: 16, session_timeout: 6s}\n", id, id)
	y.WriteString("snmp:\n  defaults: {interval: 1s, mibs: [if]}\n  targets:\n")
	var all []string
	for i := range 12 {
		all = append(all, fmt.Sprintf("snmpd-%02d", i))
		fmt.Fprintf(&y, "    - {name: %s, address: %q, community: {env: TK_SNMP_COMMUNITY}}\n", all[i], addr)
	}
	path := filepath.Join(t.TempDir(), "collect.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var addrs []string
	var stops []context.CancelFunc
	var dones []chan error
	for range 2 {
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg.HTTP.Listen = freeAddr(t)
		addrs = append(addrs, cfg.HTTP.Listen)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- Run(rctx, "snmp", path, cfg, slog.New(slog.DiscardHandler)) }()
		stops, dones = append(stops, stop), append(dones, done)
	}
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	split := waitSplit(t, addrs, all)
	stops[0]()
	if err := <-dones[0]; err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	waitSplit(t, addrs[1:], all)
	t.Logf("split %d / %d; after the first stopped, the second owned all 12 in %v", len(split[0]), len(split[1]), time.Since(t0).Round(time.Millisecond))

	// Every target's samples arrive after the handover.
	rd, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(time.Now().UnixMilli())))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	seen := map[string]bool{}
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	for len(seen) < len(all) && rctx.Err() == nil {
		rd.PollFetches(rctx).EachRecord(func(r *kgo.Record) { seen[string(r.Key)] = true })
	}
	if len(seen) < len(all) {
		t.Fatalf("after the handover, samples of %d of %d targets: %v", len(seen), len(all), seen)
	}
	stops[1]()
	if err := <-dones[1]; err != nil {
		t.Fatal(err)
	}
}

// waitSplit waits until the collectors at addrs own every name of all
// exactly once, each at least one, by /targets.
func waitSplit(t *testing.T, addrs, all []string) [][]string {
	t.Helper()
	var got [][]string
	for t0 := time.Now(); time.Since(t0) < 30*time.Second; time.Sleep(100 * time.Millisecond) {
		got = make([][]string, len(addrs))
		seen := map[string]int{}
		ok := true
		for i, a := range addrs {
			resp, err := http.Get("http://" + a + "/targets")
			if err != nil {
				ok = false
				continue
			}
			var v struct{ Targets []string }
			_ = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			got[i] = v.Targets
			ok = ok && len(v.Targets) > 0
			for _, n := range v.Targets {
				seen[n]++
			}
		}
		for _, n := range all {
			ok = ok && seen[n] == 1
		}
		if ok {
			return got
		}
	}
	t.Fatalf("targets not owned exactly once: %v", got)
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
