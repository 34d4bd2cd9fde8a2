package schemas_test

import (
	"fmt"
	"math"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// A power stage writes one message per device and window; a consumer reads
// it back with DecodePower.
func ExampleDecodePower() {
	w := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	nan := math.NaN()
	rows := []schemas.PowerRow{
		{WindowStart: w.UnixNano(), WindowEnd: w.Add(15 * time.Minute).UnixNano(), Device: "edge-1", Model: "TK-SIM-8",
			Row: schemas.PowerRowDevice, MeasuredW: 231.5, ModelledW: 229.8, EnergyWh: 57.9, Utilisation: nan, ResidualZ: 0.4, Samples: 90},
		{WindowStart: w.UnixNano(), WindowEnd: w.Add(15 * time.Minute).UnixNano(), Device: "edge-1", Model: "TK-SIM-8",
			Row: schemas.PowerRowSaving, Component: "name=Ethernet4", ModelledW: 6.5, EnergyWh: 1.6, MeasuredW: nan, Utilisation: nan,
			ResidualZ: nan, SpeedBps: 100e9, Reason: schemas.SavingAdminUpOperDown, Detail: "Ethernet4 is up without link"},
	}
	value, err := schemas.EncodePower(nil, rows)
	if err != nil {
		panic(err)
	}
	got, err := schemas.DecodePower(schemas.PowerHeaders(), value)
	if err != nil {
		panic(err)
	}
	for _, r := range got {
		fmt.Printf("%s %s %q measured %v modelled %v W, %v Wh, reason %q\n", r.Device, r.Row, r.Component, r.MeasuredW, r.ModelledW, r.EnergyWh, r.Reason)
	}
	// Output:
	// edge-1 device "" measured 231.5 modelled 229.8 W, 57.9 Wh, reason ""
	// edge-1 saving "name=Ethernet4" measured NaN modelled 6.5 W, 1.6 Wh, reason "admin_up_oper_down"
}

// A maintenance consumer needs a JSON parser only; in Go, DecodeMaintenance
// also checks the version and the contract.
func ExampleDecodeMaintenance() {
	value := []byte(`{"version":1,"id":"x-1","key":"` + schemas.MaintenanceKey("edge-1", "name=Fan1", "fan_speed") + `","state":"open",
	"eventTime":"2026-11-23T04:00:00Z","detectedAt":"2026-11-23T04:00:01Z","openedAt":"2026-11-23T04:00:00Z","closedAt":null,"closeReason":"",
	"device":"edge-1","component":"name=Fan1","metric":"/components/component/fan/state/speed","signal":"fan_speed","unit":"rpm",
	"value":4100,"slopePerHour":-25,"threshold":3000,"thresholdSource":"configured","direction":"falling",
	"predictedFailure":"2026-11-25T00:00:00Z","interval":{"earliest":"2026-11-24T16:00:00Z","latest":null},
	"confidence":0.999,"leadTimeSeconds":158400,"severity":"warning","summary":"fan_speed of edge-1 Fan1 falls"}`)
	e, err := schemas.DecodeMaintenance(nil, value)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.State, e.Device, e.Component, e.Signal, "fails about", e.PredictedFailure.Format(time.RFC3339), "latest unbounded:", e.Interval.Latest == nil)
	// Output:
	// open edge-1 name=Fan1 fan_speed fails about 2026-11-25T00:00:00Z latest unbounded: true
}
