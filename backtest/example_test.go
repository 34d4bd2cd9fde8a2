package backtest_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/telekernel/telekernel/backtest"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// ExampleRun replays a device's gauge that jumps tenfold after 500 points
// through the detect stage with the default configuration: it fires on the
// first point of the jump, 1h23m20s in (a gauge reading at least spike_z,
// 10, baseline sigmas off fires without waiting for alert.confirm's second
// point).
func ExampleRun() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batches [][]schemas.Sample
	for b := range 40 { // 40 batches of 16 points, 10 s apart
		var batch []schemas.Sample
		for i := b * 16; i < (b+1)*16; i++ {
			v := 100 + float64(i%5)
			if i >= 500 {
				v *= 10
			}
			batch = append(batch, schemas.Sample{TS: t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(),
				Device: "r1", Metric: "/system/cpu/load", Kind: schemas.KindGauge, F64: v, Source: "example"})
		}
		batches = append(batches, batch)
	}
	dets, st, err := backtest.Run(context.Background(), detect.Config{}, backtest.Batches(batches),
		backtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Points, "points")
	for _, d := range dets {
		fmt.Println(d.State, d.Device, d.Metric, d.EventTime.Sub(t0))
	}
	// Output:
	// 640 points
	// firing r1 /system/cpu/load 1h23m20s
}
