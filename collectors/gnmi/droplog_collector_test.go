package gnmi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	pb "github.com/openconfig/gnmi/proto/gnmi"
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
	c, logs, stop := collectLogged(t, "replay", addr, prometheus.NewRegistry())
	waitFor(t, 10*time.Second, "every notification decoded", func() bool { return c.Stats().Responses == 2*12+1 })
	stop()
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

// TestBadValuesWarned: a target that sends text in a counter and a
// leaf-list among good values. The good values are published; the others
// are dropped and counted as bad_value and unsupported, and the stream
// says so once per reason at WARN, naming the target, the count and, for
// the text in a counter, the metric. Before, these drops were only a
// metric.
func TestBadValuesWarned(t *testing.T) {
	addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(syncResponse); err != nil {
			return nil
		}
		now := time.Now().UnixNano()
		for i := range int64(3) {
			if err := send(chassis(t, now+i*int64(time.Second), 1, 3)); err != nil {
				return nil
			}
		}
		counter := &pb.Path{Elem: []*pb.PathElem{{Name: "interfaces"}, {Name: "interface", Key: map[string]string{"name": "Ethernet0/0"}},
			{Name: "state"}, {Name: "counters"}, {Name: "counter-0"}}}
		text := &pb.TypedValue{Value: &pb.TypedValue_StringVal{StringVal: "n/a"}}
		if err := send(encode(t, &pb.Notification{Timestamp: now + 5*int64(time.Second), Update: []*pb.Update{{Path: counter, Val: text}}})); err != nil {
			return nil
		}
		search := &pb.Path{Elem: []*pb.PathElem{{Name: "system"}, {Name: "dns"}, {Name: "state"}, {Name: "search"}}}
		list := &pb.TypedValue{Value: &pb.TypedValue_LeaflistVal{LeaflistVal: &pb.ScalarArray{Element: []*pb.TypedValue{text}}}}
		_ = send(encode(t, &pb.Notification{Timestamp: now + 6*int64(time.Second), Update: []*pb.Update{{Path: search, Val: list}}}))
		return nil
	})
	c, logs, stop := collectLogged(t, "odd", addr, prometheus.NewRegistry())
	waitFor(t, 10*time.Second, "every notification decoded", func() bool { return c.Stats().Responses == 3+2+1 })
	stop()
	if st := c.Stats(); st.Samples != 3*3 || st.Dropped[gnmi.DropBadValue] != 1 || st.Dropped[gnmi.DropUnsupported] != 1 {
		t.Errorf("%d samples, %d bad values, %d unsupported; want 9, 1 and 1", st.Samples, st.Dropped[gnmi.DropBadValue], st.Dropped[gnmi.DropUnsupported])
	}
	w := logLines(logs, "level=WARN", "target=odd")
	if len(w) != 2 || !strings.Contains(w[0], "reason=bad_value") || !strings.Contains(w[0], "dropped=1") ||
		!strings.Contains(w[0], "example=/interfaces/interface/state/counters/counter-0") || !strings.Contains(w[1], "reason=unsupported") {
		t.Errorf("want one warning per reason, the bad value's naming its metric, got:\n%s", strings.Join(w, "\n"))
	}
}

// collectLogged runs a collector of the one target name at addr, its log
// in the returned buffer (text) and its metrics in reg; stop cancels it
// and waits for Run to return without an error.
func collectLogged(t *testing.T, name, addr string, reg *prometheus.Registry) (c *gnmi.Collector, logs *testenv.LogBuffer, stop func()) {
	t.Helper()
	logs = &testenv.LogBuffer{}
	c, err := gnmi.New(fastConfig([]gnmi.Target{{Name: name, Address: addr}}), fakeKafka(t),
		gnmi.WithLogger(slog.New(slog.NewTextHandler(logs, nil))), gnmi.WithMetrics(gnmi.NewMetrics(reg)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return c, logs, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
