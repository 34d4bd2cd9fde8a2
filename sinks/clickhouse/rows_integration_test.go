package clickhouse

import (
	"context"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
	"github.com/telekernel/telekernel/sinks/parquet"
)

// TestIntegrationBadRowsNotBatches puts rows no table may store (times 0,
// -1, year 2188 and 1969, strings that are not UTF-8 in the state value and
// the device name) into messages of good rows, on the real Kafka. The
// ClickHouse and Parquet stages each drop exactly those rows, count them by
// reason, keep every good row of the same messages, and agree; Parquet
// makes no dt= folder outside the good rows' days; nothing is
// dead-lettered.
func TestIntegrationBadRowsNotBatches(t *testing.T) {
	kc, cl := sinktest.Kafka(t)
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	good := fleet(4, 2, 20)
	bad := []struct {
		s      schemas.Sample
		reason string
	}{
		{schemas.Sample{TS: 0, Device: "d-bad", Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"}, schemas.DropBadTimestamp},
		{schemas.Sample{TS: -1, Device: "d-bad", Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"}, schemas.DropBadTimestamp},
		{schemas.Sample{TS: time.Date(2188, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Device: "d-bad", Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"}, schemas.DropBadTimestamp},
		{schemas.Sample{TS: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC).UnixNano(), Device: "d-bad", Metric: "/m", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"}, schemas.DropBadTimestamp},
		{schemas.Sample{TS: good[0].TS, Device: "d-bad", Metric: "/s", Kind: schemas.KindState, Str: "UP\xff\xfe", Source: "gnmi"}, schemas.DropInvalidUTF8},
		{schemas.Sample{TS: good[0].TS, Device: "d\xc3(", Metric: "/m", Kind: schemas.KindGauge, F64: 2, Source: "gnmi"}, schemas.DropInvalidUTF8},
	}
	// Every message holds good rows and one or more bad ones.
	var rows []schemas.Sample
	per := len(good) / len(bad)
	for i, b := range bad {
		rows = append(rows, good[i*per:(i+1)*per]...)
		rows = append(rows, b.s)
	}
	rows = append(rows, good[len(bad)*per:]...)
	recs := records(mem, rows, per+1)
	defer release(recs)
	topic := sinktest.Topic(t, cl, "tk-test-badrows-", 2)
	sinktest.ProduceSamples(t, cl, topic, recs)
	log, _ := sinktest.NewLog(t)

	chStage := NewSamplesStage(s, mem)
	defer chStage.Close()
	rc := newRunner(t, kc, sinktest.Name("tk-test-badrows-ch-"), topic, chStage, 1000, 200*time.Millisecond, log)
	sinktest.Drain(t, rc, 45*time.Second)

	root := t.TempDir()
	pw, err := parquet.New(parquet.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	pqStage := parquet.NewStage(pw, mem)
	rp := newRunner(t, kc, sinktest.Name("tk-test-badrows-pq-"), topic, pqStage, 1000, 200*time.Millisecond, log)
	sinktest.Drain(t, rp, 45*time.Second)

	wantDrops := schemas.RowDrops{}
	for _, b := range bad {
		if b.reason == schemas.DropBadTimestamp {
			wantDrops.BadTimestamp++
		} else {
			wantDrops.InvalidUTF8++
		}
	}
	n, err := s.Count(ctx, schemas.TableSamples)
	if err != nil {
		t.Fatal(err)
	}
	pqRows, err := parquet.CountRows(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows produced (%d bad): clickhouse %d, parquet %d; dropped %+v / %+v", len(rows), len(bad), n, pqRows, chStage.DroppedRows(), pqStage.DroppedRows())
	if n != uint64(len(good)) || pqRows != int64(len(good)) {
		t.Errorf("clickhouse holds %d rows and parquet %d; want both the %d good rows", n, pqRows, len(good))
	}
	for name, st := range map[string]interface{ DroppedRows() schemas.RowDrops }{"clickhouse": chStage, "parquet": pqStage} {
		if got := st.DroppedRows(); got != wantDrops {
			t.Errorf("%s dropped %+v, want %+v", name, got, wantDrops)
		}
	}
	for name, st := range map[string]int64{"clickhouse": rc.Stats().DeadLetters, "parquet": rp.Stats().DeadLetters} {
		if st != 0 {
			t.Errorf("%s dead-lettered %d messages, want 0", name, st)
		}
	}
	if rc.Stats().DroppedRows != wantDrops.Total() || rp.Stats().DroppedRows != wantDrops.Total() {
		t.Errorf("runner stats dropped rows clickhouse %d, parquet %d; want %d", rc.Stats().DroppedRows, rp.Stats().DroppedRows, wantDrops.Total())
	}
	days := map[string]bool{}
	if err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), "dt=") {
			days[d.Name()] = true
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, g := range good {
		want["dt="+time.Unix(0, g.TS).UTC().Format(time.DateOnly)] = true
	}
	if len(days) != len(want) {
		var got []string
		for d := range days {
			got = append(got, d)
		}
		sort.Strings(got)
		t.Errorf("parquet partitions %v, want only the good rows' days %v", got, want)
	}
}
