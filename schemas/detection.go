package schemas

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"time"
)

// DetectionVersion is the version of the detection contract this build
// writes and the only one it reads.
const DetectionVersion = 1

// Detection event types, used as the CloudEvents type.
const (
	DetectionType = "io.telekernel.detection.v1"
	// SchemaDetection is the HeaderSchema value of detection messages.
	SchemaDetection = "detection"
)

// Alert states.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Severities, from least to most urgent.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// alertStates and severities are the values the JSON Schemas' enums of
// state and severity allow; TestContractEnumsMatchSchemas keeps them equal.
var (
	alertStates = []string{StateFiring, StateResolved}
	severities  = []string{SeverityInfo, SeverityWarning, SeverityCritical}
)

// AlertName is the alertname label of every detection.
const AlertName = "TelemetryAnomaly"

// Band is the interval a detector expected the observed value in.
type Band struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Contribution is one series' share of a multivariate detection.
type Contribution struct {
	Metric string  `json:"metric"`
	Keys   string  `json:"keys"`
	Share  float64 `json:"share"` // of the distance, in [0,1]; the shares of a detection sum to 1
}

// Detection is one event of the detection contract, version 1: a firing or
// resolved transition of an alert on one series. It is shaped like an
// Alertmanager alert (labels, annotations, startsAt, endsAt, fingerprint) so
// alerting systems can group and deduplicate with nothing but a JSON parser.
// The JSON Schema is detection.v1.schema.json; see DetectionSchemaJSON.
type Detection struct {
	Version    int       `json:"version"`    // always DetectionVersion
	ID         string    `json:"id"`         // unique per event; stable across re-delivery
	EventTime  time.Time `json:"eventTime"`  // device time of the sample that caused the transition
	DetectedAt time.Time `json:"detectedAt"` // wall time the detector emitted the event
	State      string    `json:"state"`      // StateFiring or StateResolved

	Device string `json:"device"`
	Metric string `json:"metric"`
	Keys   string `json:"keys"`

	Detector  string   `json:"detector"`  // the detector that decided the transition
	Detectors []string `json:"detectors"` // every detector that fired for this event
	Score     float64  `json:"score"`     // calibrated anomaly score in [0,1]
	Severity  string   `json:"severity"`  // SeverityInfo, SeverityWarning or SeverityCritical
	Observed  float64  `json:"observed"`  // the value the detector saw (a rate for counters)
	Expected  float64  `json:"expected"`  // the value it expected
	Band      Band     `json:"band"`      // the interval it expected the value in
	// Contributors are, for multivariate detections only, the series that
	// contributed most, largest share first; absent otherwise.
	Contributors []Contribution `json:"contributors,omitempty"`

	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      *time.Time        `json:"endsAt,omitempty"` // set when resolved
	Fingerprint string            `json:"fingerprint"`
}

// AlertLabels returns the identity labels of the alert on a series. They do
// not include severity or score, so one incident keeps one fingerprint while
// its severity changes.
func AlertLabels(device, metric, keys string) map[string]string {
	l := map[string]string{"alertname": AlertName, "device": device, "metric": metric}
	if keys != "" {
		l["keys"] = keys
	}
	return l
}

// Fingerprint hashes a label set as Prometheus and Alertmanager do (FNV-1a
// 64 over the sorted names and values, each followed by 0xff) and returns it
// as 16 hex digits.
func Fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := fnv.New64a()
	sep := []byte{0xff}
	for _, k := range names {
		h.Write([]byte(k))
		h.Write(sep)
		h.Write([]byte(labels[k]))
		h.Write(sep)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// Validate reports the first field that breaks the contract; the message
// names the field.
func (d *Detection) Validate() error {
	if err := checkHead("detection", d.Version, DetectionVersion, d.ID); err != nil {
		return err
	}
	switch {
	case !slices.Contains(alertStates, d.State):
		return notOneOf("detection: state", d.State, alertStates)
	case d.Device == "":
		return errors.New("detection: device is empty")
	case d.Metric == "":
		return errors.New("detection: metric is empty")
	case d.Detector == "":
		return errors.New("detection: detector is empty")
	case math.IsNaN(d.Score) || d.Score < 0 || d.Score > 1:
		return fmt.Errorf("detection: score %v is outside [0,1]", d.Score)
	case !slices.Contains(severities, d.Severity):
		return notOneOf("detection: severity", d.Severity, severities)
	case d.EventTime.IsZero():
		return errors.New("detection: eventTime is not set")
	case d.DetectedAt.IsZero():
		return errors.New("detection: detectedAt is not set")
	case d.StartsAt.IsZero():
		return errors.New("detection: startsAt is not set")
	case d.State == StateResolved && d.EndsAt == nil:
		return errors.New("detection: endsAt is not set on a resolved detection")
	case d.EndsAt != nil && d.EndsAt.IsZero():
		return errors.New("detection: endsAt is the zero time")
	case d.Labels["alertname"] == "":
		return errors.New("detection: labels have no alertname")
	case d.Fingerprint != Fingerprint(d.Labels):
		return fmt.Errorf("detection: fingerprint %q does not match labels (want %q)", d.Fingerprint, Fingerprint(d.Labels))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"observed", d.Observed}, {"expected", d.Expected}, {"band.lower", d.Band.Lower}, {"band.upper", d.Band.Upper}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("detection: %s %v is not finite", f.name, f.v)
		}
	}
	for i, c := range d.Contributors {
		switch {
		case c.Metric == "":
			return fmt.Errorf("detection: contributors[%d].metric is empty", i)
		case math.IsNaN(c.Share) || c.Share < 0 || c.Share > 1:
			return fmt.Errorf("detection: contributors[%d].share %v is outside [0,1]", i, c.Share)
		}
	}
	return nil
}

// MarshalDetection validates d and encodes it as JSON, times in UTC (see
// utcPtr). A nil Detectors, Labels or Annotations is written as an empty
// array or object, never null, as the JSON Schema requires.
func MarshalDetection(d *Detection) ([]byte, error) {
	return marshalValid(d, "detection", func() any {
		out := *d
		out.EventTime, out.DetectedAt, out.StartsAt = d.EventTime.UTC(), d.DetectedAt.UTC(), d.StartsAt.UTC()
		out.EndsAt = utcPtr(d.EndsAt)
		if out.Detectors == nil {
			out.Detectors = []string{}
		}
		if out.Labels == nil {
			out.Labels = map[string]string{}
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		return &out
	})
}

// DetectionHeaders returns the Kafka headers of a detection message: the
// content type, the contract version and the CloudEvents binary-mode
// attributes (ce_specversion, ce_type, ce_source, ce_id, ce_time).
func DetectionHeaders(d *Detection, source string) []Header {
	return cloudEventHeaders(SchemaDetection, DetectionVersion, DetectionType, source, d.ID, d.DetectedAt)
}

// DecodeDetection checks the version header, when present, and decodes and
// validates one detection. Errors wrap ErrUnknownVersion or ErrMalformed.
func DecodeDetection(headers []Header, value []byte) (*Detection, error) {
	return decodeVersioned[Detection](headers, value, "detection", "detection", DetectionVersion)
}
