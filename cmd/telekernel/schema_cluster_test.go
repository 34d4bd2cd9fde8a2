package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestMain stops the local ClickHouse cluster after the tests if a cluster
// test started it, and removes the binary buildBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopClickHouseCluster()
	removeBinary()
	os.Exit(code)
}

// TestSchemaApplyCluster runs `schema apply` twice on each local cluster,
// once with clickhouse.cluster from the config and once with --cluster: the
// first run creates the per-node and Distributed tables, the second
// changes nothing.
func TestSchemaApplyCluster(t *testing.T) {
	testenv.ClickHouseCluster(t, filepath.Join("..", ".."))
	db := "tk_test_capply_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	addrs := testenv.ClusterNode1 + "," + testenv.ClusterNode2
	cfg := writeFile(t, "cluster.yaml", fmt.Sprintf("clickhouse:\n  addr: [%s]\n  database: %s\n  cluster: %s\n", addrs, db+"_a", testenv.ClusterOneShard))
	for _, tc := range []struct {
		cluster, db string
		args        []string
	}{
		{testenv.ClusterOneShard, db + "_a", []string{"schema", "apply", "--config", cfg}},
		{testenv.ClusterTwoShards, db + "_b", []string{"schema", "apply", "--addr", addrs, "--database", db + "_b", "--cluster", testenv.ClusterTwoShards}},
	} {
		t.Cleanup(func() {
			out, err := exec.Command("clickhouse-client", "--port", "19000", "-q",
				fmt.Sprintf("DROP DATABASE IF EXISTS %s ON CLUSTER %s", tc.db, tc.cluster)).CombinedOutput()
			if err != nil {
				t.Errorf("cannot drop %s: %v: %s", tc.db, err, out)
			}
		})
		code, first, stderr := tk(t, tc.args...)
		if code != 0 || !strings.Contains(first, "created: ") || !strings.Contains(first, "samples_local") || !strings.Contains(first, "samples_1m_local") {
			t.Fatalf("%s: first apply: code %d\n%s%s", tc.cluster, code, first, stderr)
		}
		if code, second, stderr := tk(t, tc.args...); code != 0 || !strings.Contains(second, "up to date") {
			t.Errorf("%s: second apply changed something: code %d\n%s%s", tc.cluster, code, second, stderr)
		}
	}
	// A cluster the servers do not define: one line, exit 1.
	code, _, stderr := tk(t, "schema", "apply", "--addr", addrs, "--database", db+"_c", "--cluster", "tk_nope")
	if code != 1 || !strings.Contains(stderr, "no cluster tk_nope in its remote_servers config") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("unknown cluster: code %d, stderr %q", code, stderr)
	}
}

// TestSchemaDDLCluster: `schema ddl --cluster` prints the cluster form.
func TestSchemaDDLCluster(t *testing.T) {
	code, out, _ := tk(t, "schema", "ddl", "--server-version", "18.16.1", "--cluster", "c1")
	if code != 0 || !strings.Contains(out, "CREATE TABLE IF NOT EXISTS telekernel.samples ON CLUSTER c1 AS telekernel.samples_local") ||
		!strings.Contains(out, "ReplicatedReplacingMergeTree('/clickhouse/tables/c1/{shard}/telekernel/samples_local', '{replica}')") {
		t.Errorf("schema ddl --cluster: code %d\n%s", code, out)
	}
}
