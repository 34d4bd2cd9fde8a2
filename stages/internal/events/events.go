// Package events builds the Kafka headers of the JSON messages the stages
// publish in the CloudEvents binary binding (incidents, inventory records),
// so that every such message carries the same attributes in the same order.
package events

import (
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// Meta describes one JSON message of a versioned contract.
type Meta struct {
	// Schema and Version name the contract (schemas.SchemaIncident,
	// schemas.IncidentVersion).
	Schema  string
	Version int
	// Type, Source and ID are the CloudEvents type, source and id.
	Type, Source, ID string
	// Time is the CloudEvents time; the zero time leaves ce_time out.
	Time time.Time
}

// Headers returns the Kafka headers of a message m describes: content type
// JSON, schema and schema version, then ce_specversion (1.0), ce_type,
// ce_source, ce_id and, when m.Time is set, ce_time (RFC 3339 with
// nanoseconds, UTC).
func Headers(m Meta) []kgo.RecordHeader {
	hs := []schemas.Header{
		{Key: schemas.HeaderContentType, Value: []byte(schemas.ContentTypeJSON)},
		{Key: schemas.HeaderSchema, Value: []byte(m.Schema)},
		{Key: schemas.HeaderSchemaVersion, Value: []byte(strconv.Itoa(m.Version))},
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_type", Value: []byte(m.Type)},
		{Key: "ce_source", Value: []byte(m.Source)},
		{Key: "ce_id", Value: []byte(m.ID)},
	}
	if !m.Time.IsZero() {
		hs = append(hs, schemas.Header{Key: "ce_time", Value: []byte(m.Time.UTC().Format(time.RFC3339Nano))})
	}
	return kafka.RecordHeaders(hs)
}
