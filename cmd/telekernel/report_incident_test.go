package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestRenderIncident draws a resolved link incident (two member series,
// one firing then resolved, and an effect) and finds the red firing and
// green resolved markers in the PNG, one timeline row per series.
func TestRenderIncident(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ev := func(s time.Duration, dev, metric, state, role string) schemas.Evidence {
		return schemas.Evidence{Time: t0.Add(s), Role: role, DetectionID: dev + metric + state, State: state, Device: dev, Metric: metric,
			Keys: "name=Ethernet1", Detector: "state", Severity: schemas.SeverityCritical}
	}
	const oper, in = "/interfaces/interface/state/oper-status", "/interfaces/interface/state/counters/in-octets"
	end := t0.Add(5 * time.Minute)
	inc := &schemas.Incident{Version: 1, ID: "abc123", State: schemas.IncidentResolved, OpenedAt: t0, UpdatedAt: end, ResolvedAt: &end,
		Severity: schemas.SeverityCritical, Rule: schemas.RuleLink, Cause: "link sim-00:Ethernet4 — sim-02:Ethernet1 down", Confidence: 0.9,
		Action: "check the optic and fibre",
		Evidence: []schemas.Evidence{ev(0, "sim-02", oper, schemas.StateFiring, schemas.EvidenceMember), ev(time.Second, "sim-00", oper, schemas.StateFiring, schemas.EvidenceMember),
			ev(30*time.Second, "sim-01", in, schemas.StateFiring, schemas.EvidenceEffect), ev(5*time.Minute, "sim-02", oper, schemas.StateResolved, schemas.EvidenceMember)}}
	names, rows := incidentRows(inc)
	if len(names) != 3 || rows[3] != 0 || !strings.HasSuffix(names[2], "(effect)") || names[0] != "sim-02 state/oper-status Ethernet1" {
		t.Fatalf("rows %q %v, want 3 series, the resolution on the first, the effect marked", names, rows)
	}
	path := filepath.Join(t.TempDir(), "incident.png")
	if p := os.Getenv("TK_INCIDENT_PNG"); p != "" {
		path = p
	}
	if err := renderIncident(inc, path); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	red, green := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch {
			case r>>8 == uint32(colFiring.R) && g>>8 == uint32(colFiring.G) && bl>>8 == uint32(colFiring.B):
				red++
			case r>>8 == uint32(colResolved.R) && g>>8 == uint32(colResolved.G) && bl>>8 == uint32(colResolved.B):
				green++
			}
		}
	}
	if b.Dx() < 800 || red < 50 || green < 20 {
		t.Errorf("%dx%d PNG with %d red and %d green pixels, want the firing and resolved markers", b.Dx(), b.Dy(), red, green)
	}
}
