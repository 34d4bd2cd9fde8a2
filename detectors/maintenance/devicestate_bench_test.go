package maintenance

import (
	"fmt"
	"testing"
)

// BenchmarkAppendDeviceState measures AppendDeviceState, which the
// maintain stage calls at every checkpoint for each device whose
// covariate or PSU readings changed (nearly every device that reported),
// in a partition of 100 and of 2000 devices (fleetTracker: 4 covariate
// and 2 PSU readings a device).
func BenchmarkAppendDeviceState(b *testing.B) {
	for _, devices := range []int{100, 2000} {
		b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) {
			tr := fleetTracker(b, devices)
			dev := fmt.Sprintf("edge-%04d", devices/2)
			buf, ok := tr.AppendDeviceState(nil, dev)
			if !ok {
				b.Fatal("no readings")
			}
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = tr.AppendDeviceState(buf[:0], dev)
			}
		})
	}
}
