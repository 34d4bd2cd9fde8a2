package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func exampleMaintenance() *MaintenanceEvent {
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	latest := at.Add(60 * time.Hour)
	e := &MaintenanceEvent{
		Version: MaintenanceVersion, State: MaintenanceOpen,
		EventTime: at, DetectedAt: at.Add(300 * time.Millisecond), OpenedAt: at,
		Device: "edge-1", Component: "name=Ethernet2-transceiver", Metric: "/components/component/transceiver/state/input-power/instant",
		Signal: "optic_rx_power", Unit: "dBm", Value: -5.1, SlopePerHour: -0.05, Threshold: -8, ThresholdSource: ThresholdConfigured,
		Direction: DirectionFalling, PredictedFailure: at.Add(58 * time.Hour),
		Interval: Interval{Earliest: at.Add(50 * time.Hour), Latest: &latest}, Confidence: 0.9, LeadTimeSeconds: 58 * 3600,
		Severity: SeverityWarning, Summary: "optic rx power on edge-1 Ethernet2 falls 0.05 dB/h; -8 dBm in about 58 h",
	}
	e.Key = MaintenanceKey(e.Device, e.Component, e.Signal)
	e.ID = e.Key + "-1795406400000000000-open"
	return e
}

func compileMaintenanceSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(MaintenanceSchemaJSON()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "urn:telekernel:schema:maintenance:v1"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("cannot compile the maintenance schema: %v", err)
	}
	return s
}

func TestMaintenanceRoundTripAndSchema(t *testing.T) {
	s := compileMaintenanceSchema(t)
	open := exampleMaintenance()
	closed := exampleMaintenance()
	closed.State, closed.CloseReason = MaintenanceClosed, CloseRecovered
	end := closed.EventTime.Add(time.Hour)
	closed.ClosedAt, closed.EventTime, closed.ID = &end, end, closed.Key+"-x-closed"
	unbounded := exampleMaintenance()
	unbounded.State, unbounded.Interval.Latest = MaintenanceUpdate, nil
	for _, e := range []*MaintenanceEvent{open, closed, unbounded} {
		b, err := MarshalMaintenance(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(s, b); err != nil {
			t.Fatalf("schema rejects %s: %v", b, err)
		}
		got, err := DecodeMaintenance(MaintenanceHeaders(e, "test"), b)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := MarshalMaintenance(got)
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip differs:\n%s\n%s", b, again)
		}
	}
}

func TestMaintenanceRejects(t *testing.T) {
	f := func(name string, mut func(e *MaintenanceEvent), wantVersion bool) {
		t.Run(name, func(t *testing.T) {
			e := exampleMaintenance()
			mut(e)
			if _, err := MarshalMaintenance(e); err == nil {
				t.Fatal("MarshalMaintenance accepted it")
			}
			// Force it onto the wire and decode.
			_, err := DecodeMaintenance(nil, mustJSON(t, e))
			if err == nil {
				t.Fatal("DecodeMaintenance accepted it")
			}
			if wantVersion != errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("error %v; want ErrUnknownVersion: %v", err, wantVersion)
			}
		})
	}
	f("version", func(e *MaintenanceEvent) { e.Version = 2 }, true)
	f("key", func(e *MaintenanceEvent) { e.Key = "0000000000000000" }, false)
	f("state", func(e *MaintenanceEvent) { e.State = "firing" }, false)
	f("closed without closedAt", func(e *MaintenanceEvent) { e.State, e.CloseReason = MaintenanceClosed, CloseFailed }, false)
	f("confidence", func(e *MaintenanceEvent) { e.Confidence = 1.5 }, false)
	f("interval", func(e *MaintenanceEvent) { l := e.Interval.Earliest.Add(-time.Hour); e.Interval.Latest = &l }, false)
	if _, err := DecodeMaintenance([]Header{{Key: HeaderSchemaVersion, Value: []byte("9")}}, mustJSON(t, exampleMaintenance())); !errors.Is(err, ErrUnknownVersion) {
		t.Fatalf("version header 9: %v", err)
	}
}

func mustJSON(t *testing.T, e *MaintenanceEvent) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
