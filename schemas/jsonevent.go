package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// validator is a JSON contract message that checks itself.
type validator interface {
	Validate() error
}

// unsupportedVersion is the error of a message of contract in version got
// that this build, which reads version want, cannot read. It wraps
// ErrUnknownVersion.
func unsupportedVersion(contract string, got, want int) error {
	return fmt.Errorf("%w: %s version %d is not supported by this build (it reads version %d)", ErrUnknownVersion, contract, got, want)
}

// checkHead reports a message of a JSON contract whose version this build
// does not read, or whose id is empty: the first two checks of the
// contracts' Validate.
func checkHead(contract string, got, want int, id string) error {
	if got != want {
		return unsupportedVersion(contract, got, want)
	}
	if id == "" {
		return errors.New(contract + ": id is empty")
	}
	return nil
}

// notOneOf is the error of a field whose value v is none of allowed, the
// values its JSON Schema enum lists; what is "contract: field".
func notOneOf(what, v string, allowed []string) error {
	return fmt.Errorf("%s %q is not %s", what, v, orList(allowed))
}

// orList writes values as "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// utcPtr returns *t in UTC as a new pointer, or nil. The JSON contracts
// write every time in UTC (RFC 3339 with Z, as docs/detections.md
// promises): encoding/json writes a zone's offset only to the minute, so a
// time in a zone whose offset has seconds (a historic LMT zone) would come
// back as another instant, and an offset of 24 h or more fails to encode.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// cloudEventHeaders returns the Kafka headers of a JSON contract message:
// the content type, the contract and its version, and the CloudEvents
// binary-mode attributes (ce_specversion, ce_type, ce_source, ce_id,
// ce_time).
func cloudEventHeaders(schema string, version int, ceType, source, id string, at time.Time) []Header {
	return []Header{
		{Key: HeaderContentType, Value: []byte(ContentTypeJSON)},
		{Key: HeaderSchema, Value: []byte(schema)},
		{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(version))},
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_type", Value: []byte(ceType)},
		{Key: "ce_source", Value: []byte(source)},
		{Key: "ce_id", Value: []byte(id)},
		{Key: "ce_time", Value: []byte(at.UTC().Format(time.RFC3339Nano))},
	}
}

// marshalValid validates v and then encodes what out returns (v itself, or
// a copy of it with nil lists made empty) as JSON; errors start "cannot
// encode what".
func marshalValid(v validator, what string, out func() any) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("cannot encode %s: %w", what, err)
	}
	b, err := json.Marshal(out())
	if err != nil {
		return nil, fmt.Errorf("cannot encode %s: %w", what, err)
	}
	return b, nil
}

// unmarshalValid decodes and validates one JSON message; errors start
// "cannot decode what".
func unmarshalValid[T any, PT interface {
	*T
	validator
}](b []byte, what string) (*T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", what, err)
	}
	if err := PT(&v).Validate(); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", what, err)
	}
	return &v, nil
}

// decodeVersioned checks the version header, when present, reads the
// message's version field before the rest (so a future version with
// another shape reports its version rather than a confusing field error),
// then decodes and validates the message. contract names the contract in
// version errors and "contract json" errors; noun names the message in
// "noun has no version field". Errors wrap ErrUnknownVersion or
// ErrMalformed.
func decodeVersioned[T any, PT interface {
	*T
	validator
}](headers []Header, value []byte, contract, noun string, version int) (*T, error) {
	if v, ok := HeaderValue(headers, HeaderSchemaVersion); ok {
		if err := checkVersion(contract, string(v), version); err != nil {
			return nil, err
		}
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(value, &probe); err != nil {
		return nil, fmt.Errorf("%w: %s json: %v", ErrMalformed, contract, err)
	}
	if probe.Version == nil {
		return nil, fmt.Errorf("%w: %s has no version field", ErrUnknownVersion, noun)
	}
	if *probe.Version != version {
		return nil, checkVersion(contract, strconv.Itoa(*probe.Version), version)
	}
	var v T
	if err := json.Unmarshal(value, &v); err != nil {
		return nil, fmt.Errorf("%w: %s json: %v", ErrMalformed, contract, err)
	}
	if err := PT(&v).Validate(); err != nil {
		if errors.Is(err, ErrUnknownVersion) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return &v, nil
}
