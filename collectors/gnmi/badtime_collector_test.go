package gnmi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/internal/testenv"
)

// TestBadTimestampsWarned: a target that streams a capture with its own
// timestamps. Nine years old, the samples are published with the default
// window (20 years back); stamped 1970 (a clock never set), they are
// dropped as bad_timestamp, and the stream says so once at WARN, naming
// the target, the device time, how many values, and the settings that
// keep them. Before, the window was one year and the drops were only a
// metric, so a replay of an older capture published nothing and logged
// nothing.
func TestBadTimestampsWarned(t *testing.T) {
	const sec = int64(time.Second)
	old := time.Now().Add(-9 * 365 * 24 * time.Hour).UnixNano()
	addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(syncResponse); err != nil {
			return nil
		}
		for i := range int64(12) {
			if err := send(chassis(t, old+i*10*sec, 1, 3)); err != nil {
				return nil
			}
		}
		for i := range int64(12) {
			// Seconds since the epoch (the decoder reads a timestamp
			// this small as seconds): a day after it.
			if err := send(chassis(t, 86400+i*10, 1, 3)); err != nil {
				return nil
			}
		}
		return nil
	})
	reg := prometheus.NewRegistry()
	logs := &testenv.LogBuffer{}
	c, err := gnmi.New(fastConfig([]gnmi.Target{{Name: "replay", Address: addr}}), fakeKafka(t),
		gnmi.WithLogger(slog.New(slog.NewTextHandler(logs, nil))), gnmi.WithMetrics(gnmi.NewMetrics(reg)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, 10*time.Second, "every notification decoded", func() bool { return c.Stats().Responses == 2*12+1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Samples != 12*3 || st.Dropped[gnmi.DropBadTime] != 12*3 {
		t.Errorf("%d samples, %d dropped as bad_timestamp; want the old capture's %d published and the 1970 ones' %d dropped",
			st.Samples, st.Dropped[gnmi.DropBadTime], 12*3, 12*3)
	}
	w := logLines(logs, "level=WARN")
	if len(w) != 1 || !strings.Contains(w[0], "target=replay") || !strings.Contains(w[0], "bad_timestamp") ||
		!strings.Contains(w[0], "device_time=1970-01-02") || !strings.Contains(w[0], "dropped=3") ||
		!strings.Contains(w[0], "max_past") || !strings.Contains(w[0], "timestamp: receive") {
		t.Errorf("want one warning naming the target, the 1970 device time, the first notification's 3 values and the settings, got:\n%s", strings.Join(w, "\n"))
	}
}
