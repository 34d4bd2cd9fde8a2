package main

import (
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// latencies are one path's latencies in milliseconds.
type latencies struct{ ms []float64 }

// quantiles returns p50, p99, p99.9 and the maximum (nearest rank). With
// fewer than 1000 values p99.9 is the maximum.
func (l *latencies) quantiles() [4]float64 {
	s := slices.Clone(l.ms)
	slices.Sort(s)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return [4]float64{q(0.5), q(0.99), q(0.999), s[len(s)-1]}
}

var pathColors = map[string]color.RGBA{
	pathKafka:      {R: 120, G: 120, B: 120, A: 255},
	pathDetection:  {R: 200, G: 40, B: 40, A: 255},
	pathClickHouse: {R: 230, G: 160, B: 0, A: 255},
	pathParquet:    {R: 40, G: 90, B: 200, A: 255},
}

// plotCDF writes the paths' latency distributions (share of samples
// visible within x ms, x on a log scale) to a PNG.
func plotCDF(file, title string, res map[string]*latencies) error {
	p := plot.New()
	p.Title.Text = "device time → visible: " + title
	p.X.Label.Text = "latency (ms, log scale)"
	p.Y.Label.Text = "share visible"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = false, false
	for _, path := range paths {
		l := res[path]
		if l == nil || len(l.ms) == 0 {
			continue
		}
		s := slices.Clone(l.ms)
		slices.Sort(s)
		xy := make(plotter.XYs, len(s))
		for i, v := range s {
			xy[i] = plotter.XY{X: math.Max(v, 0.1), Y: float64(i+1) / float64(len(s))}
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		line.Color = pathColors[path]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(path, line)
	}
	p.Add(plotter.NewGrid())
	return p.Save(8*vg.Inch, 5*vg.Inch, file)
}
