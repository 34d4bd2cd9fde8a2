package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestKafkaStartPastCrowdedStorage starts a broker of its own
// (kafka.sh on free ports, its own TK_LOCAL_DIR) whose storage holds
// 2 001 partition directories of earlier test runs, as a machine's local
// broker does after many make test runs: start must say it empties the
// storage, remove them, format it again (the old cluster id goes) and
// answer. The directories here are empty, so they would not slow the
// broker; the 3 806 real ones that did (past the 90 s start wait) were
// measured, not rebuilt here. Under TK_INTEGRATION=1 only (it needs Java
// and the cached jars).
func TestKafkaStartPastCrowdedStorage(t *testing.T) {
	dir := t.TempDir()
	k := newOwnKafka(t, dir)
	logs := filepath.Join(dir, "kafka", "kraft-logs")
	for i := range 2001 {
		if err := os.MkdirAll(filepath.Join(logs, fmt.Sprintf("old-run-%08x.samples-%d", i, i%6)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	meta := "cluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=1\nversion=1\n"
	if err := os.WriteFile(filepath.Join(logs, "meta.properties"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	out := k.start()
	if !strings.Contains(out, "holds 2001 partitions of earlier test runs: starting from empty storage") {
		t.Errorf("start did not say it emptied the storage:\n%s", out)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("old-run-00000000.samples") {
		t.Errorf("the old partitions' topic is still listed")
	}
	if _, err := os.Stat(filepath.Join(logs, "old-run-00000000.samples-0")); !os.IsNotExist(err) {
		t.Errorf("an old partition directory is still there (%v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(logs, "meta.properties")); err != nil || strings.Contains(string(b), "AAAAAAAAAAAAAAAAAAAAAA") {
		t.Errorf("the storage was not formatted again: %v\n%s", err, b)
	}
}

// ownKafka is a broker of a test's own, started and stopped by kafka.sh
// on free ports with its own TK_LOCAL_DIR.
type ownKafka struct {
	t        *testing.T
	env      []string
	addr     string // PLAINTEXT
	saslAddr string // SASL_SSL
	localDir string
}

// newOwnKafka returns the broker whose TK_LOCAL_DIR is dir, not started.
// The test skips unless TK_INTEGRATION is set: the broker needs Java and
// the cached jars.
func newOwnKafka(t *testing.T, dir string) *ownKafka {
	if os.Getenv("TK_INTEGRATION") == "" {
		t.Skip("set TK_INTEGRATION=1 to start a broker with deploy/local/kafka.sh")
	}
	port, sasl := testenv.FreePort(t), testenv.FreePort(t)
	return &ownKafka{t: t, localDir: dir, addr: fmt.Sprintf("127.0.0.1:%d", port), saslAddr: fmt.Sprintf("127.0.0.1:%d", sasl),
		env: append(os.Environ(), "TK_LOCAL_DIR="+dir, "TK_KAFKA_PORT="+strconv.Itoa(port),
			"TK_KAFKA_CONTROLLER_PORT="+strconv.Itoa(testenv.FreePort(t)), "TK_KAFKA_SASL_PORT="+strconv.Itoa(sasl),
			"TK_KAFKA_PARTITIONS=1", "TK_KAFKA_HEAP_OPTS=-Xms128m -Xmx256m", "TK_KAFKA_CLEANER_BUFFER=16777216")}
}

// script runs kafka.sh cmd against the broker and returns its output.
func (k *ownKafka) script(cmd string) string {
	k.t.Helper()
	c := exec.Command("bash", "kafka.sh", cmd)
	c.Env = k.env
	out, err := c.CombinedOutput()
	if err != nil {
		k.t.Fatalf("kafka.sh %s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// start starts the broker, to be stopped when the test ends, and returns
// what kafka.sh said.
func (k *ownKafka) start() string {
	out := k.script("start")
	k.t.Cleanup(func() { k.script("stop") })
	return out
}
