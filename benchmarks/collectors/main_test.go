package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
)

// The README's gNMI collector figures (collectors/README.md, "Benchmarks"):
// on the 2 M-update run (20 devices × 16 interfaces × 1000 steps), with the
// collector as deploy/ runs it (one core, GOGC 50, max_rows 2048: the
// benchmark's defaults, TestDeploySettings), the collector process's peak
// RSS stays at most claimPeakRSSMB, and it does at least claimRatio times
// the updates per CPU-second of a plain proto.Unmarshal of the same
// responses (on one core the unmarshal runs relatively faster than on two:
// 2.30-2.72× there against 2.56-3.41× on two cores at GOGC 100).
//
// Measured 2026-12-03 in three blocks of alternating runs (30 in all, load
// 1.0-2.7 with another session's benchmarks beside them): 36.0-40.5 MB,
// medians 37.7-38.3, against 51.9-57.6 MB for two cores, GOGC 100 and
// max_rows 4096. 40 MB is the median's, not a bound that would not flake.
const (
	claimPeakRSSMB = 42
	claimRatio     = 2.0
)

// TestGNMIPeakRSS builds this benchmark, runs the 2 M-update gNMI run on
// the real Kafka, and fails when the collector's peak RSS or its speed
// against the plain unmarshal baseline breaks the README's claim.
func TestGNMIPeakRSS(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	if testing.Short() {
		t.Skip("the 2 M-update gNMI run is skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "collectors")
	if out, err := exec.CommandContext(ctx, "go", "build", "-tags", "grpcnotrace", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The settings are passed, not left to defaults or the environment: the
	// bound is the deployed collector's. The ratio is of CPU-seconds
	// measured one after the other, and under `make test` another
	// package's tests share the two cores: one run there measured 1.69×
	// where runs alone measure 2.3–2.8×. So a run that misses is run
	// again, up to three in all, and the claim holds if one run meets both
	// bounds.
	var misses []string
	for run := 1; run <= 3; run++ {
		out, err := exec.CommandContext(ctx, bin, "gnmi", "--kafka", broker, "--devices", "20", "--steps", "1000",
			"--gomaxprocs", strconv.Itoa(deployProcs), "--gogc", strconv.Itoa(deployGOGC), "--max-rows", strconv.Itoa(deployMaxRows)).CombinedOutput()
		if err != nil {
			t.Fatalf("benchmark: %v\n%s", err, out)
		}
		t.Logf("run %d:\n%s", run, out)
		rss := number(t, out, `collector process peak RSS: ([0-9.]+) MB`)
		ratio := number(t, out, `ratio end to end / plain unmarshal: ([0-9.]+)`)
		if rss <= claimPeakRSSMB && ratio >= claimRatio {
			return
		}
		misses = append(misses, fmt.Sprintf("run %d: peak RSS %.1f MB, %.2f× the plain unmarshal per CPU-second", run, rss, ratio))
	}
	t.Errorf("no run met the README's claim (at most %d MB, at least %.1f×): %s", claimPeakRSSMB, claimRatio, strings.Join(misses, "; "))
}

// number returns the number that pattern's group captures in out.
func number(t *testing.T, out []byte, pattern string) float64 {
	t.Helper()
	m := regexp.MustCompile(pattern).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in the output", pattern)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDeploySettings checks that deploy/ runs a gNMI collector with the
// settings the gnmi run measures by default: the Kubernetes Deployment's
// GOMAXPROCS and GOGC, the systemd unit's GOMAXPROCS and its gnmi drop-in's GOGC
// (deployProcs, deployGOGC), and max_rows in the manifest's and the example's
// collect-gnmi.yaml (deployMaxRows).
func TestDeploySettings(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	k8s := read("kubernetes/telekernel.yaml")
	i := strings.Index(k8s, "name: telekernel-collect-gnmi\n")
	if i < 0 {
		t.Fatal("the manifest has no telekernel-collect-gnmi")
	}
	gnmiDeployment, _, _ := strings.Cut(k8s[i:], "\n---")
	unit := read("systemd/telekernel-collect@.service")
	rows := fmt.Sprintf("\n    max_rows: %d ", deployMaxRows)
	for _, c := range []struct{ where, text, want string }{
		{"the manifest's collect-gnmi.yaml", strings.ReplaceAll(k8s, "\n    ", "\n"), rows},
		{"deploy/examples/collect-gnmi.yaml", read("examples/collect-gnmi.yaml"), rows},
		{"the telekernel-collect-gnmi Deployment", gnmiDeployment,
			fmt.Sprintf(`env: [{name: GOMAXPROCS, value: "%d"}, {name: GOGC, value: "%d"}]`, deployProcs, deployGOGC)},
		{"telekernel-collect@.service", unit, fmt.Sprintf("\nEnvironment=GOMAXPROCS=%d\n", deployProcs)},
		{"telekernel-collect@gnmi.service.d/memory.conf", read("systemd/telekernel-collect@gnmi.service.d/memory.conf"),
			fmt.Sprintf("\nEnvironment=GOGC=%d\n", deployGOGC)},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s has no %q: the gnmi benchmark measures GOMAXPROCS %d, GOGC %d, max_rows %d",
				c.where, strings.TrimSpace(c.want), deployProcs, deployGOGC, deployMaxRows)
		}
	}
}
