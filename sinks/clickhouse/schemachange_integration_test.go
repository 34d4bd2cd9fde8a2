package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/pipeline"
)

// TestIntegrationChangedTableSaysFix changes the samples table under a
// running sink the ways a DBA can (a column dropped, a column's type
// changed, the table dropped, the database dropped) and inserts through
// the stage. Such an error stops the stage (pipeline.ErrStop), so its one
// line is all an operator gets. Before, it was the server's or the
// driver's text alone ("code: 16, message: No such column value_str in
// table samples", "column value_u64: clickhouse [Append]: converting
// []*uint64 to Int64 is unsupported", "code: 60, message: Table ….samples
// doesn't exist.") and, on the next try, "(call EnsureTables first)", a Go
// call; now each names the table and the fix (`telekernel schema apply`,
// or for a changed type `telekernel schema ddl` and MODIFY COLUMN), and
// after the fix the same rows are written.
func TestIntegrationChangedTableSaysFix(t *testing.T) {
	s := newTestSink(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	recs := records(memory.DefaultAllocator, fleet(2, 2, 4), 8)
	defer release(recs)
	if _, err := s.InsertSamples(ctx, recs); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if err := s.conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	table := s.cfg.Database + ".samples"
	for _, tc := range []struct {
		name        string
		change, fix func()
		want        string
	}{
		{"column dropped",
			func() { exec("ALTER TABLE " + s.db + ".samples DROP COLUMN value_str") },
			func() { _ = s.EnsureTables(ctx) }, "telekernel schema apply"},
		{"column type changed",
			func() { exec("ALTER TABLE " + s.db + ".samples MODIFY COLUMN value_u64 Nullable(Int64)") },
			func() { exec("ALTER TABLE " + s.db + ".samples MODIFY COLUMN value_u64 Nullable(UInt64)") }, "telekernel schema ddl"},
		{"table dropped",
			func() {
				for _, v := range []string{"samples_1m_mv", "samples_1h_mv", "samples"} {
					exec("DROP TABLE " + s.db + "." + v)
				}
			},
			func() { _ = s.EnsureTables(ctx) }, "telekernel schema apply"},
		{"database dropped",
			func() { exec("DROP DATABASE " + s.db) },
			func() { _ = s.EnsureTables(ctx) }, "telekernel schema apply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			// The first insert meets the change at the server; the second
			// looks the table up again.
			for try := 1; try <= 2; try++ {
				_, err := s.InsertSamples(ctx, recs)
				if err == nil {
					t.Fatalf("insert %d into the changed table succeeded", try)
				}
				msg := stageError(err).Error()
				t.Logf("insert %d: %s", try, msg)
				if !strings.Contains(msg, table) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
					t.Errorf("insert %d: %q, want one line naming %s and saying %q", try, msg, table, tc.want)
				}
				if IsRetryable(err) || !strings.Contains(msg, pipeline.ErrStop.Error()) {
					t.Errorf("insert %d: %v is retryable or does not stop the stage", try, err)
				}
			}
			tc.fix()
			if _, err := s.InsertSamples(ctx, recs); err != nil {
				t.Fatalf("after the fix: %v", err)
			}
		})
	}
}
