package gnmi

import (
	"testing"

	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/schemas"
)

// TestFloatValKeepsItsDecimals: a reading sent as float_val (a float32,
// as targets of gNMI before 0.7 send decimals: a temperature of 45.3, an
// optic's -2.31 dBm) is published with the float32's decimal form, as the
// same reading sent as decimal64, as JSON_IETF text or as an ieeefloat32
// PSU value is. Before, it was the float32 widened to float64:
// 45.29999923706055 and -2.309999942779541.
func TestFloatValKeepsItsDecimals(t *testing.T) {
	//lint:ignore SA1019 float_val is deprecated, and what the targets this test is about send
	f32 := func(f float32) *pb.TypedValue { return &pb.TypedValue{Value: &pb.TypedValue_FloatVal{FloatVal: f}} }
	out, _ := decodeAll(t, DecoderConfig{}, notif(t, ts1, "/components",
		upd(t, "component[name=CPU]/state/temperature/instant", f32(45.3)),
		upd(t, "component[name=Ethernet1]/transceiver/state/input-power/instant", f32(-2.31)),
		upd(t, "component[name=Ethernet1]/transceiver/state/laser-bias-current/instant", f32(6.5)),
	))
	checkSamples(t, out, []schemas.Sample{
		{Metric: schemas.MetricTemperature, Keys: "name=CPU", Kind: schemas.KindGauge, F64: 45.3},
		{Metric: schemas.MetricOpticInputPower, Keys: "name=Ethernet1", Kind: schemas.KindGauge, F64: -2.31},
		{Metric: schemas.MetricOpticLaserBias, Keys: "name=Ethernet1", Kind: schemas.KindGauge, F64: 6.5},
	})
}
