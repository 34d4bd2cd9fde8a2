package correlate

import (
	"fmt"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkCheckpointStorm: a partition holding 2 000 open device
// incidents, then per op one more detection and the transaction's
// checkpoint. It reports the changelog bytes a checkpoint writes.
func BenchmarkCheckpointStorm(b *testing.B) {
	c, add := storm(b, 2000)
	var written int
	c.Checkpoint(func(_ int32, k, v []byte) { written += len(k) + len(v) })
	b.Logf("the first checkpoint of 2 000 incidents: %d bytes", written)
	b.ReportAllocs()
	written = 0
	b.ResetTimer()
	for i := range b.N {
		b.SetBytes(int64(add(det(60+i/1000, schemas.StateFiring, fmt.Sprintf("leaf%04d", i%2000), mOper, fmt.Sprintf("name=Ethernet%d", 8+i%1000), "link_down"))))
		c.Checkpoint(func(_ int32, k, v []byte) { written += len(k) + len(v) })
	}
	b.ReportMetric(float64(written)/float64(b.N), "changelog-B/op")
}

// BenchmarkStorm: per op, a storm into one partition, 8 ports down on
// each of 500 devices (4 000 detections, 500 device incidents open at the
// end); it reports the detections processed per second.
func BenchmarkStorm(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		storm(b, 500)
	}
	b.ReportMetric(float64(b.N*4000)/b.Elapsed().Seconds(), "detections/s")
}
