package main

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/correlate"
)

var (
	colFiring   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colResolved = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
)

// reportIncident reads the latest update of incident id from the config's
// incidents topic and draws its timeline into dir; it returns the file.
func reportIncident(ctx context.Context, o reportOptions) (string, error) {
	cfg, err := loadConfigWarning(o.config, o.warn)
	if err != nil {
		return "", err
	}
	if len(cfg.Kafka.Brokers) == 0 {
		return "", errors.New("report: --incident reads the incidents topic: give -c FILE with kafka.brokers")
	}
	incs, _, err := correlate.ReadIncidents(ctx, cfg.Kafka, cfg.Correlate.Topic)
	if err != nil {
		return "", fmt.Errorf("report: cannot read the incidents: %w", err)
	}
	for _, in := range incs {
		if in.ID == o.incident {
			if err := os.MkdirAll(o.out, 0o755); err != nil {
				return "", fmt.Errorf("report: %w", err)
			}
			path := filepath.Join(o.out, "incident-"+in.ID+".png")
			return path, renderIncident(in, path)
		}
	}
	return "", fmt.Errorf("report: cannot find incident %q in %s (telekernel incidents --all lists them)", o.incident, cfg.Correlate.Topic)
}

// incidentRows returns the series of in's evidence, one per timeline row,
// in order of first appearance, and the row of each evidence item.
func incidentRows(in *schemas.Incident) (names []string, row []int) {
	index := map[string]int{}
	for _, e := range in.Evidence {
		name := strings.TrimSpace(e.Device + " " + shortMetric(e.Metric) + " " + strings.TrimPrefix(e.Keys, "name="))
		if e.Role == schemas.EvidenceEffect {
			name += " (effect)"
		}
		i, ok := index[name]
		if !ok {
			i = len(names)
			index[name] = i
			names = append(names, name)
		}
		row = append(row, i)
	}
	return names, row
}

// shortMetric returns the last two elements of a metric path.
func shortMetric(m string) string {
	parts := strings.Split(strings.Trim(m, "/"), "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}

// renderIncident draws in's timeline as a PNG: one row per member series,
// a marker per detection at its event time (red firing, green resolved;
// triangles for effects), and vertical lines where the incident opened and
// resolved; the cause, rule and confidence are the title.
func renderIncident(in *schemas.Incident, path string) error {
	names, rows := incidentRows(in)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("incident %s (%s, %s): %s\nconfidence %.2f; suggested: %s", in.ID, in.Rule, in.State, in.Cause, in.Confidence, in.Action)
	if in.EvidenceOmitted > 0 {
		p.Title.Text += fmt.Sprintf("\n%d of its %d detections not listed (its first and latest are)", in.EvidenceOmitted, len(in.Evidence)+in.EvidenceOmitted)
	}
	timeAxis(p)
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04:05"}
	var ticks []plot.Tick
	for i, n := range names {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: n})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.5, float64(len(names))-0.5
	groups := map[[2]bool]plotter.XYs{} // (firing, effect)
	for i, e := range in.Evidence {
		k := [2]bool{e.State == schemas.StateFiring, e.Role == schemas.EvidenceEffect}
		groups[k] = append(groups[k], plotter.XY{X: float64(e.Time.UnixNano()) / 1e9, Y: float64(rows[i])})
	}
	for _, g := range []struct {
		firing, effect bool
		legend         string
	}{{true, false, "firing"}, {false, false, "resolved"}, {true, true, "effect firing"}, {false, true, "effect resolved"}} {
		pts := groups[[2]bool{g.firing, g.effect}]
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.Color, sc.Radius, sc.Shape = colResolved, vg.Points(4), draw.CircleGlyph{}
		if g.firing {
			sc.Color = colFiring
		}
		if g.effect {
			sc.Shape = draw.TriangleGlyph{}
		}
		p.Add(sc)
		p.Legend.Add(g.legend, sc)
	}
	marks := []struct {
		label string
		at    float64
	}{{"opened", float64(in.OpenedAt.UnixNano()) / 1e9}}
	if in.ResolvedAt != nil {
		marks = append(marks, struct {
			label string
			at    float64
		}{"resolved", float64(in.ResolvedAt.UnixNano()) / 1e9})
	}
	for _, m := range marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.at, Y: p.Y.Min}, {X: m.at, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		l.Color, l.Dashes = colGrey, []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
		p.Legend.Add("incident "+m.label, l)
	}
	// Room on the right for the legend, and a margin on the left.
	lo, hi := marks[0].at, marks[len(marks)-1].at
	for _, e := range in.Evidence {
		x := float64(e.Time.UnixNano()) / 1e9
		lo, hi = min(lo, x), max(hi, x)
	}
	span := max(hi-lo, 60)
	p.X.Min, p.X.Max = lo-0.03*span, hi+0.3*span
	p.Legend.Top = true
	h := vg.Length(6+len(names)) * vg.Centimeter
	if len(names) > 8 {
		h = vg.Length(6+len(names)/2+4) * vg.Centimeter
	}
	return savePlots([][]*plot.Plot{{p}}, 32*vg.Centimeter, h, path)
}
