package parquet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/parquet"
)

func Example() {
	root, _ := os.MkdirTemp("", "lake")
	defer os.RemoveAll(root)
	w, err := parquet.New(parquet.Config{Root: root})
	if err != nil {
		panic(err)
	}

	// A consumer decodes each tk.samples message into a record and adds it.
	b := schemas.NewSampleBuilder(memory.DefaultAllocator)
	defer b.Release()
	ts := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC).UnixNano()
	b.Append(&schemas.Sample{TS: ts, Device: "r1", Metric: "/interfaces/interface/state/counters/in-octets",
		Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 1 << 60, Source: schemas.SourceGNMI})
	b.Append(&schemas.Sample{TS: ts, Device: "r1", Metric: "/interfaces/interface/state/oper-status",
		Keys: "name=Ethernet1", Kind: schemas.KindState, Str: "UP", Source: schemas.SourceGNMI})
	rec := b.NewRecord()
	if err := w.Add("tk.samples", 3, 120, rec); err != nil {
		panic(err)
	}
	rec.Release() // Add copied what it needs

	// Every few seconds: flush, then commit offsets up to LastOffset+1.
	files, err := w.Flush(context.Background())
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f.Path)
		fmt.Println(filepath.ToSlash(rel), f.Rows, "rows, offsets", f.FirstOffset, "to", f.LastOffset)
	}
	n, _ := parquet.CountRows(root)
	fmt.Println("rows in the lake:", n)
	// Output:
	// samples/dt=2026-11-23/hour=10/tk.samples-3-000000000120-000000000120.parquet 2 rows, offsets 120 to 120
	// rows in the lake: 2
}
