// Package detections holds what the stages that emit detections share.
package detections

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Send emits det keyed by its fingerprint, in the CloudEvents
// binding, and counts it.
func Send(emit func(*kgo.Record), topic, source string, m *pipeline.Metrics, det *schemas.Detection, state, fp string) error {
	val, err := schemas.MarshalDetection(det)
	if err != nil {
		return fmt.Errorf("%w: %v", pipeline.ErrStop, err)
	}
	m.Detections(state).Inc()
	emit(&kgo.Record{Topic: topic, Key: []byte(fp), Value: val, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(det, source))})
	return nil
}
