package clickhouse

import (
	"context"
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

	"github.com/telekernel/telekernel/schemas"
)

// TestClusterZooKeeperDown writes through the one-shard, two-replica
// cluster while ZooKeeper is down: the replicated tables refuse the
// INSERT, which must be retryable; once ZooKeeper is back the same INSERT
// succeeds, and every row reads back once.
func TestClusterZooKeeperDown(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newClusterSink(t, cluster1s2r, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	want := fleet(8, 2, 20)
	recs := records(mem, want, 200)
	defer release(recs)
	sortSamples(want)
	half := len(recs) / 2
	if _, err := s.InsertSamples(ctx, recs[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	dir := os.Getenv("TK_LOCAL_DIR")
	if dir == "" {
		dir = "/tmp/telekernel-local"
	}
	b, err := os.ReadFile(filepath.Join(dir, "clickhouse-cluster", "zookeeper", "zookeeper.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = exec.Command("bash", clusterScript, "start").Run()
		}
	}()
	time.Sleep(time.Second)
	_, err = s.InsertSamples(ctx, recs[half:])
	t.Logf("insert with ZooKeeper down: %v", err)
	if err == nil || !IsRetryable(err) {
		t.Errorf("insert with ZooKeeper down: %v (retryable %v); want a retryable error", err, IsRetryable(err))
	}
	if out, err := exec.Command("bash", clusterScript, "start").CombinedOutput(); err != nil {
		t.Fatalf("cannot restart zookeeper: %v: %s", err, out)
	}
	restarted = true
	deadline := time.Now().Add(90 * time.Second)
	for try := 0; ; try++ {
		_, err := s.InsertSamples(ctx, recs[half:])
		if err == nil {
			t.Logf("insert succeeded after %d retries", try)
			break
		}
		if time.Now().After(deadline) || !IsRetryable(err) {
			t.Fatalf("insert after ZooKeeper is back, try %d: %v (retryable %v)", try, err, IsRetryable(err))
		}
		time.Sleep(time.Second)
	}
	if _, err := s.InsertSamples(ctx, recs[half:]); err != nil { // the replay after a crash
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, schemas.TableSamples); err != nil || n != uint64(len(want)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(want))
	}
	if got := readSamples(t, s); !slices.Equal(got, want) {
		t.Errorf("read %d rows back, want the %d written", len(got), len(want))
	}
}
