package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectHourlyJob: a CPU at about 10 % whose hourly job takes it to
// 50 % for a minute (a cron at :50, the same every hour) fires at most its
// first 3 bursts (the repeat rule's count), on the first day, and none
// after: the gauges' repeat rule
// knows the burst for a habit, and every burst it passes over renews that
// (ensemble.RepeatConfig). Before, a burst fired again whenever the three
// alerts it matched were older than the rule's window, 3 to 6 times a day
// for ever. The CPU stuck at 100 % on the sixth day still fires at once.
func TestDetectHourlyJob(t *testing.T) {
	const day, days = 8640, 6
	stuck := 5*day + 14*360
	rng := rand.New(rand.NewPCG(7, 7))
	rows := func(i int) []schemas.Sample {
		v := math.Round(10 + rng.NormFloat64())
		if (i+37)%360 < 6 {
			v = 50
		}
		if i >= stuck && i < stuck+120 {
			v = 100
		}
		return []schemas.Sample{{Kind: schemas.KindGauge, Metric: schemas.MetricSystemCPU, Keys: "index=0", F64: v}}
	}
	perDay := make([]int, days)
	stuckAt := -1
	for _, d := range process(t, newTestDetect(t, Config{}), sampleRecords(t, days*day, 60, rows)) {
		if d.State != schemas.StateFiring {
			continue
		}
		tick := int(d.EventTime.Sub(t0).Seconds()) / 10
		if tick >= stuck && tick < stuck+120 {
			stuckAt = tick - stuck
			continue
		}
		perDay[tick/day]++
	}
	if perDay[0] > 3 || perDay[1]+perDay[2]+perDay[3]+perDay[4]+perDay[5] != 0 {
		t.Errorf("hourly job: firing per day %v, want at most 3 (the repeat rule's count) on the first and none after", perDay)
	}
	if stuckAt != 0 {
		t.Errorf("CPU stuck at 100 %%: fired at sample %d of it, want 0", stuckAt)
	}
}
