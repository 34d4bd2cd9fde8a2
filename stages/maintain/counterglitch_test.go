package maintain

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestMaintainCounterGlitch probes the FCS error counter of sim-00's
// Ethernet2 (about 10^6, well below 2^32) in TestMaintainBadValues' run,
// polled every minute or every other minute (2 or 3 rates a 5-minute
// bucket), with one sample read wrong and its count again on the next:
// 2^32-1 (a Counter32's -1 exported raw), the last value plus 2^31,
// 2^64-1 or 0; before the baselines are learned, after them, and while
// its frame errors rise towards the threshold (the case opens at minute
// 165-170). For each, the stage logs no WARN line, restores right after
// the sample and at the end, and opens and closes the clean run's cases
// at the same times; polled every minute, it emits the clean run's
// events (the updates too) with predicted failures within a bucket.
// Before, the high reads were rates of up to 7*10^7 errors per second
// and the poll after a 0 the whole count over one interval: polled every
// other minute, 25 of the 36 probes erred (the FCS case opened 10
// minutes late, or closed as failed at 170 and opened again at 205);
// every minute, 4 of 36 moved its predicted failure 7-9 minutes later.
func TestMaintainCounterGlitch(t *testing.T) {
	if testing.Short() {
		t.Skip("a hundred runs of 4 simulated hours")
	}
	for _, every := range []int{1, 2} {
		t.Run(fmt.Sprintf("polled every %d min", every), func(t *testing.T) { counterGlitch(t, every) })
	}
}

// counterGlitch is TestMaintainCounterGlitch with the counter polled
// every every minutes (its samples at other ticks dropped).
func counterGlitch(t *testing.T, every int) {
	poll := func(i int, s *schemas.Sample) {
		if i%every != 0 && s.Device == badDevice && s.Metric == schemas.MetricInFCSErrors {
			s.Device = ""
		}
	}
	want := badRun(t, badRecords(t, poll), -1)
	if len(want.failures) > 0 {
		t.Fatalf("without a bad sample: %s", strings.Join(want.failures, "\n"))
	}
	wn := make([]string, len(want.events))
	for i, e := range want.events {
		wn[i] = badName(e)
	}
	for _, v := range []struct {
		name string
		f    func(last uint64) uint64
	}{
		{"2^32-1", func(uint64) uint64 { return 1<<32 - 1 }},
		{"2^31 above", func(last uint64) uint64 { return last + 1<<31 }},
		{"2^64-1", func(uint64) uint64 { return math.MaxUint64 }},
		{"0", func(uint64) uint64 { return 0 }},
	} {
		for _, tick := range []int{26, 28, 46, 48, 160, 162, 164, 166, 168} {
			t.Run(fmt.Sprintf("%s at %d", v.name, tick), func(t *testing.T) {
				var last uint64
				got := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
					if poll(i, s); s.Device != badDevice || s.Metric != schemas.MetricInFCSErrors || s.Keys != "name=Ethernet2" {
						return
					}
					if i == tick-every {
						last = s.U64
					}
					if i == tick {
						s.U64 = v.f(last)
					}
				}), 2*tick+1) // right after the bad sample's tick
				for _, f := range got.failures {
					t.Error(f)
				}
				gn := make([]string, len(got.events))
				for i, e := range got.events {
					gn[i] = badName(e)
				}
				if every > 1 {
					// Polled every other minute, a bucket holds 2 or 3
					// rates: the mean rate over the bad read's two
					// intervals in place of each moves its median, and
					// so the predictions.
					gn, wn := slices.DeleteFunc(gn, isUpdate), slices.DeleteFunc(slices.Clone(wn), isUpdate)
					if !slices.Equal(gn, wn) {
						t.Errorf("cases opened and closed\n%s\nwant\n%s", strings.Join(gn, "\n"), strings.Join(wn, "\n"))
					}
					return
				}
				if !slices.Equal(gn, wn) {
					t.Errorf("events\n%s\nwant\n%s", strings.Join(gn, "\n"), strings.Join(wn, "\n"))
					return
				}
				for i, e := range got.events {
					if w := want.events[i]; e.PredictedFailure.Sub(w.PredictedFailure).Abs() > 5*time.Minute {
						t.Errorf("%s: predicted failure %v, want %v", badName(e), e.PredictedFailure, w.PredictedFailure)
					}
				}
			})
		}
	}
}

// isUpdate reports whether a badName names an update.
func isUpdate(name string) bool { return strings.HasPrefix(name, schemas.MaintenanceUpdate+" ") }
