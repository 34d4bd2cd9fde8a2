package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// exampleDetection returns a valid firing detection: a traffic drop on
// edge-1 Ethernet1, as in testdata/detection.v1.example.json.
func exampleDetection() *Detection {
	labels := AlertLabels("edge-1", inOctets, "name=Ethernet1")
	return &Detection{
		Version:     DetectionVersion,
		ID:          "9f36e7ef4aaac26d-1795407150000000000-firing",
		EventTime:   time.Date(2026, 11, 23, 4, 12, 30, 0, time.UTC),
		DetectedAt:  time.Date(2026, 11, 23, 4, 12, 30, 412_000_000, time.UTC),
		State:       StateFiring,
		Device:      "edge-1",
		Metric:      inOctets,
		Keys:        "name=Ethernet1",
		Detector:    "robust_z",
		Detectors:   []string{"robust_z", "ewma", "cusum"},
		Score:       0.97,
		Severity:    SeverityCritical,
		Observed:    2_150_000,
		Expected:    118_500_000,
		Band:        Band{Lower: 96_200_000, Upper: 141_000_000},
		Labels:      labels,
		Annotations: map[string]string{"summary": "Traffic drop on edge-1 Ethernet1 (in-octets)"},
		StartsAt:    time.Date(2026, 11, 23, 4, 12, 30, 0, time.UTC),
		Fingerprint: Fingerprint(labels),
	}
}

func resolvedDetection() *Detection {
	d := exampleDetection()
	d.State = StateResolved
	d.ID = "9f36e7ef4aaac26d-1795408260000000000-resolved"
	end := time.Date(2026, 11, 23, 4, 31, 0, 0, time.UTC)
	d.EventTime, d.EndsAt, d.DetectedAt = end, &end, end.Add(388*time.Millisecond)
	d.Score = 0.12
	return d
}

// fnv1a64 is FNV-1a 64 written out from its definition, independent of
// hash/fnv, for the known-answer test.
func fnv1a64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func TestFingerprint(t *testing.T) {
	f := func(labels map[string]string, want string) {
		t.Helper()
		for i := 0; i < 20; i++ { // map order varies between iterations
			if got := Fingerprint(labels); got != want {
				t.Fatalf("Fingerprint(%v) = %s, want %s", labels, got, want)
			}
		}
		// The same set built in another insertion order.
		copied := make(map[string]string, len(labels))
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		for i := len(keys) - 1; i >= 0; i-- {
			copied[keys[i]] = labels[keys[i]]
		}
		if got := Fingerprint(copied); got != want {
			t.Fatalf("Fingerprint of a copy = %s, want %s", got, want)
		}
	}
	// Known answers, computed by hand over the sorted names and values.
	f(nil, "cbf29ce484222325") // the FNV-1a 64 offset basis
	f(map[string]string{}, "cbf29ce484222325")
	f(AlertLabels("edge-1", inOctets, "name=Ethernet1"), "9f36e7ef4aaac26d")
	f(map[string]string{
		"alertname": "TelemetryAnomaly",
		"device":    "edge-1",
		"keys":      "name=Ethernet1",
		"metric":    "/interfaces/interface/state/counters/in-octets",
	}, func() string {
		var b []byte
		for _, kv := range [][2]string{
			{"alertname", "TelemetryAnomaly"},
			{"device", "edge-1"},
			{"keys", "name=Ethernet1"},
			{"metric", "/interfaces/interface/state/counters/in-octets"},
		} {
			b = append(b, kv[0]...)
			b = append(b, 0xff)
			b = append(b, kv[1]...)
			b = append(b, 0xff)
		}
		h := fnv.New64a()
		h.Write(b)
		if h.Sum64() != fnv1a64(b) {
			t.Fatal("hash/fnv and the written-out FNV-1a disagree")
		}
		return fmt.Sprintf("%016x", fnv1a64(b))
	}())
	// A name/value boundary is part of the hash: {a: bc} differs from {ab: c}.
	if Fingerprint(map[string]string{"a": "bc"}) == Fingerprint(map[string]string{"ab": "c"}) {
		t.Error("Fingerprint does not separate names from values")
	}
	// Without keys the label is omitted, not empty.
	if _, ok := AlertLabels("edge-1", "/system/state/uptime", "")["keys"]; ok {
		t.Error(`AlertLabels sets "keys" for a series without keys`)
	}
}

func TestDetectionRoundTrip(t *testing.T) {
	f := func(name string, d *Detection) {
		t.Run(name, func(t *testing.T) {
			b, err := MarshalDetection(d)
			if err != nil {
				t.Fatalf("MarshalDetection: %v", err)
			}
			got, err := DecodeDetection(DetectionHeaders(d, "telekernel/detect"), b)
			if err != nil {
				t.Fatalf("DecodeDetection: %v\n%s", err, b)
			}
			want := *d
			if want.Detectors == nil {
				want.Detectors = []string{}
			}
			if want.Annotations == nil {
				want.Annotations = map[string]string{}
			}
			if !detectionsEqual(got, &want) {
				t.Fatalf("round trip changed the detection:\n got %+v\nwant %+v", got, &want)
			}
			b2, err := MarshalDetection(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs:\n%s\n%s", b, b2)
			}
		})
	}
	f("firing", exampleDetection())
	f("resolved", resolvedDetection())
	f("no keys, nil slices and maps", func() *Detection {
		d := exampleDetection()
		d.Keys = ""
		d.Labels = AlertLabels(d.Device, d.Metric, "")
		d.Fingerprint = Fingerprint(d.Labels)
		d.Detectors, d.Annotations = nil, nil
		return d
	}())
	f("non-UTC times and extremes", func() *Detection {
		d := exampleDetection()
		zone := time.FixedZone("", -(3*3600 + 30*60))
		d.EventTime = time.Date(2026, 1, 2, 3, 4, 5, 123456789, zone)
		d.Score, d.Observed, d.Expected = 0, -math.MaxFloat64, math.SmallestNonzeroFloat64
		d.Band = Band{Lower: -1e308, Upper: 1e308}
		return d
	}())
	f("unicode", func() *Detection {
		d := exampleDetection()
		d.Device = "路由器-1"
		d.Labels = AlertLabels(d.Device, d.Metric, d.Keys)
		d.Labels["team"] = "réseau \"core\" <&>"
		d.Fingerprint = Fingerprint(d.Labels)
		d.Annotations["description"] = "✓ line1\nline2\t\u2028"
		return d
	}())
}

// detectionsEqual compares a decoded detection a with b, times by instant;
// a's times must be in UTC, as MarshalDetection writes them.
func detectionsEqual(a, b *Detection) bool {
	sameTime := func(x, y time.Time) bool {
		_, ox := x.Zone()
		return x.Equal(y) && ox == 0
	}
	if !sameTime(a.EventTime, b.EventTime) || !sameTime(a.DetectedAt, b.DetectedAt) || !sameTime(a.StartsAt, b.StartsAt) {
		return false
	}
	if (a.EndsAt == nil) != (b.EndsAt == nil) || (a.EndsAt != nil && !sameTime(*a.EndsAt, *b.EndsAt)) {
		return false
	}
	x, y := *a, *b
	x.EventTime, x.DetectedAt, x.StartsAt, x.EndsAt = time.Time{}, time.Time{}, time.Time{}, nil
	y.EventTime, y.DetectedAt, y.StartsAt, y.EndsAt = time.Time{}, time.Time{}, time.Time{}, nil
	return reflect.DeepEqual(x, y)
}

func TestMarshalDetectionNoNulls(t *testing.T) {
	d := exampleDetection()
	d.Detectors, d.Annotations = nil, nil
	b, err := MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("MarshalDetection wrote null: %s", b)
	}
	if d.Detectors != nil || d.Annotations != nil {
		t.Error("MarshalDetection modified its argument")
	}
}

func TestDetectionValidate(t *testing.T) {
	f := func(name string, change func(d *Detection), wantText string) {
		t.Run(name, func(t *testing.T) {
			d := exampleDetection()
			change(d)
			err := d.Validate()
			if err == nil {
				t.Fatalf("Validate accepted a detection with a bad %s", wantText)
			}
			if !strings.Contains(err.Error(), wantText) {
				t.Errorf("error %q does not name %q", err, wantText)
			}
			if _, err := MarshalDetection(d); err == nil {
				t.Error("MarshalDetection accepted it")
			}
			// A message carrying it (marshalled past Validate) is rejected
			// by the decoder as malformed, or as an unknown version.
			raw, err := json.Marshal(d)
			if err != nil {
				return // e.g. NaN cannot even be written
			}
			_, err = DecodeDetection(nil, raw)
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownVersion) {
				t.Errorf("DecodeDetection = %v, want ErrMalformed or ErrUnknownVersion", err)
			}
		})
	}
	f("version 0", func(d *Detection) { d.Version = 0 }, "version")
	f("contributor share", func(d *Detection) { d.Contributors = []Contribution{{Metric: "/m", Share: 1.5}} }, "contributors[0].share")
	f("contributor metric", func(d *Detection) { d.Contributors = []Contribution{{Share: 0.5}} }, "contributors[0].metric")
	f("version 2", func(d *Detection) { d.Version = 2 }, "version 2 is not supported")
	f("empty id", func(d *Detection) { d.ID = "" }, "id")
	f("empty state", func(d *Detection) { d.State = "" }, "state")
	f("state bogus", func(d *Detection) { d.State = "bogus" }, `state "bogus"`)
	f("state in capitals", func(d *Detection) { d.State = "FIRING" }, "state")
	f("empty device", func(d *Detection) { d.Device = "" }, "device")
	f("empty metric", func(d *Detection) { d.Metric = "" }, "metric")
	f("empty detector", func(d *Detection) { d.Detector = "" }, "detector")
	f("negative score", func(d *Detection) { d.Score = -0.01 }, "score")
	f("score above 1", func(d *Detection) { d.Score = 1.5 }, "score")
	f("NaN score", func(d *Detection) { d.Score = math.NaN() }, "score")
	f("empty severity", func(d *Detection) { d.Severity = "" }, "severity")
	f("unknown severity", func(d *Detection) { d.Severity = "page" }, `severity "page"`)
	f("zero eventTime", func(d *Detection) { d.EventTime = time.Time{} }, "eventTime")
	f("zero detectedAt", func(d *Detection) { d.DetectedAt = time.Time{} }, "detectedAt")
	f("zero startsAt", func(d *Detection) { d.StartsAt = time.Time{} }, "startsAt")
	f("resolved without endsAt", func(d *Detection) { d.State = StateResolved }, "endsAt")
	f("zero endsAt", func(d *Detection) { d.EndsAt = &time.Time{} }, "endsAt")
	f("no labels", func(d *Detection) { d.Labels = nil; d.Fingerprint = Fingerprint(nil) }, "alertname")
	f("labels without alertname", func(d *Detection) {
		delete(d.Labels, "alertname")
		d.Fingerprint = Fingerprint(d.Labels)
	}, "alertname")
	f("wrong fingerprint", func(d *Detection) { d.Fingerprint = "0000000000000000" }, "fingerprint")
	f("fingerprint of other labels", func(d *Detection) { d.Labels["device"] = "edge-2" }, "fingerprint")
	f("uppercase fingerprint", func(d *Detection) { d.Fingerprint = strings.ToUpper(d.Fingerprint) }, "fingerprint")
	f("infinite observed", func(d *Detection) { d.Observed = math.Inf(1) }, "observed")
	f("NaN expected", func(d *Detection) { d.Expected = math.NaN() }, "expected")
	f("infinite band lower", func(d *Detection) { d.Band.Lower = math.Inf(-1) }, "band.lower")
	f("NaN band upper", func(d *Detection) { d.Band.Upper = math.NaN() }, "band.upper")

	for _, d := range []*Detection{exampleDetection(), resolvedDetection()} {
		if err := d.Validate(); err != nil {
			t.Errorf("Validate rejected a good %s detection: %v", d.State, err)
		}
	}
}

func TestDecodeDetectionRejects(t *testing.T) {
	good, err := MarshalDetection(exampleDetection())
	if err != nil {
		t.Fatal(err)
	}
	withVersion := func(v string) []byte {
		return bytes.Replace(good, []byte(`"version":1`), []byte(`"version":`+v), 1)
	}
	f := func(name string, headers []Header, value []byte, wantErr error, wantText ...string) {
		t.Run(name, func(t *testing.T) {
			d, err := DecodeDetection(headers, value)
			if err == nil {
				t.Fatalf("DecodeDetection accepted it: %+v", d)
			}
			if !errors.Is(err, wantErr) {
				t.Fatalf("DecodeDetection = %v, want an error wrapping %v", err, wantErr)
			}
			for _, s := range wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	ver := func(v string) []Header { return hdrs(HeaderSchemaVersion, v) }

	f("version 2 in JSON", nil, withVersion("2"), ErrUnknownVersion, "version 2 is not supported")
	f("version 2 in JSON, shape unknown", nil, []byte(`{"version":2,"whatever":[1,2,3]}`), ErrUnknownVersion, "version 2")
	f("version 0 in JSON", nil, withVersion("0"), ErrUnknownVersion)
	f("version -1 in JSON", nil, withVersion("-1"), ErrUnknownVersion)
	f("no version", nil, bytes.Replace(good, []byte(`"version":1,`), nil, 1), ErrUnknownVersion, "no version")
	f("null version", nil, withVersion("null"), ErrUnknownVersion)
	f("version 2 in header", ver("2"), good, ErrUnknownVersion, "version 2 is not supported")
	f("version abc in header", ver("abc"), good, ErrUnknownVersion, "not an integer")
	f("version 2 from DetectionHeaders", append(DetectionHeaders(exampleDetection(), "x")[:2:2], Header{Key: HeaderSchemaVersion, Value: []byte("2")}), good, ErrUnknownVersion)

	f("empty", nil, nil, ErrMalformed)
	f("not JSON", nil, []byte("firing!"), ErrMalformed)
	f("truncated", nil, good[:len(good)/2], ErrMalformed)
	f("trailing garbage", nil, append(bytes.Clone(good), "}"...), ErrMalformed)
	f("array", nil, []byte(`[1]`), ErrMalformed)
	f("version as string", nil, withVersion(`"1"`), ErrMalformed)
	f("version as float", nil, withVersion(`1.5`), ErrMalformed)
	f("score as string", nil, bytes.Replace(good, []byte(`"score":0.97`), []byte(`"score":"0.97"`), 1), ErrMalformed)
	f("bad time", nil, bytes.Replace(good, []byte(`"2026-11-23T04:12:30Z"`), []byte(`"2026-11-23 04:12:30"`), 1), ErrMalformed)
	f("state bogus", nil, bytes.Replace(good, []byte(`"firing"`), []byte(`"bogus"`), 1), ErrMalformed, "state")
	f("labels changed", nil, bytes.Replace(good, []byte(`"device":"edge-1","keys"`), []byte(`"device":"edge-2","keys"`), 1), ErrMalformed, "fingerprint")
	f("missing device", nil, bytes.Replace(good, []byte(`"device":"edge-1","metric"`), []byte(`"metric"`), 1), ErrMalformed, "device")
}

// compileDetectionSchema compiles DetectionSchemaJSON with format assertions
// on, so date-time is checked too.
func compileDetectionSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(DetectionSchemaJSON()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "urn:telekernel:schema:detection:v1"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("cannot compile the detection schema: %v", err)
	}
	return s
}

func validateJSON(s *jsonschema.Schema, b []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func TestDetectionSchemaAcceptsContract(t *testing.T) {
	s := compileDetectionSchema(t)
	f := func(name string, b []byte) {
		t.Run(name, func(t *testing.T) {
			if err := validateJSON(s, b); err != nil {
				t.Fatalf("schema rejects it: %v\n%s", err, b)
			}
			// And the Go decoder accepts what the schema accepts here.
			d, err := DecodeDetection(nil, b)
			if err != nil {
				t.Fatalf("DecodeDetection: %v", err)
			}
			again, err := MarshalDetection(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateJSON(s, again); err != nil {
				t.Fatalf("schema rejects the re-marshalled detection: %v", err)
			}
		})
	}
	for _, name := range []string{"detection.v1.example.json", "detection.v1.resolved.example.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		f(name, b)
	}
	marshal := func(d *Detection) []byte {
		b, err := MarshalDetection(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f("marshalled firing", marshal(exampleDetection()))
	f("marshalled resolved", marshal(resolvedDetection()))
	f("marshalled with nil slices and maps", marshal(func() *Detection {
		d := exampleDetection()
		d.Detectors, d.Annotations = nil, nil
		return d
	}()))
	f("marshalled multivariate with contributors", marshal(func() *Detection {
		d := exampleDetection()
		d.Detector, d.Detectors = "multivar", []string{"multivar"}
		d.Contributors = []Contribution{{Metric: "/components/component/state/temperature/instant", Keys: "name=CPU", Share: 0.7},
			{Metric: "/components/component/fan/state/speed", Keys: "name=Fan1", Share: 0.3}}
		return d
	}()))
	f("marshalled rule alert with its own label and fingerprint", marshal(func() *Detection {
		d := exampleDetection()
		d.Detector, d.Detectors, d.Severity = "drift", []string{"drift"}, SeverityWarning
		d.Metric, d.Keys = MetricOpticInputPower, "name=Ethernet1-transceiver"
		d.Labels = AlertLabels(d.Device, d.Metric, d.Keys)
		d.Labels["rule"] = "drift"
		d.Fingerprint = Fingerprint(d.Labels)
		return d
	}()))
	f("marshalled with non-UTC time", marshal(func() *Detection {
		d := exampleDetection()
		d.EventTime = d.EventTime.In(time.FixedZone("", 5*3600+45*60))
		return d
	}()))
}

func TestDetectionExampleMatchesGo(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "detection.v1.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeDetection(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	want := exampleDetection()
	if d.Fingerprint != want.Fingerprint || d.ID != want.ID || d.Metric != want.Metric || !reflect.DeepEqual(d.Labels, want.Labels) {
		t.Errorf("example file and exampleDetection disagree:\n%+v\n%+v", d, want)
	}
}

func TestDetectionSchemaRejects(t *testing.T) {
	s := compileDetectionSchema(t)
	good, err := MarshalDetection(exampleDetection())
	if err != nil {
		t.Fatal(err)
	}
	var base map[string]any
	if err := json.Unmarshal(good, &base); err != nil {
		t.Fatal(err)
	}
	f := func(name string, change func(m map[string]any)) {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			_ = json.Unmarshal(good, &m)
			change(m)
			b, _ := json.Marshal(m)
			if err := validateJSON(s, b); err == nil {
				t.Fatalf("schema accepts it:\n%s", b)
			}
		})
	}
	for _, field := range []string{"version", "id", "eventTime", "detectedAt", "state", "device", "metric", "keys",
		"detector", "detectors", "score", "severity", "observed", "expected", "band", "labels", "annotations", "startsAt", "fingerprint"} {
		f("missing "+field, func(m map[string]any) { delete(m, field) })
	}
	f("state bogus", func(m map[string]any) { m["state"] = "bogus" })
	f("severity page", func(m map[string]any) { m["severity"] = "page" })
	f("version 2", func(m map[string]any) { m["version"] = 2 })
	f("version as string", func(m map[string]any) { m["version"] = "1" })
	f("score above 1", func(m map[string]any) { m["score"] = 1.01 })
	f("negative score", func(m map[string]any) { m["score"] = -0.5 })
	f("score as string", func(m map[string]any) { m["score"] = "0.5" })
	f("empty id", func(m map[string]any) { m["id"] = "" })
	f("empty device", func(m map[string]any) { m["device"] = "" })
	f("short fingerprint", func(m map[string]any) { m["fingerprint"] = "9f36e7ef" })
	f("uppercase fingerprint", func(m map[string]any) { m["fingerprint"] = "9F36E7EF4AAAC26D" })
	f("time without zone", func(m map[string]any) { m["eventTime"] = "2026-11-23T04:12:30" })
	f("time as number", func(m map[string]any) { m["eventTime"] = 1795407150 })
	f("date only", func(m map[string]any) { m["startsAt"] = "2026-11-23" })
	f("impossible date", func(m map[string]any) { m["startsAt"] = "2026-13-45T04:12:30Z" })
	f("label value not a string", func(m map[string]any) { m["labels"].(map[string]any)["x"] = 1 })
	f("labels without alertname", func(m map[string]any) { delete(m["labels"].(map[string]any), "alertname") })
	f("annotation value null", func(m map[string]any) { m["annotations"].(map[string]any)["x"] = nil })
	f("detectors null", func(m map[string]any) { m["detectors"] = nil })
	f("detectors with a number", func(m map[string]any) { m["detectors"] = []any{"robust_z", 3} })
	f("band missing upper", func(m map[string]any) { delete(m["band"].(map[string]any), "upper") })
	f("band with extra field", func(m map[string]any) { m["band"].(map[string]any)["mid"] = 1 })
	f("unknown field", func(m map[string]any) { m["extra"] = true })
	f("resolved without endsAt", func(m map[string]any) { m["state"] = "resolved" })
	f("endsAt not a time", func(m map[string]any) { m["endsAt"] = "soon" })
}

func TestDetectionHeaders(t *testing.T) {
	d := exampleDetection()
	d.DetectedAt = d.DetectedAt.In(time.FixedZone("", 3600))
	got := DetectionHeaders(d, "telekernel/detect/edge-pool-1")
	want := hdrs(
		HeaderContentType, "application/json",
		HeaderSchema, "detection",
		HeaderSchemaVersion, "1",
		"ce_specversion", "1.0",
		"ce_type", "io.telekernel.detection.v1",
		"ce_source", "telekernel/detect/edge-pool-1",
		"ce_id", d.ID,
		"ce_time", "2026-11-23T04:12:30.412Z",
	)
	if len(got) != len(want) {
		t.Fatalf("DetectionHeaders = %v", got)
	}
	for i := range got {
		if got[i].Key != want[i].Key || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Errorf("header %d = %s: %q, want %s: %q", i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
}

func TestDetectionSchemaJSONIsACopy(t *testing.T) {
	a := DetectionSchemaJSON()
	a[0] = 'X'
	if b := DetectionSchemaJSON(); b[0] != '{' {
		t.Fatal("DetectionSchemaJSON returns shared memory")
	}
	var m map[string]any
	if err := json.Unmarshal(DetectionSchemaJSON(), &m); err != nil {
		t.Fatal(err)
	}
	if m["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", m["$schema"])
	}
	// Every JSON field of Detection is described, and nothing else.
	props := m["properties"].(map[string]any)
	typ := reflect.TypeFor[Detection]()
	var names []string
	for i := 0; i < typ.NumField(); i++ {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
		if _, ok := props[name]; !ok {
			t.Errorf("schema does not describe field %q", name)
		}
	}
	if len(props) != len(names) {
		t.Errorf("schema describes %d properties, Detection has %d fields", len(props), len(names))
	}
}
