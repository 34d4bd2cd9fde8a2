package schemas

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema compiles a contract's JSON Schema with format assertions
// on, so date-time is checked too.
func compileSchema(t testing.TB, doc []byte, url string) *jsonschema.Schema {
	t.Helper()
	d, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("schema %s is not JSON: %v", url, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(url, d); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("cannot compile %s: %v", url, err)
	}
	return s
}

// schemaEnums returns every enum of a JSON Schema by its JSON pointer.
func schemaEnums(t *testing.T, doc []byte) map[string][]string {
	t.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	enums := map[string][]string{}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, sub := range m {
			if k != "enum" {
				walk(sub, at+"/"+k)
				continue
			}
			var vals []string
			for _, x := range sub.([]any) {
				vals = append(vals, x.(string))
			}
			enums[at] = vals
		}
	}
	walk(root, "")
	return enums
}

// TestContractEnumsMatchSchemas: the JSON Schemas are literal files and
// Validate checks Go lists; every enum of a schema must be one of these
// lists, value for value, or Validate and the schema drift apart.
func TestContractEnumsMatchSchemas(t *testing.T) {
	f := func(name string, doc []byte, want map[string][]string) {
		t.Helper()
		got := schemaEnums(t, doc)
		for at, vals := range got {
			w, ok := want[at]
			if !ok {
				t.Errorf("%s schema: enum %s %v has no Go list that Validate checks", name, at, vals)
				continue
			}
			if !slices.Equal(slices.Sorted(slices.Values(vals)), slices.Sorted(slices.Values(w))) {
				t.Errorf("%s schema: enum %s is %v, the Go list %v", name, at, vals, w)
			}
		}
		for at := range want {
			if _, ok := got[at]; !ok {
				t.Errorf("%s schema: no enum at %s", name, at)
			}
		}
	}
	f("detection", DetectionSchemaJSON(), map[string][]string{
		"/properties/state":    alertStates,
		"/properties/severity": severities,
	})
	f("incident", IncidentSchemaJSON(), map[string][]string{
		"/properties/state":                   incidentStates,
		"/properties/severity":                severities,
		"/properties/rule":                    incidentRules,
		"/$defs/entity/properties/kind":       entityKinds,
		"/$defs/evidence/properties/role":     evidenceRoles,
		"/$defs/evidence/properties/state":    alertStates,
		"/$defs/evidence/properties/severity": severities,
	})
	f("maintenance", MaintenanceSchemaJSON(), map[string][]string{
		"/properties/state":           maintenanceStates,
		"/properties/closeReason":     append([]string{""}, closeReasons...), // "" unless closed
		"/properties/thresholdSource": thresholdSources,
		"/properties/direction":       directions,
		"/properties/severity":        severities,
	})
}

// TestContractTimesKeepTheirInstant: encoding/json writes a zone's offset
// to the minute only, so a time in a zone whose offset has seconds (a
// historic LMT zone) came back from the JSON contracts as another
// instant, and an offset of a day or more did not encode. The contracts
// write every time in UTC (docs/detections.md: "Times are RFC 3339 in
// UTC"), and leave the caller's times as they were.
func TestContractTimesKeepTheirInstant(t *testing.T) {
	zoned := regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d"`)
	for _, zone := range []*time.Location{
		time.FixedZone("LMT", 3600+1172),             // +01:19:32
		time.FixedZone("LMT", -(4*3600 + 56*60 + 2)), // -04:56:02, New York before 1883
		time.FixedZone("", 25*3600),
		time.FixedZone("", -5*3600), // a plain offset, written in UTC too
	} {
		// at returns distinct instants, so a time written in the wrong
		// field shows too.
		n := 0
		at := func() time.Time {
			n++
			return time.Date(2026, 11, 23, 4, 12, n, 123456789, time.UTC).In(zone)
		}
		ptr := func() *time.Time { x := at(); return &x }
		name := time.Unix(0, 0).In(zone).Format("-07:00:00")
		// check encodes with marshal, decodes with decode, and compares the
		// times that times lists before and after.
		check := func(contract string, marshal func() ([]byte, error), decode func([]byte) ([]time.Time, error), times []time.Time) {
			t.Helper()
			b, err := marshal()
			if err != nil {
				t.Errorf("%s, zone %s: cannot encode: %v", contract, name, err)
				return
			}
			if m := zoned.Find(b); m != nil {
				t.Errorf("%s, zone %s: %s is not in UTC:\n%s", contract, name, m, b)
			}
			back, err := decode(b)
			if err != nil {
				t.Errorf("%s, zone %s: cannot decode: %v", contract, name, err)
				return
			}
			for i := range times {
				if !back[i].Equal(times[i]) {
					t.Errorf("%s, zone %s: time %d %v came back as %v (%v off)", contract, name, i, times[i], back[i], back[i].Sub(times[i]))
				}
			}
		}

		d := resolvedDetection()
		d.EventTime, d.DetectedAt, d.StartsAt, d.EndsAt = at(), at(), at(), ptr()
		check("detection", func() ([]byte, error) { return MarshalDetection(d) }, func(b []byte) ([]time.Time, error) {
			x, err := DecodeDetection(nil, b)
			if err != nil {
				return nil, err
			}
			return []time.Time{x.EventTime, x.DetectedAt, x.StartsAt, *x.EndsAt}, nil
		}, []time.Time{d.EventTime, d.DetectedAt, d.StartsAt, *d.EndsAt})

		in := exampleIncident()
		in.State, in.OpenedAt, in.UpdatedAt, in.ResolvedAt = IncidentResolved, at(), at(), ptr()
		in.Evidence = append(in.Evidence, in.Evidence[0])
		in.Evidence[0].Time, in.Evidence[1].Time = at(), at()
		check("incident", func() ([]byte, error) { return MarshalIncident(in) }, func(b []byte) ([]time.Time, error) {
			x, err := UnmarshalIncident(b)
			if err != nil {
				return nil, err
			}
			return []time.Time{x.OpenedAt, x.UpdatedAt, *x.ResolvedAt, x.Evidence[0].Time, x.Evidence[1].Time}, nil
		}, []time.Time{in.OpenedAt, in.UpdatedAt, *in.ResolvedAt, in.Evidence[0].Time, in.Evidence[1].Time})

		e := exampleMaintenance()
		e.State, e.CloseReason = MaintenanceClosed, CloseFailed
		e.EventTime, e.DetectedAt, e.OpenedAt, e.ClosedAt = at(), at(), at(), ptr()
		e.PredictedFailure, e.Interval = at(), Interval{Earliest: at(), Latest: ptr()}
		check("maintenance", func() ([]byte, error) { return MarshalMaintenance(e) }, func(b []byte) ([]time.Time, error) {
			x, err := DecodeMaintenance(nil, b)
			if err != nil {
				return nil, err
			}
			return []time.Time{x.EventTime, x.DetectedAt, x.OpenedAt, *x.ClosedAt, x.PredictedFailure, x.Interval.Earliest, *x.Interval.Latest}, nil
		}, []time.Time{e.EventTime, e.DetectedAt, e.OpenedAt, *e.ClosedAt, e.PredictedFailure, e.Interval.Earliest, *e.Interval.Latest})

		// Marshal writes a copy: the caller's times keep their zone.
		for _, x := range []time.Time{d.EventTime, *d.EndsAt, in.OpenedAt, *in.ResolvedAt, in.Evidence[1].Time, e.EventTime, *e.ClosedAt, *e.Interval.Latest} {
			if x.Location() != zone {
				t.Errorf("zone %s: Marshal changed the caller's time %v", name, x)
			}
		}
	}
}

// TestOrList: the allowed values in Validate's errors read as a list.
func TestOrList(t *testing.T) {
	f := func(in []string, want string) {
		t.Helper()
		if got := orList(in); got != want {
			t.Errorf("orList(%q) = %q, want %q", in, got, want)
		}
	}
	f(nil, "")
	f([]string{"a"}, "a")
	f([]string{"a", "b"}, "a or b")
	f([]string{"a", "b", "c"}, "a, b or c")
}
