package main

import (
	"testing"

	"github.com/telekernel/telekernel/internal/testenv"
)

// The README's ClickHouse figures (benchmarks/sinks/README.md): against a
// raw clickhouse-go insert of the same rows, in 7 rounds of alternating
// INSERTs, the sink's median per-round rows/s ratio is at least claimRatio
// and its client CPU per row at most claimCPU times the raw insert's.
const (
	claimRatio = 0.7
	claimCPU   = 1.4
)

// TestClickHouseSinkRatio runs the ClickHouse benchmark as the README
// states it (100 000 rows per INSERT, 7 rounds), with 2 INSERTs per side
// and round instead of 4 to stay shorter, and fails when the sink's median
// ratio to the raw insert falls below claimRatio or its client CPU per row
// rises above claimCPU times the raw insert's.
func TestClickHouseSinkRatio(t *testing.T) {
	addr := testenv.Service(t, "TK_CLICKHOUSE")
	if testing.Short() {
		t.Skip("the ClickHouse sink benchmark is skipped in -short mode")
	}
	r, err := benchClickHouse(addr, 100_000, 7, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.report())
	if len(r.ratios) != 7 {
		t.Fatalf("%d rounds, want 7", len(r.ratios))
	}
	if r.ratio < claimRatio {
		t.Errorf("the sink's median ratio to raw is %.2f×, below the README's %.2f×", r.ratio, claimRatio)
	}
	if r.cpuRatio > claimCPU {
		t.Errorf("the sink's client CPU per row is %.2f× the raw insert's, above the README's %.2f×", r.cpuRatio, claimCPU)
	}
}
