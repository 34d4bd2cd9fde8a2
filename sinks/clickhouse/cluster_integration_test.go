package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// The local cluster of deploy/local/clickhouse-cluster.sh: two nodes, and
// two clusters over them.
const (
	clusterNode1 = testenv.ClusterNode1
	clusterNode2 = testenv.ClusterNode2
	cluster1s2r  = testenv.ClusterOneShard  // one shard, two replicas
	cluster2s1r  = testenv.ClusterTwoShards // two shards
)

// clusterScript is deploy/local/clickhouse-cluster.sh, set by startCluster.
var clusterScript string

// TestMain stops the local ClickHouse cluster after the tests when a
// cluster test started it: it runs only for those tests.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopClickHouseCluster()
	os.Exit(code)
}

// startCluster starts the local cluster (ZooKeeper and two servers) once
// per test binary, or skips outside the integration suite.
func startCluster(t *testing.T) {
	t.Helper()
	clusterScript = testenv.ClickHouseCluster(t, filepath.Join("..", ".."))
}

// newClusterSink returns a sink on cluster with a fresh database, whose
// tables are dropped ON CLUSTER when the test ends.
func newClusterSink(t *testing.T, cluster string, mod func(*Config)) *Sink {
	t.Helper()
	startCluster(t)
	var r [6]byte
	_, _ = rand.Read(r[:])
	cfg := Config{Addr: []string{clusterNode1, clusterNode2}, Database: "tk_test_" + hex.EncodeToString(r[:]),
		Cluster: cluster, DialTimeout: 2 * time.Second, ReadTimeout: 30 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, cfg, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		drop := fmt.Sprintf("DROP DATABASE IF EXISTS %s ON CLUSTER %s", s.db, cluster)
		if cluster != cluster1s2r && cluster != cluster2s1r {
			drop = "DROP DATABASE IF EXISTS " + s.db // a cluster the servers do not define
		}
		if err := s.conn.Exec(ctx, drop); err != nil {
			t.Errorf("cannot drop test database %s: %v", cfg.Database, err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// nodeExec runs a statement on one node with clickhouse-client and
// returns its output.
func nodeExec(t *testing.T, node, query string) string {
	t.Helper()
	host, port, _ := strings.Cut(node, ":")
	// Right after a replica restarts, ZooKeeper may still be electing the
	// table's leader, and 18.16 refuses leader-only statements (DROP
	// PARTITION) with code 292 until it has one, or with code 999 when its
	// leader_election node is not there yet: retry those, for up to 15 s.
	for try := 0; ; try++ {
		out, err := exec.Command("clickhouse-client", "--host", host, "--port", port, "-q", query).CombinedOutput()
		if err == nil {
			return string(out)
		}
		electing := strings.Contains(string(out), "Code: 292.") ||
			strings.Contains(string(out), "Code: 999.") && strings.Contains(string(out), "leader_election")
		if !electing || try == 30 {
			t.Fatalf("%s on %s: %v: %s", query, node, err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// nodeQuery runs a query returning one uint64 on one node.
func nodeQuery(t *testing.T, node, query string) uint64 {
	t.Helper()
	out := nodeExec(t, node, query)
	var n uint64
	if _, err := fmt.Sscan(out, &n); err != nil {
		t.Fatalf("%s on %s: %q: %v", query, node, out, err)
	}
	return n
}

// TestClusterApplyIdempotent applies the cluster form on both clusters
// twice: the first creates the Replicated and Distributed tables on both
// nodes, the second changes nothing.
func TestClusterApplyIdempotent(t *testing.T) {
	for _, cluster := range []string{cluster1s2r, cluster2s1r} {
		t.Run(cluster, func(t *testing.T) {
			s := newClusterSink(t, cluster, nil)
			ctx := context.Background()
			rep, err := s.Apply(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range append([]string{schemas.TableSamples, schemas.TableSchemaVersion, schemas.ViewSamples1m}, schemas.ClickHouseClusterTables()...) {
				if !slices.Contains(rep.Created, want) {
					t.Errorf("first apply created %v, lacks %s", rep.Created, want)
				}
			}
			if rep.Layouts[schemas.TableSamples] != schemas.LayoutLegacy {
				t.Errorf("layout %v on 18.16, want legacy", rep.Layouts[schemas.TableSamples])
			}
			rep, err = s.Apply(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Changed() {
				t.Errorf("second apply changed: created %v, added %v", rep.Created, rep.Added)
			}
			for _, node := range []string{clusterNode1, clusterNode2} {
				q := func(engine string) uint64 {
					return nodeQuery(t, node, fmt.Sprintf("SELECT count() FROM system.tables WHERE database = '%s' AND engine = '%s'", s.Database(), engine))
				}
				if n := q("ReplicatedReplacingMergeTree"); n != 9 { // 6 data tables, schema_version, inventory, inventory_links
					t.Errorf("%s: %d ReplicatedReplacingMergeTree tables, want 9", node, n)
				}
				if n := q("ReplicatedAggregatingMergeTree"); n != 2 {
					t.Errorf("%s: %d ReplicatedAggregatingMergeTree tables, want 2", node, n)
				}
				if n := q("Distributed"); n != 8 {
					t.Errorf("%s: %d Distributed tables, want 8", node, n)
				}
				if n := q("MaterializedView"); n != 2 {
					t.Errorf("%s: %d materialized views, want 2", node, n)
				}
			}
		})
	}
}

// TestClusterApplyUnknownCluster: a cluster the servers do not define is
// one clear line, and nothing is created.
func TestClusterApplyUnknownCluster(t *testing.T) {
	s := newClusterSink(t, "tk_nope", nil)
	_, err := s.Apply(context.Background())
	if err == nil || !strings.Contains(err.Error(), "has no cluster tk_nope in its remote_servers config") {
		t.Fatalf("Apply on an unknown cluster: %v", err)
	}
	if n := nodeQuery(t, clusterNode1, fmt.Sprintf("SELECT count() FROM system.databases WHERE name = '%s'", s.Database())); n != 0 {
		t.Errorf("database created anyway")
	}
}

// TestClusterShardedWrite writes through the two-shard cluster: each shard
// holds part of the rows, the Distributed table all of them exactly, and a
// replayed INSERT of the same batches adds nothing (block deduplication).
func TestClusterShardedWrite(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newClusterSink(t, cluster2s1r, func(c *Config) { c.BatchRows = 1000 })
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	want := fleet(8, 4, 60)
	recs := records(mem, want, 700)
	defer release(recs)
	sortSamples(want)
	for range 2 { // the second is the replay after a crash
		if n, err := s.InsertSamples(ctx, recs); err != nil || n != len(want) {
			t.Fatalf("InsertSamples = %d, %v; want %d rows", n, err, len(want))
		}
	}
	local := fmt.Sprintf("SELECT count() FROM %s.samples_local", s.db)
	n1, n2 := nodeQuery(t, clusterNode1, local), nodeQuery(t, clusterNode2, local)
	if n1 == 0 || n2 == 0 || n1+n2 != uint64(len(want)) {
		t.Errorf("shards hold %d + %d rows, want both > 0 and %d in all (no duplicate from the replay)", n1, n2, len(want))
	}
	if c, err := s.Count(ctx, schemas.TableSamples); err != nil || c != uint64(len(want)) {
		t.Errorf("Count through the Distributed table = %d, %v; want %d", c, err, len(want))
	}
	if got := readSamples(t, s); !slices.Equal(got, want) {
		t.Errorf("read %d rows back through the Distributed table, want the %d written", len(got), len(want))
	}
	// Every series is on one shard: no device on both.
	devs := fmt.Sprintf("SELECT uniqExact(device) FROM %s.samples_local", s.db)
	if d1, d2 := nodeQuery(t, clusterNode1, devs), nodeQuery(t, clusterNode2, devs); d1+d2 != 8 {
		t.Errorf("devices per shard %d + %d, want 8 in all (sharded by device)", d1, d2)
	}
}

// TestClusterReplicaKilled writes batches through the one-shard,
// two-replica cluster and SIGKILLs the replica the sink is connected to
// while a batch is being inserted. A failed INSERT is retried as it was (the runner's re-delivery),
// and every acknowledged batch is replayed once more as after a crash.
// After the replica is back: no row lost, none duplicated, on both
// replicas and through the Distributed table, with and without FINAL.
func TestClusterReplicaKilled(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newClusterSink(t, cluster1s2r, func(c *Config) { c.BatchRows = 500 })
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	want := fleet(12, 4, 120)
	recs := records(mem, want, 600)
	defer release(recs)
	sortSamples(want)
	batches := len(recs) // one record of 600 rows per INSERT
	killAt := batches * 2 / 3
	retries := 0
	insert := func(i int) {
		batch := recs[i : i+1]
		deadline := time.Now().Add(2 * time.Minute)
		for {
			_, err := s.InsertSamples(ctx, batch)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("batch %d: still failing after 2m: %v", i, err)
			}
			retries++
			t.Logf("batch %d: %v (retrying)", i, err)
			time.Sleep(200 * time.Millisecond)
		}
	}
	killed := make(chan error, 1)
	for i := range batches {
		if i == killAt {
			// Kill the first address, which the pool's connections use,
			// while this batch is being inserted.
			go func() {
				time.Sleep(20 * time.Millisecond)
				out, err := exec.Command("bash", clusterScript, "kill", "node1").CombinedOutput()
				if err != nil {
					err = fmt.Errorf("cannot kill node1: %w: %s", err, out)
				}
				killed <- err
			}()
		}
		insert(i)
		if i > 0 {
			insert(i - 1) // the replay of the batch before, as after a crash
		}
	}
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", clusterScript, "start").CombinedOutput(); err != nil {
		t.Fatalf("cannot restart node1: %v: %s", err, out)
	}
	t.Logf("node1 killed during batch %d of %d, back; %d failed inserts retried", killAt, batches, retries)
	for _, node := range []string{clusterNode1, clusterNode2} {
		for _, table := range []string{"samples_local", "samples_1m_local", "samples_1h_local"} {
			nodeExec(t, node, fmt.Sprintf("SYSTEM SYNC REPLICA %s.%s", s.db, table))
		}
	}
	for _, node := range []string{clusterNode1, clusterNode2} {
		for _, q := range []string{"SELECT count() FROM %s.samples_local", "SELECT count() FROM %s.samples_local FINAL", "SELECT count() FROM %s.samples", "SELECT count() FROM %s.samples FINAL"} {
			if n := nodeQuery(t, node, fmt.Sprintf(q, s.db)); n != uint64(len(want)) {
				t.Errorf("%s: %s = %d, want %d", node, fmt.Sprintf(q, s.db), n, len(want))
			}
		}
	}
	checkRollupAfterKill(t, s, len(want))
	if got := readSamples(t, s); !slices.Equal(got, want) {
		t.Errorf("read %d rows back, want the %d written", len(got), len(want))
	}
}

// checkRollupAfterKill checks the minute rollup after TestClusterReplicaKilled.
// On 18.16 an INSERT cut off between the samples part and the rollup part
// leaves the rollup without that block: the retry's samples block is
// deduplicated, and a deduplicated block does not reach the views. So the
// rollup may miss a batch but never counts one twice, and rebuilding the
// month as docs/analysts.md says makes it exact.
func checkRollupAfterKill(t *testing.T, s *Sink, want int) {
	t.Helper()
	count := fmt.Sprintf("SELECT sum(n) FROM (SELECT uniqExactMerge(samples) AS n FROM %s.samples_1m_local GROUP BY metric, device, keys, kind, bucket)", s.db)
	n := nodeQuery(t, clusterNode1, count)
	if n2 := nodeQuery(t, clusterNode2, count); n2 != n {
		t.Errorf("the replicas' minute rollups differ: %d and %d samples", n, n2)
	}
	if n > uint64(want) {
		t.Fatalf("the minute rollup counts %d samples, more than the %d written", n, want)
	}
	t.Logf("minute rollup after the kill: %d of %d samples", n, want)
	// Rebuild the month on one replica; the other follows.
	var view string
	for _, stmt := range schemas.ClickHouseDDL(s.Database(), schemas.ServerVersion{Major: 18, Minor: 16}, schemas.DDLOptions{Cluster: cluster1s2r}) {
		if strings.Contains(stmt, "VIEW IF NOT EXISTS "+s.db+"."+schemas.ViewSamples1m+" ") {
			_, view, _ = strings.Cut(stmt, " AS\n")
		}
	}
	month := testDay.Format("200601")
	view = strings.Replace(view, "FROM "+s.db+".samples_local", "FROM "+s.db+".samples_local FINAL WHERE toYYYYMM(ts) = "+month, 1)
	nodeExec(t, clusterNode1, fmt.Sprintf("ALTER TABLE %s.samples_1m_local DROP PARTITION %s", s.db, month))
	nodeExec(t, clusterNode1, fmt.Sprintf("INSERT INTO %s.samples_1m_local %s", s.db, view))
	nodeExec(t, clusterNode2, fmt.Sprintf("SYSTEM SYNC REPLICA %s.samples_1m_local", s.db))
	for _, node := range []string{clusterNode1, clusterNode2} {
		if n := nodeQuery(t, node, count); n != uint64(want) {
			t.Errorf("%s: the rebuilt minute rollup counts %d samples, want %d", node, n, want)
		}
	}
}

// TestClusterDocsQueries runs the example queries of docs/analysts.md
// unchanged on the Distributed tables of the two-shard cluster and on the
// single test server, each on the same data inserted twice, and checks
// that they agree and are not empty.
func TestClusterDocsQueries(t *testing.T) {
	c := newClusterSink(t, cluster2s1r, nil)
	single := newTestSink(t, nil)
	ctx := context.Background()
	for _, s := range []*Sink{c, single} {
		if err := s.EnsureTables(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const node1HTTP = testenv.ClusterNode1HTTP
	syncInsert := url.Values{"insert_distributed_sync": {"1"}}
	for range 2 {
		for _, stmt := range docsInserts(c.Database(), schemas.LayoutLegacy) {
			httpQueryAt(t, node1HTTP, syncInsert, stmt)
		}
		for _, stmt := range docsInserts(single.Database(), schemas.LayoutLegacy) {
			httpQuery(t, stmt)
		}
	}
	names, onCluster := docsQueries(t, c.Database())
	_, onSingle := docsQueries(t, single.Database())
	for _, name := range names {
		got := httpQueryAt(t, node1HTTP, nil, onCluster[name])
		want := httpQuery(t, onSingle[name])
		if len(want) == 0 {
			t.Errorf("%s: no rows on the single server", name)
		}
		same := len(got) == len(want)
		for i := 0; same && i < len(got); i++ {
			same = len(got[i]) == len(want[i])
			for j := 0; same && j < len(got[i]); j++ {
				same = sameCell(got[i][j], want[i][j])
			}
		}
		if !same {
			t.Errorf("%s: the Distributed tables of %s and the single server disagree:\n%v\n%v", name, cluster2s1r, got, want)
		}
	}
	t.Logf("%d analyst queries agree on %s (Distributed) and the single server", len(names), cluster2s1r)
}

// TestClusterShardDown writes through node1 of the two-shard cluster while
// node2, the other shard, is down: with insert_distributed_sync the INSERT
// fails, and it must fail as retryable (the stage retries it, consumption
// paused) rather than stop the stage. Once node2 is back the same INSERT
// succeeds, and a replay of it adds nothing: every row once, with and
// without FINAL.
func TestClusterShardDown(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newClusterSink(t, cluster2s1r, func(c *Config) { c.Addr = []string{clusterNode1} })
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	want := fleet(8, 2, 20)
	recs := records(mem, want, len(want))
	defer release(recs)
	sortSamples(want)
	// Let node2 fetch and settle the replicated schema_version part Apply
	// wrote (an 18.16 replica killed right after fetching a part refuses
	// to start): the fetch waited for, then a pause.
	nodeExec(t, clusterNode2, fmt.Sprintf("SYSTEM SYNC REPLICA %s.%s", s.db, schemas.TableSchemaVersion))
	time.Sleep(3 * time.Second)
	if out, err := exec.Command("bash", clusterScript, "kill", "node2").CombinedOutput(); err != nil {
		t.Fatalf("cannot kill node2: %v: %s", err, out)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = exec.Command("bash", clusterScript, "start").Run()
		}
	}()
	_, err := s.InsertSamples(ctx, recs)
	t.Logf("insert with shard 2 down: %v", err)
	if err == nil || !IsRetryable(err) {
		t.Errorf("insert with shard 2 down: %v (retryable %v); want a retryable error", err, IsRetryable(err))
	}
	if out, err := exec.Command("bash", clusterScript, "start").CombinedOutput(); err != nil {
		t.Fatalf("cannot restart node2: %v: %s", err, out)
	}
	restarted = true
	deadline := time.Now().Add(time.Minute)
	for try := 0; ; try++ {
		_, err := s.InsertSamples(ctx, recs)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || !IsRetryable(err) {
			t.Fatalf("insert after node2 is back, try %d: %v (retryable %v)", try, err, IsRetryable(err))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if _, err := s.InsertSamples(ctx, recs); err != nil { // the replay after a crash
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT count() FROM %s.samples", "SELECT count() FROM %s.samples FINAL"} {
		if n := nodeQuery(t, clusterNode1, fmt.Sprintf(q, s.db)); n != uint64(len(want)) {
			t.Errorf("%s = %d, want %d", fmt.Sprintf(q, s.db), n, len(want))
		}
	}
	if got := readSamples(t, s); !slices.Equal(got, want) {
		t.Errorf("read %d rows back, want the %d written", len(got), len(want))
	}
}

// TestServerRestartMidInsert runs a single-server sink (no cluster) on
// node1, SIGKILLs the server while a batch of several blocks is being
// inserted and starts it again. The same Sink, without a restart, must
// fail that INSERT as retryable, recover once the server is back (its pool
// holding only dead connections), and every batch, retried and replayed,
// must read back exactly once with FINAL.
func TestServerRestartMidInsert(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	startCluster(t)
	var r [6]byte
	_, _ = rand.Read(r[:])
	ctx := context.Background()
	s, err := New(ctx, Config{Addr: []string{clusterNode1}, Database: "tk_test_" + hex.EncodeToString(r[:]), BatchRows: 400,
		DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second}, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func() {
		if err := s.DropDatabase(ctx); err != nil {
			t.Error(err)
		}
	}()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	want := fleet(12, 4, 120)
	recs := records(mem, want, 300)
	defer release(recs)
	sortSamples(want)
	const per = 6 // records per INSERT: 1,800 rows in 3 blocks
	var failed []error
	// insert writes batch (from record i), starting node1 again and
	// retrying while it fails retryably: the kill may land in any
	// insert, a replay's too, 5 ms after the batch that starts it.
	insert := func(batch []arrow.RecordBatch, i int) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			_, err := s.InsertSamples(ctx, batch)
			if err == nil {
				return
			}
			failed = append(failed, err)
			if !IsRetryable(err) || time.Now().After(deadline) {
				t.Fatalf("batch at record %d: %v (retryable %v)", i, err, IsRetryable(err))
			}
			if out, err := exec.Command("bash", clusterScript, "start").CombinedOutput(); err != nil {
				t.Fatalf("cannot start node1: %v: %s", err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// The kill script takes tens of milliseconds, more on a loaded
	// machine, so it can land after a pass's last insert: then node1 is
	// started again and the pass repeated (its rows are replays, which
	// FINAL reads once), up to five passes.
	for pass := 0; pass < 5 && len(failed) == 0; pass++ {
		killed := make(chan struct{})
		for i := 0; i < len(recs); i += per {
			batch := recs[i:min(i+per, len(recs))]
			if i == per*2 {
				go func() {
					defer close(killed)
					time.Sleep(5 * time.Millisecond)
					_ = exec.Command("bash", clusterScript, "kill", "node1").Run()
				}()
			}
			insert(batch, i)
			if i > 0 {
				insert(recs[i-per:i], i-per) // a replay after a crash
			}
		}
		<-killed
		if len(failed) == 0 {
			t.Logf("pass %d: the kill came after the last insert; again", pass)
			if out, err := exec.Command("bash", clusterScript, "start").CombinedOutput(); err != nil {
				t.Fatalf("cannot start node1: %v: %s", err, out)
			}
		}
	}
	t.Logf("%d failed inserts: %v; %d rows stored before merges, %d distinct", len(failed), failed, rawCount(t, s, schemas.TableSamples), len(want))
	if len(failed) == 0 {
		t.Fatal("no insert failed in five passes: the kill came too late every time")
	}
	if n, err := s.Count(ctx, schemas.TableSamples); err != nil || n != uint64(len(want)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(want))
	}
	if got := readSamples(t, s); !slices.Equal(got, want) {
		t.Errorf("read %d rows back, want the %d written", len(got), len(want))
	}
}

// TestClusterApplyReplicaDown restarts a sink (New, Apply) on the
// one-shard, two-replica cluster while one replica is down, as a stage
// restarted during a replica's maintenance does. Every table exists, so
// Apply must not wait for the absent node (ON CLUSTER DDL waits up to
// distributed_ddl_task_timeout, 180 s, and then fails with code 159, so
// the stage could not start), and writes go on through the live replica.
func TestClusterApplyReplicaDown(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newClusterSink(t, cluster1s2r, func(c *Config) { c.Addr = []string{clusterNode1} })
	ctx := context.Background()
	if _, err := s.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	// Let node2 fetch and settle the parts Apply wrote (see
	// TestClusterShardDown).
	nodeExec(t, clusterNode2, fmt.Sprintf("SYSTEM SYNC REPLICA %s.%s", s.db, schemas.TableSchemaVersion))
	time.Sleep(2 * time.Second)
	if out, err := exec.Command("bash", clusterScript, "kill", "node2").CombinedOutput(); err != nil {
		t.Fatalf("cannot kill node2: %v: %s", err, out)
	}
	defer func() {
		if out, err := exec.Command("bash", clusterScript, "start").CombinedOutput(); err != nil {
			t.Errorf("cannot restart node2: %v: %s", err, out)
		}
	}()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	rep, err := s.Apply(actx)
	if err != nil {
		t.Fatalf("Apply with node2 down, after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if rep.Changed() {
		t.Errorf("Apply changed: created %v, added %v", rep.Created, rep.Added)
	}
	want := fleet(4, 2, 10)
	recs := records(mem, want, len(want))
	defer release(recs)
	if _, err := s.InsertSamples(ctx, recs); err != nil {
		t.Fatalf("insert with node2 down: %v", err)
	}
	if n, err := s.Count(ctx, schemas.TableSamples); err != nil || n != uint64(len(want)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(want))
	}
}
