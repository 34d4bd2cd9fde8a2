package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// TestIntegrationSamplesOverManyDays inserts one flush of oper-status
// samples stamped with their last-change times (as Arista EOS and others
// stamp unchanged values), which spread over 150 days: 150 daily partitions
// in one INSERT block. The server's max_partitions_per_insert_block (100 by
// default) refused such a block with code 252, which IsRetryable calls
// retryable (it is also "too many parts"), so the stage retried the same
// flush for ever and consumption halted. The rows must be stored, once
// under FINAL after a re-delivery.
func TestIntegrationSamplesOverManyDays(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	var rows []schemas.Sample
	for i := range 150 {
		rows = append(rows, schemas.Sample{TS: testDay.Add(-time.Duration(i)*24*time.Hour + time.Duration(i)*time.Minute).UnixNano(),
			Device: "edge1", Metric: metricOper, Keys: fmt.Sprintf("name=Ethernet%d", i), Kind: schemas.KindState, Str: "UP",
			Source: schemas.SourceGNMI})
	}
	// 18.16, the local server, has no such limit; servers from 19.x
	// have it, and the sink must lift it for its INSERTs there.
	var known uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.settings WHERE name = ?", settingPartitionLimit).Scan(&known); err != nil {
		t.Fatal(err)
	}
	if got := s.insertSettings[settingPartitionLimit]; (known > 0) != (got == 0 && s.insertSettings != nil) {
		t.Errorf("server has %s: %v; the sink's INSERT settings are %v, want it 0 exactly when the server has it", settingPartitionLimit, known > 0, s.insertSettings)
	}
	recs := records(mem, rows, len(rows))
	defer release(recs)
	for try := range 2 { // the second is a re-delivery
		if n, err := s.InsertSamples(ctx, recs); err != nil || n != len(rows) {
			t.Fatalf("insert %d: InsertSamples = %d, %v (retryable %v); want %d rows", try, n, err, IsRetryable(err), len(rows))
		}
	}
	if n, err := s.Count(ctx, schemas.TableSamples); err != nil || n != uint64(len(rows)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(rows))
	}
}
