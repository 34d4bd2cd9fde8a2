package schemas

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// MaintenanceVersion is the version of the maintenance contract this build
// writes and the only one it reads.
const MaintenanceVersion = 1

// Maintenance event type (CloudEvents type) and HeaderSchema value.
const (
	MaintenanceType   = "io.telekernel.maintenance.v1"
	SchemaMaintenance = "maintenance"
)

// Maintenance event states. An event opens once, is updated as its estimate
// moves, and closes once.
const (
	MaintenanceOpen   = "open"
	MaintenanceUpdate = "update"
	MaintenanceClosed = "closed"
)

// Reasons a maintenance event closes (closeReason).
const (
	// CloseRecovered: the trend no longer heads for the threshold.
	CloseRecovered = "recovered"
	// CloseFailed: the signal crossed the threshold (the predicted failure
	// happened).
	CloseFailed = "failed"
	// CloseStale: the series stopped reporting.
	CloseStale = "stale"
)

// Directions in which a signal degrades.
const (
	DirectionFalling = "falling" // failure when the value falls below the threshold
	DirectionRising  = "rising"  // failure when the value rises above the threshold
)

// Threshold sources.
const (
	ThresholdDevice     = "device"     // the device's own alarm threshold
	ThresholdConfigured = "configured" // telekernel's configuration
)

// The values the maintenance JSON Schema's enums allow (closeReason also
// allows "" on an event that is not closed); TestContractEnumsMatchSchemas
// keeps them equal.
var (
	maintenanceStates = []string{MaintenanceOpen, MaintenanceUpdate, MaintenanceClosed}
	closeReasons      = []string{CloseRecovered, CloseFailed, CloseStale}
	thresholdSources  = []string{ThresholdDevice, ThresholdConfigured}
	directions        = []string{DirectionFalling, DirectionRising}
)

//go:embed maintenance.v1.schema.json
var maintenanceSchemaJSON []byte

// MaintenanceSchemaJSON returns the JSON Schema (draft 2020-12) of the
// maintenance contract, version MaintenanceVersion. The slice is a fresh
// copy.
func MaintenanceSchemaJSON() []byte { return append([]byte(nil), maintenanceSchemaJSON...) }

// Interval is a time interval; Latest is nil when it is unbounded (the
// slope's interval includes no degradation at all).
type Interval struct {
	Earliest time.Time  `json:"earliest"`
	Latest   *time.Time `json:"latest"`
}

// MaintenanceEvent is one event of the maintenance contract, version 1, on
// tk.maintenance (Kafka key = Key; CloudEvents binary mode headers as for
// detections). It says that one component's health signal trends towards
// its failure threshold, when it is predicted to get there, and how sure
// that is. The JSON Schema is maintenance.v1.schema.json.
type MaintenanceEvent struct {
	Version     int        `json:"version"`     // always MaintenanceVersion
	ID          string     `json:"id"`          // unique per event, stable on re-delivery: <key>-<eventTime ns>-<state>
	Key         string     `json:"key"`         // 16 hex digits identifying (device, component, signal); also the Kafka key
	State       string     `json:"state"`       // MaintenanceOpen, MaintenanceUpdate or MaintenanceClosed
	EventTime   time.Time  `json:"eventTime"`   // device time of the sample that caused the event
	DetectedAt  time.Time  `json:"detectedAt"`  // wall time the stage emitted it
	OpenedAt    time.Time  `json:"openedAt"`    // device time the event opened; the same on all its events
	ClosedAt    *time.Time `json:"closedAt"`    // device time it closed; null unless closed
	CloseReason string     `json:"closeReason"` // CloseRecovered, CloseFailed or CloseStale when closed; "" otherwise

	Device    string `json:"device"`
	Component string `json:"component"` // list keys of the component, e.g. "name=Ethernet2-transceiver"
	Metric    string `json:"metric"`    // the series' metric path
	Signal    string `json:"signal"`    // e.g. optic_rx_power, laser_bias, temperature, fan_speed, psu_efficiency
	Unit      string `json:"unit"`      // unit of value and threshold, e.g. dBm, mA, degC, rpm, ratio

	Value           float64 `json:"value"`           // robust level estimate at eventTime
	SlopePerHour    float64 `json:"slopePerHour"`    // robust slope estimate, unit per hour
	Threshold       float64 `json:"threshold"`       // failure threshold
	ThresholdSource string  `json:"thresholdSource"` // ThresholdDevice or ThresholdConfigured
	Direction       string  `json:"direction"`       // DirectionFalling or DirectionRising

	PredictedFailure time.Time `json:"predictedFailure"` // when the level is predicted to reach the threshold
	Interval         Interval  `json:"interval"`         // interval of the predicted failure time
	Confidence       float64   `json:"confidence"`       // in [0,1]: how sure the trend is real and heads for the threshold
	LeadTimeSeconds  float64   `json:"leadTimeSeconds"`  // predictedFailure − eventTime, seconds (≥ 0)
	Severity         string    `json:"severity"`         // SeverityInfo, SeverityWarning or SeverityCritical

	Summary string `json:"summary"` // a sentence for people
}

// MaintenanceKey returns the stable key of a maintenance event: FNV-1a 64 of
// device, component and signal, each followed by 0xff, as 16 hex digits.
func MaintenanceKey(device, component, signal string) string {
	return Fingerprint(map[string]string{"device": device, "component": component, "signal": signal})
}

// Validate reports the first field that breaks the contract.
func (e *MaintenanceEvent) Validate() error {
	if err := checkHead("maintenance", e.Version, MaintenanceVersion, e.ID); err != nil {
		return err
	}
	switch {
	case e.Key != MaintenanceKey(e.Device, e.Component, e.Signal):
		return fmt.Errorf("maintenance: key %q does not match device, component and signal", e.Key)
	case !slices.Contains(maintenanceStates, e.State):
		return notOneOf("maintenance: state", e.State, maintenanceStates)
	case e.Device == "":
		return errors.New("maintenance: device is empty")
	case e.Metric == "":
		return errors.New("maintenance: metric is empty")
	case e.Signal == "":
		return errors.New("maintenance: signal is empty")
	case e.EventTime.IsZero() || e.DetectedAt.IsZero() || e.OpenedAt.IsZero() || e.PredictedFailure.IsZero() || e.Interval.Earliest.IsZero():
		return errors.New("maintenance: eventTime, detectedAt, openedAt, predictedFailure and interval.earliest must be set")
	case (e.State == MaintenanceClosed) != (e.ClosedAt != nil):
		return errors.New("maintenance: closedAt is set exactly on closed events")
	case e.State == MaintenanceClosed && !slices.Contains(closeReasons, e.CloseReason):
		return notOneOf("maintenance: closeReason", e.CloseReason, closeReasons)
	case e.State != MaintenanceClosed && e.CloseReason != "":
		return errors.New("maintenance: closeReason is set on an event that is not closed")
	case !slices.Contains(directions, e.Direction):
		return notOneOf("maintenance: direction", e.Direction, directions)
	case !slices.Contains(thresholdSources, e.ThresholdSource):
		return notOneOf("maintenance: thresholdSource", e.ThresholdSource, thresholdSources)
	case math.IsNaN(e.Confidence) || e.Confidence < 0 || e.Confidence > 1:
		return fmt.Errorf("maintenance: confidence %v is outside [0,1]", e.Confidence)
	case !slices.Contains(severities, e.Severity):
		return notOneOf("maintenance: severity", e.Severity, severities)
	case e.Interval.Latest != nil && e.Interval.Latest.Before(e.Interval.Earliest):
		return errors.New("maintenance: interval.latest is before interval.earliest")
	case e.LeadTimeSeconds < 0:
		return fmt.Errorf("maintenance: leadTimeSeconds %v is negative", e.LeadTimeSeconds)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"value", e.Value}, {"slopePerHour", e.SlopePerHour}, {"threshold", e.Threshold}, {"leadTimeSeconds", e.LeadTimeSeconds}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("maintenance: %s %v is not finite", f.name, f.v)
		}
	}
	return nil
}

// MarshalMaintenance validates e and encodes it as JSON, times in UTC (see
// utcPtr).
func MarshalMaintenance(e *MaintenanceEvent) ([]byte, error) {
	return marshalValid(e, "maintenance event", func() any {
		out := *e
		out.EventTime, out.DetectedAt, out.OpenedAt = e.EventTime.UTC(), e.DetectedAt.UTC(), e.OpenedAt.UTC()
		out.ClosedAt, out.PredictedFailure = utcPtr(e.ClosedAt), e.PredictedFailure.UTC()
		out.Interval = Interval{Earliest: e.Interval.Earliest.UTC(), Latest: utcPtr(e.Interval.Latest)}
		return &out
	})
}

// MaintenanceHeaders returns the Kafka headers of a maintenance message:
// content type, contract and version, and the CloudEvents binary-mode
// attributes.
func MaintenanceHeaders(e *MaintenanceEvent, source string) []Header {
	return cloudEventHeaders(SchemaMaintenance, MaintenanceVersion, MaintenanceType, source, e.ID, e.DetectedAt)
}

// DecodeMaintenance checks the version header, when present, and decodes and
// validates one event. Errors wrap ErrUnknownVersion or ErrMalformed.
func DecodeMaintenance(headers []Header, value []byte) (*MaintenanceEvent, error) {
	return decodeVersioned[MaintenanceEvent](headers, value, SchemaMaintenance, "maintenance event", MaintenanceVersion)
}
