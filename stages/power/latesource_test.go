package power

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestPowerLateSecondSource: a second source that publishes every sample
// of a device 15 minutes late (a second collector of the same device, or
// a relay that lags), one record a minute between the device's own on
// time, changes none of its windows (measured power, utilisation) and is
// taken for no clock step: nothing is logged. Before, its PSU readings
// and port status, more than 10 minutes older than those held, were taken
// by the estimator as the device's clock stepping back: each tick was
// measured at the PSU reading of 15 minutes before, and 8 windows were
// off, without a WARN line.
func TestPowerLateSecondSource(t *testing.T) {
	const ticks, lag = 180, 15
	onTime := skewRecords(t, ticks, onTime, nil)
	want, _, _ := stepRun(t, onTime, 0)
	late := deviceRecords(t, ticks, stepDevice)
	var recs []*kgo.Record
	for i, r := range onTime {
		recs = append(recs, r)
		if i >= lag {
			recs = append(recs, late[i-lag])
		}
	}
	got, _, warns := stepRun(t, recs, 0)
	start, _ := time.Parse(time.DateOnly, expiryStart)
	if diffs := stepDiffs(got, want, start); len(diffs) > 0 {
		t.Errorf("%d windows of %s with a second source 15 min late differ from those without:\n%s", len(diffs), stepDevice, strings.Join(diffs, "\n"))
	}
	if len(warns) != 0 {
		t.Errorf("WARN lines %q, want none: the device reports on time between the late samples", warns)
	}
}

// deviceRecords is fleetRecords' fleet on time with dev's samples alone.
func deviceRecords(t *testing.T, ticks int, dev string) []*kgo.Record {
	t.Helper()
	return fleetRecords(t, ticks, func(_ int, s *schemas.Sample) bool { return s.Device == dev })
}
