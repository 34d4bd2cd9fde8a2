package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	simpkg "github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// shareSession is the group session timeout of TestCollectorsShareTargets.
const shareSession = 6 * time.Second

// TestCollectorsShareTargets runs `sim --serve` with many gNMI devices and
// three `telekernel collect gnmi` processes (the built binary) on one
// config with a group: section, on the real Kafka. Every device must be
// collected by exactly one process (its /targets and its
// telekernel_gnmi_target_up); after one process is killed with SIGKILL,
// the other two must collect all devices again within the session timeout
// + 10 s; a process that joins then takes a share, within the same bound. In the samples topic, no device may have a gap longer than that,
// and any (series, ts) published twice must carry the same value (so that
// per-series dedup removes it). TK_SHARE_DEVICES sizes the fleet (default
// 90).
func TestCollectorsShareTargets(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	if testing.Short() {
		t.Skip("scale-out test skipped in -short mode")
	}
	devices := 90
	if v, err := strconv.Atoi(os.Getenv("TK_SHARE_DEVICES")); err == nil && v > 0 {
		devices = v
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	id := hex.EncodeToString(idb)
	topic := "share-" + id + ".samples"

	simCfg := filepath.Join(dir, "sim.yaml")
	if err := os.WriteFile(simCfg, []byte("sim:\n  interval: 1s\n  backfill: 2s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fleet := filepath.Join(dir, "fleet")
	sim := startProc(t, "sim", bin, "sim", "-c", simCfg, "--serve", fleet, "--devices", strconv.Itoa(devices), "--speed", "1", "--kafka", broker)
	cfg := shareConfig(t, fleet, topic, id)

	var ps []*proc
	var addrs []string
	for i := range 3 {
		addr := freeAddr(t)
		addrs = append(addrs, addr)
		ps = append(ps, startProc(t, fmt.Sprintf("collect-%d", i), bin, "collect", "gnmi", "-c", cfg, "--http", addr))
	}
	all := make([]string, devices)
	for i := range all {
		all[i] = simpkg.DeviceName(i)
	}
	t0 := time.Now()
	owners := waitOwners(t, addrs, all, 90*time.Second, ps)
	t.Logf("%d devices shared by 3 processes after %v: %d, %d, %d", devices, time.Since(t0).Round(time.Millisecond),
		len(owners[0]), len(owners[1]), len(owners[2]))
	for i, o := range owners {
		if len(o) < devices/6 || len(o) > devices/2 {
			t.Errorf("process %d owns %d of %d devices: outside a sixth to a half", i, len(o), devices)
		}
	}
	time.Sleep(8 * time.Second) // steady collection before the kill

	killed := ps[0]
	_ = killed.cmd.Process.Signal(syscall.SIGKILL)
	<-killed.done
	tk := time.Now()
	bound := shareSession + 10*time.Second
	waitOwners(t, addrs[1:], all, bound, ps[1:])
	failover := time.Since(tk)
	t.Logf("after SIGKILL of a process owning %d devices, the other two collect all %d after %v (bound %v)",
		len(owners[0]), devices, failover.Round(time.Millisecond), bound)
	time.Sleep(8 * time.Second) // collection after the failover

	// A process joins (the killed one restarted): it takes a share from the
	// two live ones, which stop those devices before it subscribes.
	live := []*proc{ps[1], ps[2], startProc(t, "collect-3", bin, "collect", "gnmi", "-c", cfg, "--http", freeAddrInto(t, &addrs))}
	tj := time.Now()
	after := waitOwners(t, addrs[1:], all, bound, live)
	t.Logf("a process joins: it collects %d devices after %v", len(after[2]), time.Since(tj).Round(time.Millisecond))
	time.Sleep(6 * time.Second) // collection after the join
	for _, p := range append(live, sim) {
		p.stop(t)
	}
	for _, p := range append(ps, live[2]) {
		for _, l := range strings.Split(p.log.String(), "\n") {
			if strings.Contains(l, `"msg":"rebalance"`) {
				t.Logf("%s: %s", p.name, l)
			}
		}
	}
	// Devices moved at the join only (not also at the kill), so that each
	// gap below belongs to one event.
	joined := slices.DeleteFunc(slices.Clone(after[2]), func(d string) bool { return slices.Contains(owners[0], d) })
	checkSamples(t, broker, topic, all, map[string][]string{"moved at the kill": owners[0], "moved at the join only": joined}, bound)
}

// readSamples calls fn with every sample in topic, from the start to the
// end offsets it has when called.
func readSamples(t *testing.T, broker, topic string, fn func(schemas.Sample)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	for len(left) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
			rec, err := schemas.DecodeSamplesValue(memory.NewGoAllocator(), r.Value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := schemas.Samples(rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range got {
				fn(s)
			}
		})
	}
	if len(left) > 0 {
		t.Fatalf("could not read the samples topic to its end: %v", left)
	}
}

// freeAddrInto appends a free local address to addrs and returns it.
func freeAddrInto(t *testing.T, addrs *[]string) string {
	a := freeAddr(t)
	*addrs = append(*addrs, a)
	return a
}

// checkSamples reads the whole samples topic and checks, per device, that
// consecutive timestamps are never more than bound apart and that the
// last one is within bound of the newest of all; and that a (series, ts)
// published twice carries the same value both times.
func checkSamples(t *testing.T, broker, topic string, all []string, groups map[string][]string, bound time.Duration) {
	t.Helper()
	type seriesTS struct {
		s  schemas.SeriesKey
		ts int64
	}
	values := map[seriesTS]string{}
	ticks := map[string]map[int64]bool{}
	rows, dups, conflicts := 0, 0, 0
	dupDevices := map[string]bool{}
	readSamples(t, broker, topic, func(s schemas.Sample) {
		rows++
		k := seriesTS{schemas.SeriesKey{Device: s.Device, Metric: s.Metric, Keys: s.Keys}, s.TS}
		v := fmt.Sprint(s.Kind, s.U64, s.F64, s.Str)
		if old, ok := values[k]; ok {
			if dups < 5 {
				t.Logf("published twice: %+v at %s", k.s, time.Unix(0, k.ts).UTC().Format(time.RFC3339Nano))
			}
			dups++
			dupDevices[s.Device] = true
			if old != v {
				conflicts++
			}
		}
		values[k] = v
		if ticks[s.Device] == nil {
			ticks[s.Device] = map[int64]bool{}
		}
		ticks[s.Device][s.TS] = true
	})
	var newest int64
	for _, ts := range ticks {
		for x := range ts {
			newest = max(newest, x)
		}
	}
	group := map[string]string{}
	for name, ds := range groups {
		for _, d := range ds {
			group[d] = name
		}
	}
	gaps := map[string]time.Duration{}
	for _, d := range all {
		ts := slices.Sorted(maps.Keys(ticks[d]))
		if len(ts) < 2 {
			t.Errorf("device %s: %d timestamps in the topic", d, len(ts))
			continue
		}
		gap := time.Duration(newest - ts[len(ts)-1])
		for i := 1; i < len(ts); i++ {
			gap = max(gap, time.Duration(ts[i]-ts[i-1]))
		}
		if gap > bound {
			t.Errorf("device %s (%s): a gap of %v in its timestamps, more than %v", d, group[d], gap, bound)
		}
		k := cmp.Or(group[d], "not moved after the start")
		gaps[k] = max(gaps[k], gap)
	}
	dupGroups := map[string]int{}
	for d := range dupDevices {
		dupGroups[cmp.Or(group[d], "not moved after the start")]++
	}
	t.Logf("%d rows; longest gap per device: %v; (series, ts) published twice: %d (devices by group: %v), with different values: %d",
		rows, gaps, dups, dupGroups, conflicts)
	if conflicts > 0 {
		t.Errorf("%d (series, ts) published twice with different values: dedup cannot remove them", conflicts)
	}
}

// shareConfig writes the collector config for the test from the one sim
// --serve wrote: the test's topic, a group with a short session, JSON logs.
func shareConfig(t *testing.T, fleet, topic, id string) string {
	t.Helper()
	p := filepath.Join(fleet, "collect-gnmi.yaml")
	var doc map[string]any
	for t0 := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(p)
		if err == nil && yaml.Unmarshal(b, &doc) == nil && doc["collect"] != nil {
			break
		}
		if time.Since(t0) > 30*time.Second {
			t.Fatalf("sim --serve wrote no %s", p)
		}
	}
	doc["topics"] = map[string]any{"samples": topic}
	doc["log"] = map[string]any{"format": "json"}
	doc["collect"].(map[string]any)["group"] = map[string]any{"enabled": true, "name": "share-" + id, "topic": "share-" + id + ".control",
		"buckets": 64, "session_timeout": shareSession.String()}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(fleet, "collect-share.yaml")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// startProc starts the binary with args, its output in a buffer; name
// names it in failures.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: &testenv.LogBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
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

// waitOwners waits until the processes at addrs own every name of all
// exactly once, each at least one, by /targets and by telekernel_gnmi_target_up (the
// subscription is up), and returns each one's targets.
func waitOwners(t *testing.T, addrs, all []string, within time.Duration, ps []*proc) [][]string {
	t.Helper()
	var last []string
	for t0 := time.Now(); time.Since(t0) < within && !anyExited(ps); time.Sleep(200 * time.Millisecond) {
		owners := make([][]string, len(addrs))
		seen := map[string]int{}
		ok := true
		for i, a := range addrs {
			owned, up, err := scrapeOwned(a)
			if err != nil {
				ok = false
				break
			}
			slices.Sort(owned)
			if !slices.Equal(owned, up) {
				ok = false // a subscription not up yet, or a stopped one not gone yet
			}
			owners[i] = owned
			if len(owned) == 0 {
				ok = false // every process takes a share
			}
			for _, n := range owned {
				seen[n]++
			}
		}
		last = last[:0]
		for _, n := range all {
			if seen[n] != 1 {
				ok = false
				last = append(last, fmt.Sprintf("%s×%d", n, seen[n]))
			}
		}
		if ok {
			return owners
		}
	}
	for _, p := range ps {
		t.Logf("%s:\n%s", p.name, tail(p.log.String(), 15))
	}
	t.Fatalf("targets not owned exactly once within %v (or a process exited): %v", within, last)
	return nil
}

// anyExited reports whether one of ps has exited (its exit stays readable
// on done).
func anyExited(ps []*proc) bool {
	for _, p := range ps {
		select {
		case err := <-p.done:
			p.done <- err
			return true
		default:
		}
	}
	return false
}

// scrapeOwned returns the /targets list of the collector at addr and the
// targets whose telekernel_gnmi_target_up is 1, sorted.
func scrapeOwned(addr string) (owned, up []string, err error) {
	resp, err := http.Get("http://" + addr + "/targets")
	if err != nil {
		return nil, nil, err
	}
	var v struct{ Targets []string }
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, `telekernel_gnmi_target_up{target="`); ok && strings.HasSuffix(l, "} 1") {
			up = append(up, rest[:strings.IndexByte(rest, '"')])
		}
	}
	slices.Sort(up)
	return v.Targets, up, sc.Err()
}
