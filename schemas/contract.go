package schemas

import _ "embed"

//go:embed detection.v1.schema.json
var detectionSchemaJSON []byte

// DetectionSchemaJSON returns the JSON Schema (draft 2020-12) of the detection
// contract, version DetectionVersion: the exact shape of the JSON that
// MarshalDetection writes. Alerting systems can validate the tk.detections
// messages against it with any JSON Schema validator. The returned slice is a
// fresh copy; the caller may modify it.
func DetectionSchemaJSON() []byte {
	return append([]byte(nil), detectionSchemaJSON...)
}
