package schemas_test

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// A collector builds a record of samples and encodes it as one Kafka message;
// a stage decodes it and reads the rows.
func ExampleDecodeSamples() {
	mem := memory.NewGoAllocator()
	ts := time.Date(2026, 11, 23, 4, 12, 30, 0, time.UTC).UnixNano()

	// Producer side.
	b := schemas.NewSampleBuilder(mem)
	defer b.Release()
	b.Append(&schemas.Sample{TS: ts, Device: "edge-1", Metric: "/interfaces/interface/state/counters/in-octets",
		Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: math.MaxUint64, Source: schemas.SourceGNMI})
	b.Append(&schemas.Sample{TS: ts, Device: "edge-1", Metric: "/components/component/state/temperature/instant",
		Keys: "name=CPU0", Kind: schemas.KindGauge, F64: 47.5, Source: schemas.SourceSNMP})
	b.Append(&schemas.Sample{TS: ts, Device: "edge-1", Metric: "/interfaces/interface/state/oper-status",
		Keys: "name=Ethernet1", Kind: schemas.KindState, Str: "UP", Source: schemas.SourceGNMI})
	rec := b.NewRecord()
	value, err := schemas.EncodeSamples(nil, rec)
	rec.Release()
	if err != nil {
		fmt.Println(err)
		return
	}
	headers := schemas.SamplesHeaders() // key = "edge-1"
	for _, h := range headers {
		fmt.Printf("%s: %s\n", h.Key, h.Value)
	}

	// Consumer side.
	got, err := schemas.DecodeSamples(mem, headers, value)
	if err != nil {
		fmt.Println("dead-letter:", err)
		return
	}
	defer got.Release()
	r, err := schemas.NewSampleReader(got)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < r.Len(); i++ {
		fmt.Print(r.Device(i), " ", r.Metric(i), " [", r.Keys(i), "] ", r.Kind(i), " ")
		switch r.Kind(i) {
		case schemas.KindCounter:
			v, _ := r.U64(i)
			fmt.Println(v)
		case schemas.KindGauge:
			v, _ := r.F64(i)
			fmt.Println(v)
		case schemas.KindState:
			v, _ := r.Str(i)
			fmt.Println(v)
		}
	}
	// Output:
	// content-type: application/vnd.apache.arrow.stream
	// telekernel-schema: samples
	// telekernel-schema-version: 1
	// edge-1 /interfaces/interface/state/counters/in-octets [name=Ethernet1] counter 18446744073709551615
	// edge-1 /components/component/state/temperature/instant [name=CPU0] gauge 47.5
	// edge-1 /interfaces/interface/state/oper-status [name=Ethernet1] state UP
}

// A consumer that meets a version it does not read dead-letters the message
// with the error text as the reason.
func ExampleDecodeSamples_unknownVersion() {
	headers := []schemas.Header{
		{Key: schemas.HeaderContentType, Value: []byte(schemas.ContentTypeArrowStream)},
		{Key: schemas.HeaderSchema, Value: []byte(schemas.SchemaSamples)},
		{Key: schemas.HeaderSchemaVersion, Value: []byte("2")},
	}
	_, err := schemas.DecodeSamples(memory.NewGoAllocator(), headers, []byte("a v2 value"))
	fmt.Println("unknown version:", errors.Is(err, schemas.ErrUnknownVersion))
	fmt.Println("dead-letter reason:", err)
	// Output:
	// unknown version: true
	// dead-letter reason: unknown schema version: samples version 2 is not supported by this build (it reads version 1); upgrade the consumer or re-publish in version 1
}

// The fingerprint of an alert is the FNV-1a 64 hash of its sorted labels; it
// is the Kafka key of the detection and the deduplication key downstream.
func ExampleFingerprint() {
	labels := schemas.AlertLabels("edge-1", "/interfaces/interface/state/counters/in-octets", "name=Ethernet1")
	fmt.Println(labels)
	fmt.Println(schemas.Fingerprint(labels))
	// Output:
	// map[alertname:TelemetryAnomaly device:edge-1 keys:name=Ethernet1 metric:/interfaces/interface/state/counters/in-octets]
	// 9f36e7ef4aaac26d
}
