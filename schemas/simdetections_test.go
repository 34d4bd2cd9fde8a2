package schemas_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/correlate"
	"github.com/telekernel/telekernel/stages/detect"
	"github.com/telekernel/telekernel/stages/inventory"
	"github.com/telekernel/telekernel/stages/power"
)

// simRecords runs a simulated fleet of cfg for ticks samples and returns its
// samples messages, one per device per 60 ticks, as the publisher writes
// them.
func simRecords(t *testing.T, cfg sim.Config, ticks int) ([]*kgo.Record, *schemas.Inventory) {
	t.Helper()
	cfg.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	builders := map[string]*schemas.SampleBuilder{}
	var recs []*kgo.Record
	flush := func() {
		for _, dev := range slices.Sorted(maps.Keys(builders)) {
			rec := builders[dev].NewRecord()
			val, err := schemas.EncodeSamples(nil, rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			r := &kgo.Record{Topic: "tk.samples", Key: []byte(dev), Value: val}
			for _, h := range schemas.SamplesHeaders() {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			recs = append(recs, r)
		}
	}
	for tick := 1; tick <= ticks; tick++ {
		fleet.Next(func(s *schemas.Sample) {
			sb := builders[s.Device]
			if sb == nil {
				sb = schemas.NewSampleBuilder(memory.NewGoAllocator())
				builders[s.Device] = sb
			}
			sb.Append(s)
		})
		if tick%60 == 0 || tick == ticks {
			flush()
		}
	}
	return recs, fleet.Inventory()
}

func compileSchemaFile(t *testing.T, doc []byte, url string) *jsonschema.Schema {
	t.Helper()
	d, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", url, err)
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

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// TestSimulatedDetectionsMatchContract: every detection the detect and power
// stages emit for a simulated fleet with faults of every kind validates
// against detection.v1.schema.json, and its key and headers are those
// docs/detections.md documents: key = fingerprint = hash of the labels,
// ce_id = id, ce_time = detectedAt, version headers 1; a resolved event has
// the fingerprint and startsAt of the firing event it ends, and an endsAt
// not before it.
func TestSimulatedDetectionsMatchContract(t *testing.T) {
	s := compileSchemaFile(t, schemas.DetectionSchemaJSON(), "urn:telekernel:schema:detection:v1")
	m := time.Minute
	cfg := sim.Config{Devices: 6, Interfaces: 4, Transceivers: true, Power: true, Topology: sim.Topology{Spines: 2},
		Faults: []sim.Fault{
			{Device: "sim-02", Interface: "Ethernet3", Kind: sim.FaultTrafficSpike, After: 45 * m, Duration: 10 * m},
			{Device: "sim-03", Interface: "Ethernet4", Kind: sim.FaultTrafficDrop, After: 70 * m, Duration: 20 * m},
			{Device: "sim-04", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: 50 * m, Duration: 5 * m},
			{Device: "sim-05", Interface: "Ethernet2", Kind: sim.FaultBGPReset, After: 60 * m, Duration: 2 * m},
			{Device: "sim-02", Interface: "Ethernet4", Kind: sim.FaultLinkFlap, After: 80 * m, Duration: 5 * m},
			{Device: "sim-03", Interface: "Ethernet1", Kind: sim.FaultOpticDegradation, After: 40 * m, Duration: 60 * m},
			{Device: "sim-04", Component: "Fan2", Kind: sim.FaultFanFailure, After: 90 * m, Duration: 10 * m, Precursor: 40 * m},
			{Device: "sim-05", Component: "PSU1", Kind: sim.FaultPSUDegradation, After: 60 * m, Duration: 30 * m},
			{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultRxErrors, After: 40 * m, Duration: 30 * m},
			{Device: "sim-03", Interface: "Ethernet3", Kind: sim.FaultCounterReset, After: 65 * m},
		}}
	recs, inv := simRecords(t, cfg, 720)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dt, err := detect.New(detect.Config{}, "tk.detections", pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := power.New(power.Config{}, "tk.power", "tk.detections", pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	var out []*kgo.Record
	emit := func(r *kgo.Record) {
		if r.Topic == "tk.detections" {
			out = append(out, r)
		}
	}
	for _, r := range recs {
		if err := dt.Process(context.Background(), r, emit); err != nil {
			t.Fatal(err)
		}
		if err := pw.Process(context.Background(), r, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := dt.Flush(emit); err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("%d detections, want many", len(out))
	}
	firing := map[string]*schemas.Detection{}
	detectors := map[string]int{}
	ids := map[string][]byte{}
	for _, r := range out {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Value))
		if err != nil {
			t.Fatalf("value is not JSON: %v", err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("schema rejects an emitted detection: %v\n%s", err, r.Value)
			continue
		}
		var hs []schemas.Header
		for _, h := range r.Headers {
			hs = append(hs, schemas.Header{Key: h.Key, Value: h.Value})
		}
		d, err := schemas.DecodeDetection(hs, r.Value)
		if err != nil {
			t.Errorf("DecodeDetection: %v\n%s", err, r.Value)
			continue
		}
		detectors[d.Detector]++
		if prev, ok := ids[d.ID]; ok {
			t.Errorf("two events with id %s (a consumer dedups the second):\n%s\n%s", d.ID, prev, r.Value)
		}
		ids[d.ID] = r.Value
		want := map[string]string{
			"content-type": "application/json", "telekernel-schema": "detection", "telekernel-schema-version": "1",
			"ce_specversion": "1.0", "ce_type": "io.telekernel.detection.v1", "ce_id": d.ID,
			"ce_time": d.DetectedAt.UTC().Format(time.RFC3339Nano),
		}
		for k, w := range want {
			if g, ok := header(r, k); !ok || g != w {
				t.Errorf("%s: header %s = %q (present %v), want %q", d.ID, k, g, ok, w)
			}
		}
		if src, _ := header(r, "ce_source"); src == "" {
			t.Errorf("%s: no ce_source", d.ID)
		}
		if string(r.Key) != d.Fingerprint || d.Fingerprint != schemas.Fingerprint(d.Labels) {
			t.Errorf("%s: key %s, fingerprint %s, hash of labels %s", d.ID, r.Key, d.Fingerprint, schemas.Fingerprint(d.Labels))
		}
		if _, ok := d.Labels["severity"]; ok {
			t.Errorf("%s: severity in labels", d.ID)
		}
		checkDocumentedRule(t, d)
		switch d.State {
		case schemas.StateFiring:
			if prev := firing[d.Fingerprint]; prev != nil && !prev.StartsAt.Equal(d.StartsAt) {
				t.Errorf("%s: update of a firing alert moved startsAt from %v to %v", d.ID, prev.StartsAt, d.StartsAt)
			}
			firing[d.Fingerprint] = d
		case schemas.StateResolved:
			f := firing[d.Fingerprint]
			if f == nil {
				t.Errorf("%s: resolved without a firing event before it", d.ID)
				continue
			}
			if !f.StartsAt.Equal(d.StartsAt) || d.EndsAt.Before(d.StartsAt) {
				t.Errorf("%s: startsAt %v (firing %v), endsAt %v", d.ID, d.StartsAt, f.StartsAt, d.EndsAt)
			}
			delete(firing, d.Fingerprint)
		}
	}
	t.Logf("%d detections by detector: %v", len(out), detectors)

	// The fleet's inventory and the incidents the correlate stage makes of
	// these detections validate against their schemas.
	invSchema := compileSchemaFile(t, schemas.InventorySchemaJSON(), "urn:telekernel:schema:inventory:v1")
	b, err := schemas.MarshalInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	} else if err := invSchema.Validate(v); err != nil {
		t.Errorf("schema rejects the fleet's inventory: %v", err)
	}
	recsByDevice, err := inventory.Split(inv)
	if err != nil {
		t.Fatal(err)
	}
	for dev, b := range recsByDevice {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("inventory record %s is not JSON: %v", dev, err)
		}
		if err := invSchema.Validate(v); err != nil {
			t.Errorf("schema rejects the tk.inventory record of %s: %v\n%s", dev, err, b)
		}
	}
	inSchema := compileSchemaFile(t, schemas.IncidentSchemaJSON(), "urn:telekernel:schema:incident:v1")
	view := inventory.Fixed(inv)
	route := correlate.NewRoute("tk.correlate", view, correlate.Config{}.Engine)
	cs, err := correlate.New(correlate.Config{}, view, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	var incs []*kgo.Record
	for _, r := range out {
		var routed []*kgo.Record
		if err := route.Process(context.Background(), r, func(o *kgo.Record) { routed = append(routed, o) }); err != nil {
			t.Fatal(err)
		}
		for _, o := range routed {
			if o.Topic != "tk.correlate" {
				continue
			}
			if err := cs.Process(context.Background(), o, func(i *kgo.Record) { incs = append(incs, i) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	n := 0
	for _, r := range incs {
		if r.Value == nil || !bytes.HasPrefix(r.Value, []byte("{")) {
			continue
		}
		n++
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Value))
		if err != nil {
			t.Errorf("incident value is not JSON: %v", err)
			continue
		}
		if err := inSchema.Validate(v); err != nil {
			t.Errorf("schema rejects an emitted incident: %v\n%s", err, r.Value)
		}
		if _, err := schemas.UnmarshalIncident(r.Value); err != nil {
			t.Errorf("UnmarshalIncident: %v", err)
		}
	}
	t.Logf("%d incident records", n)
}

// checkDocumentedRule checks d against docs/detections.md's tables of the
// state and rule detections: severity, score, observed, expected and band,
// and the rule label.
func checkDocumentedRule(t *testing.T, d *schemas.Detection) {
	t.Helper()
	severity := map[string]string{
		"link_down": "critical", "session_down": "critical", "component_down": "critical", "admin_down": "info",
		"flapping": "critical", "carrier_flap": "warning", "neighbors_down": "critical", "lldp_neighbor_lost": "warning",
		"error_run": "warning", "drift": "warning", "peer": "warning",
	}
	want, ok := severity[d.Detector]
	if !ok {
		return
	}
	firing := d.State == schemas.StateFiring
	if firing && d.Severity != want {
		t.Errorf("%s: %s severity %s, docs say %s", d.ID, d.Detector, d.Severity, want)
	}
	wantScore := 0.0
	if firing && d.Detector != "admin_down" {
		wantScore = 1
	}
	if d.Score != wantScore {
		t.Errorf("%s: %s %s score %v, docs say %v", d.ID, d.Detector, d.State, d.Score, wantScore)
	}
	if !slices.Equal(d.Detectors, []string{d.Detector}) {
		t.Errorf("%s: detectors %v, docs say the one entry %s", d.ID, d.Detectors, d.Detector)
	}
	switch d.Detector {
	case "error_run", "drift", "peer":
		if d.Labels["rule"] != d.Detector {
			t.Errorf("%s: labels %v, docs say rule: %s", d.ID, d.Labels, d.Detector)
		}
		if d.Detector == "error_run" && (d.Expected != 0 || d.Band != (schemas.Band{})) {
			t.Errorf("%s: error_run expected %v band %v, docs say 0 and [0, 0]", d.ID, d.Expected, d.Band)
		}
	case "neighbors_down", "lldp_neighbor_lost":
	default:
		if _, ok := d.Labels["rule"]; ok {
			t.Errorf("%s: state detection with a rule label %v", d.ID, d.Labels)
		}
		if d.Expected != 1 || d.Band != (schemas.Band{Lower: 1, Upper: 1}) || (d.Observed != 0 && d.Observed != 1) {
			t.Errorf("%s: %s observed %v expected %v band %v, docs say 1 or 0, 1 and [1, 1]", d.ID, d.Detector, d.Observed, d.Expected, d.Band)
		}
	}
}
