package maintenance

import (
	"fmt"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// fleetTracker returns a tracker holding devices devices' series and
// readings, one sample each, as the default signals keep them of a
// router with 4 transceivers, 4 interfaces, 2 fans and 2 PSUs (22 series,
// 4 covariate and 2 PSU readings a device).
func fleetTracker(tb testing.TB, devices int) *Tracker {
	tb.Helper()
	tr, err := New(Config{})
	if err != nil {
		tb.Fatal(err)
	}
	ts := t0.UnixNano()
	for d := range devices {
		dev := fmt.Sprintf("edge-%04d", d)
		for i := range 4 {
			opt := fmt.Sprintf("name=Ethernet%d-transceiver", i+1)
			tr.Observe(ts, dev, schemas.MetricOpticInputPower, opt, -3)
			tr.Observe(ts, dev, schemas.MetricOpticLaserBias, opt, 6)
			tr.Observe(ts, dev, schemas.MetricTemperature, opt, 40)
			tr.Observe(ts, dev, schemas.MetricThresholdInPowerLower, opt+",severity=CRITICAL", -12)
			iface := fmt.Sprintf("name=Ethernet%d", i+1)
			tr.ObserveCounter(ts, dev, schemas.MetricInFCSErrors, iface, 1)
			tr.ObserveCounter(ts, dev, schemas.MetricInErrors, iface, 1)
		}
		for i := range 2 {
			tr.Observe(ts, dev, schemas.MetricFanSpeed, fmt.Sprintf("name=Fan%d", i+1), 5000)
			psu := fmt.Sprintf("name=PSU%d", i+1)
			tr.Observe(ts, dev, schemas.MetricPSUOutPower, psu, 200)
			tr.Observe(ts, dev, schemas.MetricPSUInVoltage, psu, 230)
			tr.Observe(ts, dev, schemas.MetricPSUInCurrent, psu, 1)
		}
	}
	return tr
}

// BenchmarkLatest measures Latest, which the maintain stage calls about
// once per input record of a device while its samples come more than
// expiry.StepBack behind its series (a second source late, or its clock
// stepped back), in a partition of 100 and of 2000 such devices.
func BenchmarkLatest(b *testing.B) {
	for _, devices := range []int{100, 2000} {
		b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) {
			tr := fleetTracker(b, devices)
			dev := fmt.Sprintf("edge-%04d", devices/2)
			if tr.Latest(dev) == 0 {
				b.Fatal("no latest")
			}
			b.ReportAllocs()
			for b.Loop() {
				tr.Latest(dev)
			}
		})
	}
}
