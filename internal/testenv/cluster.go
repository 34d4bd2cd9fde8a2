package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// The local ClickHouse cluster of deploy/local/clickhouse-cluster.sh: two
// nodes, one shard × two replicas (ClusterOneShard) and two shards
// (ClusterTwoShards) over them.
const (
	ClusterNode1     = "127.0.0.1:19000"
	ClusterNode2     = "127.0.0.1:19001"
	ClusterNode1HTTP = "http://127.0.0.1:18200"
	ClusterOneShard  = "tk_1s2r"
	ClusterTwoShards = "tk_2s1r"
)

var cluster struct {
	sync.Once
	err     error
	script  string
	lock    *os.File
	started bool
}

// ClickHouseCluster starts the local cluster once per test process (the
// script is idempotent and serialised) and returns the path of the script,
// whose `kill node1|node2` and `start` tests may use. Outside the
// integration suite (TK_INTEGRATION=1) or TK_CLICKHOUSE_CLUSTER=1 the test
// is skipped. root is the repository root relative to the test's package.
//
// The process holds an exclusive lock on the cluster from then until
// StopClickHouseCluster: test binaries of other packages (go test runs
// them in parallel) wait for it, so one binary's test that kills a node
// cannot break another's, and one's stop cannot pull the cluster from
// under another.
func ClickHouseCluster(t testing.TB, root string) string {
	t.Helper()
	if os.Getenv("TK_INTEGRATION") != "1" && os.Getenv("TK_CLICKHOUSE_CLUSTER") != "1" {
		t.Skip("skipping ClickHouse cluster test: set TK_INTEGRATION=1 or TK_CLICKHOUSE_CLUSTER=1 (the test starts deploy/local/clickhouse-cluster.sh)")
	}
	cluster.Do(func() {
		cluster.script = filepath.Join(root, "deploy", "local", "clickhouse-cluster.sh")
		if cluster.lock, cluster.err = usersLock(); cluster.err != nil {
			return
		}
		if cluster.err = syscall.Flock(int(cluster.lock.Fd()), syscall.LOCK_EX); cluster.err != nil {
			cluster.err = fmt.Errorf("cannot lock the clickhouse cluster: %w", cluster.err)
			return
		}
		running := exec.Command("bash", cluster.script, "status").Run() == nil
		if out, err := exec.Command("bash", cluster.script, "start").CombinedOutput(); err != nil {
			cluster.err = fmt.Errorf("cannot start the clickhouse cluster: %v\n%s", err, out)
			return
		}
		cluster.started = !running
	})
	if cluster.err != nil {
		t.Fatal(cluster.err)
	}
	return cluster.script
}

// StopClickHouseCluster stops the local cluster when this process started
// it (a cluster that was already running is left so), then releases the
// lock; call it from TestMain after m.Run, so the cluster runs only while
// its tests do.
func StopClickHouseCluster() {
	if cluster.lock == nil {
		return
	}
	defer cluster.lock.Close() // releases the lock
	if !cluster.started {
		return
	}
	if out, err := exec.Command("bash", cluster.script, "stop").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot stop the clickhouse cluster: %v\n%s", err, out)
	}
}

func usersLock() (*os.File, error) {
	dir := os.Getenv("TK_LOCAL_DIR")
	if dir == "" {
		dir = "/tmp/telekernel-local"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, ".clickhouse-cluster.users"), os.O_CREATE|os.O_RDWR, 0o644)
}
