package schemas_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	powerdet "github.com/telekernel/telekernel/detectors/power"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
	"github.com/telekernel/telekernel/stages/power"
)

// TestEmittedLabelsAndMetricsDocumented: every label name a detection of the
// detect stage (multivariate group included) or of the power stage
// carries, and the metric of a detection that is not a sample path, are
// documented in docs/detections.md, where a consumer who routes or joins
// on them looks. Before, the power stage's power_residual alerts carried a
// detector label, and multivariate ones a metric multivar/GROUP with a
// squared distance as observed, that the contract's docs did not mention
// (they said detector goes in the annotations).
func TestEmittedLabelsAndMetricsDocumented(t *testing.T) {
	docB, err := os.ReadFile(filepath.Join("..", "docs", "detections.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(docB)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var dets []*schemas.Detection
	emit := func(r *kgo.Record) {
		if r.Topic != "tk.detections" {
			return
		}
		d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		dets = append(dets, d)
	}

	// Multivariate: the default spike breaks the in/out relationship.
	recs, _ := simRecords(t, sim.Config{Devices: 3}, 720)
	dt, err := detect.New(detect.Config{Multivar: detect.MultivarConfig{Groups: []detect.MultivarGroup{
		{Name: "interface-traffic", Metrics: []string{schemas.MetricInOctets, schemas.MetricOutOctets}},
	}}}, "tk.detections", pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := dt.Process(context.Background(), r, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := dt.Flush(emit); err != nil {
		t.Fatal(err)
	}

	// Power residual: a PSU that loses efficiency for 4 hours.
	h := time.Hour
	recs, _ = simRecords(t, sim.Config{Devices: 12, Interfaces: 8, Interval: 5 * time.Minute, Power: true,
		Faults: []sim.Fault{{Device: "sim-03", Component: "PSU1", Kind: sim.FaultPSUDegradation, After: 16 * h, Duration: 4 * h}}}, 288)
	var pc power.Config
	pc.Model = powerdet.Config{Window: time.Hour}
	pw, err := power.New(pc, "tk.power", "tk.detections", pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := pw.Process(context.Background(), r, emit); err != nil {
			t.Fatal(err)
		}
	}

	seen := map[string]bool{}
	for _, d := range dets {
		seen[d.Detector] = true
		for name, v := range d.Labels {
			switch name {
			case "alertname", "device", "metric", "keys":
				continue
			}
			// An extra identity label is documented as "`NAME: VALUE`".
			if !strings.Contains(doc, "`"+name+": "+v+"`") {
				t.Errorf("%s (%s): label %s=%s is not documented in docs/detections.md", d.ID, d.Detector, name, v)
			}
		}
		if !strings.HasPrefix(d.Metric, "/") {
			prefix, _, _ := strings.Cut(d.Metric, "/")
			if !strings.Contains(doc, "`"+prefix+"/") {
				t.Errorf("%s (%s): metric %s is not documented in docs/detections.md", d.ID, d.Detector, d.Metric)
			}
		}
	}
	for _, want := range []string{"mahalanobis", power.Detector} {
		if !seen[want] {
			t.Errorf("no %s detection emitted (detectors %v)", want, seen)
		} else if !strings.Contains(doc, "`"+want+"`") {
			t.Errorf("detector %s is not documented in docs/detections.md", want)
		}
	}
}

// TestDocsVersionRuleMatchesSchema: docs/detections.md does not promise
// consumers fields added within version 1 while the JSON Schema it points
// them to rejects any field it does not list (additionalProperties false,
// "Version 1 is frozen"). Before, the docs said "Fields may be added
// within version 1", so a consumer that validated with the schema, as the
// docs invite, would dead-letter every record of such a producer.
func TestDocsVersionRuleMatchesSchema(t *testing.T) {
	docB, err := os.ReadFile(filepath.Join("..", "docs", "detections.md"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Description          string `json:"description"`
		AdditionalProperties *bool  `json:"additionalProperties"`
	}
	if err := json.Unmarshal(schemas.DetectionSchemaJSON(), &s); err != nil {
		t.Fatal(err)
	}
	closed := s.AdditionalProperties != nil && !*s.AdditionalProperties
	doc := strings.Join(strings.Fields(string(docB)), " ")
	if closed && strings.Contains(doc, "Fields may be added within version 1") {
		t.Errorf("docs/detections.md says fields may be added within version 1; the schema rejects unknown fields (%q)", s.Description)
	}
}
