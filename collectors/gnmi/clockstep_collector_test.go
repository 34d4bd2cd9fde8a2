package gnmi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/internal/testenv"
)

// TestClockStepBackCollected: a target whose clock ran ten minutes ahead
// is stepped back (NTP) after twelve samples of its counters, stamped
// every 10 s of its clock, and goes on sampling; then it resends its last
// notification (a genuine duplicate). With dedup on, the default, every
// sample reaches the publisher, the resend's are dropped, and the step is
// counted in telekernel_gnmi_clock_steps_total and logged once at WARN
// with the target and the step's size.
func TestClockStepBackCollected(t *testing.T) {
	const sec = int64(time.Second)
	base := time.Now().UnixNano()
	var last []byte
	addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(syncResponse); err != nil {
			return nil
		}
		for _, start := range []int64{base, base + 120*sec - 600*sec} {
			for i := range int64(12) {
				last = chassis(t, start+i*10*sec, 1, 3)
				if err := send(last); err != nil {
					return nil
				}
			}
		}
		_ = send(last)
		return nil
	})
	reg := prometheus.NewRegistry()
	c, logs, stop := collectLogged(t, "stepped", addr, reg)
	dups := func() float64 {
		return testenv.MetricValue(t, reg, "telekernel_gnmi_dropped_total", "target=stepped", "reason=duplicate")
	}
	waitFor(t, 10*time.Second, "every notification decoded and counted", func() bool {
		st := c.Stats()
		return st.Responses == 2*12+2 && dups() == float64(st.Dropped[gnmi.DropDuplicate])
	})
	stop()
	if st := c.Stats(); st.Samples != 2*12*3 || st.Dropped[gnmi.DropDuplicate] != 3 {
		t.Errorf("%d samples, %d duplicates; want %d and the resend's 3", st.Samples, st.Dropped[gnmi.DropDuplicate], 2*12*3)
	}
	if n := testenv.MetricValue(t, reg, "telekernel_gnmi_clock_steps_total", "target=stepped"); n != 1 {
		t.Errorf("telekernel_gnmi_clock_steps_total %v, want 1", n)
	}
	if w := logLines(logs, "level=WARN"); len(w) != 1 || !strings.Contains(w[0], "target=stepped") ||
		!strings.Contains(w[0], "clock stepped back") || !strings.Contains(w[0], "step=9m50s") {
		t.Errorf("want one warning naming the target and the step (9m50s), got:\n%s", strings.Join(w, "\n"))
	}
}
