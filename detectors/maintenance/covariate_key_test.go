package maintenance

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/telekernel/telekernel/schemas"
)

// TestObserveKeepsNoCovariateMetric: a covariate reading's metric is
// copied, not retained: the stage's strings alias its input record's
// memory. Before, a covariate key held the caller's metric string, so a
// record's buffer was kept alive with the key (and, reused, would have
// changed the key under the map).
func TestObserveKeepsNoCovariateMetric(t *testing.T) {
	tr, _ := New(Config{})
	buf := []byte(schemas.MetricTemperature)
	metric := unsafe.String(&buf[0], len(buf))
	tr.Observe(t0.UnixNano(), "edge-1", metric, "name=Ethernet1-transceiver", 40)
	want, _ := tr.AppendDeviceState(nil, "edge-1")
	copy(buf, bytes.Repeat([]byte{'x'}, len(buf))) // the record's memory, reused
	if got, _ := tr.AppendDeviceState(nil, "edge-1"); !bytes.Equal(got, want) {
		t.Errorf("the device's record changed with the caller's buffer:\n%q\nwant\n%q", got, want)
	}
}
