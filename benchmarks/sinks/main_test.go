package main

import (
	"testing"

	"github.com/telekernel/telekernel/internal/testenv"
)

// The README's ClickHouse figures (benchmarks/sinks/README.md): against a
// raw clickhouse-go insert of the same rows, in 7 rounds of alternating
// INSERTs, the sink's median per-round rows/s ratio is at least claimRatio
// and its client CPU per row at most claimCPU times the raw insert's. The
// benchmark's own runs (12 INSERTs per side and round) had medians of
// 0.92-1.00 and client CPU 1.06-1.12; this test's shorter rounds had
// 0.84-0.98 and 1.09-1.16, also with two to four busy loops or the
// sinks/clickhouse integration tests beside it (2026-12-03). The margins
// are for a CI box loaded by the rest of the suite, where the client's CPU
// weighs on wall time.
const (
	claimRatio = 0.75
	claimCPU   = 1.25
)

// TestClickHouseSinkRatio runs the ClickHouse benchmark as the README
// states it (100 000 rows per INSERT, 7 rounds), with 4 INSERTs per side
// and round instead of 12 to stay shorter (13 s on an idle machine, 25 s
// beside two busy loops), and fails when the sink's median ratio to the
// raw insert falls below claimRatio or its client CPU per row rises above
// claimCPU times the raw insert's. A measurement outside either bound is
// taken once more, and the test fails when the second is outside too: on
// a 2-core box shared with the rest of the suite and other work, one
// measurement of 7 rounds came out at 0.71× (client CPU 1.22×,
// 2026-12-05, beside two simulator replays), which a slower sink would
// give every time but a busy neighbour only now and then.
func TestClickHouseSinkRatio(t *testing.T) {
	addr := testenv.Service(t, "TK_CLICKHOUSE")
	if testing.Short() {
		t.Skip("the ClickHouse sink benchmark is skipped in -short mode")
	}
	var r chResult
	for try := 1; try <= 2; try++ {
		var err error
		if r, err = benchClickHouse(addr, 100_000, 7, 4); err != nil {
			t.Fatal(err)
		}
		t.Logf("measurement %d:\n%s", try, r.report())
		if len(r.ratios) != 7 {
			t.Fatalf("%d rounds, want 7", len(r.ratios))
		}
		if r.ratio >= claimRatio && r.cpuRatio <= claimCPU {
			break
		}
	}
	if r.ratio < claimRatio {
		t.Errorf("the sink's median ratio to raw is %.2f×, below the README's %.2f×", r.ratio, claimRatio)
	}
	if r.cpuRatio > claimCPU {
		t.Errorf("the sink's client CPU per row is %.2f× the raw insert's, above the README's %.2f×", r.cpuRatio, claimCPU)
	}
}
