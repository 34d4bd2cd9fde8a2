package detect

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// Sensor readings as the SNMP collector and the gNMI collector (IOS-XR's
// native models, origin in front) write them.
var sensorMetrics = []string{
	schemas.MetricSNMPSensorPrefix + "dBm",
	schemas.MetricSNMPSensorPrefix + "voltsDC",
	"Cisco-IOS-XR-envmon-oper:/environmental-monitoring/racks/rack/slots/slot/modules/module/sensor-types/sensor-type/sensor-names/sensor-name/value-detailed/value",
	"Cisco-IOS-XR-controller-optics-oper:/optics-oper/optics-ports/optics-port/optics-info/lane-data/receive-power",
}

// wanderingSensors returns rows of 8 sensors of one metric that wander
// as sensors do: a daily swing of ±3 around their levels, a slow random
// walk (about a unit a day), noise of 0.3, half of them read in whole
// units; the first one's level steps by step from tick at on.
func wanderingSensors(seed uint64, metric string, at int, step float64) func(i int) []schemas.Sample {
	rng := rand.New(rand.NewPCG(seed, 2))
	walk := make([]float64, 8)
	return func(i int) []schemas.Sample {
		out := make([]schemas.Sample, 0, len(walk))
		day := float64(i) / 8640
		for k := range walk {
			walk[k] += 0.01 * rng.NormFloat64()
			v := 40 + float64(k) + 3*math.Sin(2*math.Pi*day) + walk[k] + 0.3*rng.NormFloat64()
			if k == 0 && i >= at {
				v += step
			}
			if k%2 == 0 {
				v = math.Round(v)
			}
			out = append(out, schemas.Sample{Kind: schemas.KindGauge, Metric: metric, Keys: "name=s" + string(rune('0'+k)), F64: v})
		}
		return out
	}
}

// TestDetectSensorsWander: hardware sensor readings that wander (a daily
// swing, a slow walk) fire nothing over four days, whichever collector
// named them: an SNMP ENTITY-SENSOR value outside OpenConfig's leaves or a
// vendor's native sensor path is a sensor as /components/component/… is
// (sensorGauge), so a new extreme within the band is no range break.
// Before, each of these metrics fired 17–26 range breaks over the four
// days. A sensor whose level collapses still fires, on the first day and
// after the fourth.
func TestDetectSensorsWander(t *testing.T) {
	const n = 4 * 8640
	for _, metric := range sensorMetrics {
		for seed := uint64(1); seed <= 2; seed++ {
			recs := sampleRecords(t, n, 60, wanderingSensors(seed, metric, n, 0))
			if got := summary(process(t, newTestDetect(t, Config{}), recs)); len(got) != 0 {
				t.Errorf("%s seed %d: %d detections over four days, want none: %v", metric, seed, len(got), got[:min(len(got), 6)])
			}
		}
		for _, at := range []int{3000, n - 500} {
			recs := sampleRecords(t, n, 60, wanderingSensors(1, metric, at, -20))
			var firing []string
			for _, s := range summary(process(t, newTestDetect(t, Config{}), recs)) {
				if strings.HasPrefix(s, "firing ") {
					firing = append(firing, s)
				}
			}
			if len(firing) == 0 {
				t.Errorf("%s: a drop of 20 at tick %d fired nothing", metric, at)
			}
		}
	}
}
