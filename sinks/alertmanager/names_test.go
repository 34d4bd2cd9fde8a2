package alertmanager

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// TestNamesAlertmanagerRejects: the detection contract lets any producer
// name labels and annotations, and Alertmanager 0.25 answers 400 for an
// alert with a name outside [a-zA-Z_][a-zA-Z0-9_]* (storing the others of
// the request). An alert rejected for an annotation name is posted again
// with the name made valid, so it pages; one rejected for a label name
// (its identity) is dropped alone, with one WARN line naming it. Before,
// the alert with the annotation "runbook-url" never fired, and every
// alert of the request was counted dropped{rejected} and logged as
// dropped, although Alertmanager had stored the valid ones.
func TestNamesAlertmanagerRejects(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	m := NewMetrics(prometheus.NewRegistry())
	var logs testenv.LogBuffer
	s := newSink(t, Config{URL: base, Timeout: 5 * time.Second}, WithMetrics(m), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	prefix := uniqueName("it-names-")
	now := time.Now().UTC()
	ok := detection(prefix+"-ok", schemas.StateFiring, schemas.SeverityWarning)
	runbook := detection(prefix+"-runbook", schemas.StateFiring, schemas.SeverityWarning)
	runbook.Annotations["runbook-url"] = "https://wiki.example.net/runbooks/traffic-drop"
	badLabel := detection(prefix+"-label", schemas.StateFiring, schemas.SeverityWarning)
	badLabel.Labels["team-name"] = "core"
	badLabel.Fingerprint = schemas.Fingerprint(badLabel.Labels)
	for _, d := range []*schemas.Detection{ok, runbook, badLabel} {
		d.StartsAt = now.Add(-time.Minute)
	}
	add(t, s, ok, runbook, badLabel)
	flush(t, s, 3)
	got := activeAlerts(t, base, `device=~"`+prefix+`-.*"`, 2)
	if len(got) != 2 {
		t.Fatalf("active alerts %+v, want the two with valid labels", got)
	}
	for _, a := range got {
		if a.Labels["device"] == runbook.Device && a.Annotations["runbook_url"] != runbook.Annotations["runbook-url"] {
			t.Errorf("annotations %v, want runbook_url", a.Annotations)
		}
	}
	if v := testutil.ToFloat64(m.dropped.WithLabelValues("rejected")); v != 1 {
		t.Errorf("dropped{rejected} = %v, want 1 (the alert with the label team-name)", v)
	}
	if c := strings.Count(logs.String(), "dropping it"); c != 1 || !strings.Contains(logs.String(), "team-name") {
		t.Errorf("want one WARN naming the dropped alert's labels, got %d:\n%s", c, logs.String())
	}
}

func TestAnnotationName(t *testing.T) {
	for in, want := range map[string]string{"summary": "summary", "runbook-url": "runbook_url", "1st": "_1st", "": "_", "é": "_", "_x9": "_x9"} {
		if got := annotationName(in); got != want || !validName(got) {
			t.Errorf("annotationName(%q) = %q, want %q", in, got, want)
		}
	}
}
