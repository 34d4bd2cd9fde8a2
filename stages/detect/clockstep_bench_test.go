package detect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// benchSeries is the number of series of a device of BenchmarkSamplesBehind:
// 12 interfaces' byte counters in and out and oper-status.
const benchSeries = 36

// benchDeviceRows appends to sb the rows of dev at tick i (10 s from t0):
// benchSeries samples.
func benchDeviceRows(sb *schemas.SampleBuilder, dev string, i int) {
	ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
	for f := range 12 {
		keys := fmt.Sprintf("name=Ethernet%d", f+1)
		octets := uint64(1<<30) + uint64(i)*10_000_000 + uint64(f)
		for _, s := range []schemas.Sample{
			counterSample(schemas.MetricInOctets, keys, octets),
			counterSample(schemas.MetricOutOctets, keys, octets/2),
			stateSample(stateevents.MetricOperStatus, keys, "UP"),
		} {
			s.TS, s.Device, s.Source = ts, dev, schemas.SourceGNMI
			sb.Append(&s)
		}
	}
}

// BenchmarkSamplesBehind measures the stage's records of one device in a
// partition of 100 and of 2000 devices of benchSeries series each: per
// op, the device's own record of a tick and ("late") a second source's
// record of its samples 15 minutes behind (a collector that publishes
// late while the device reports on), whose samples count toward the
// device's clock stepping back (clockstep.go) and are dropped; "on-time"
// is the device's own record alone. Per op, one tick of the device.
func BenchmarkSamplesBehind(b *testing.B) {
	for _, devices := range []int{100, 2000} {
		for _, late := range []bool{false, true} {
			name := fmt.Sprintf("devices=%d/on-time", devices)
			if late {
				name = fmt.Sprintf("devices=%d/late", devices)
			}
			b.Run(name, func(b *testing.B) {
				d := newTestDetect(b, Config{Alert: alertOff(), SeriesExpiry: -1})
				sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
				defer sb.Release()
				for i := range 2 {
					for dv := range devices {
						benchDeviceRows(sb, fmt.Sprintf("edge-%04d", dv), i)
					}
					process(b, d, []*kgo.Record{recordOf(b, sb)})
				}
				dev := fmt.Sprintf("edge-%04d", devices/2)
				const lag = 90 // ticks: 15 minutes
				tick := lag + 10
				emit := func(*kgo.Record) {}
				recs := make([]*kgo.Record, 0, 2)
				// Bytes are samples: its MB/s is millions of samples a second.
				n := benchSeries
				if late {
					n *= 2
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					recs = recs[:0]
					benchDeviceRows(sb, dev, tick)
					recs = append(recs, recordOf(b, sb))
					if late {
						benchDeviceRows(sb, dev, tick-lag)
						recs = append(recs, recordOf(b, sb))
					}
					tick++
					b.StartTimer()
					for _, r := range recs {
						if err := d.Process(context.Background(), r, emit); err != nil {
							b.Fatal(err)
						}
					}
				}
				if st := d.parts[0].series[schemas.SeriesKey{Device: dev, Metric: schemas.MetricInOctets, Keys: "name=Ethernet1"}]; st.seen() != t0.Add(time.Duration(tick-1)*10*time.Second).UnixNano() {
					b.Fatalf("the device's counter was last sampled at %v, want its own latest", time.Unix(0, st.seen()).UTC())
				}
			})
		}
	}
}
