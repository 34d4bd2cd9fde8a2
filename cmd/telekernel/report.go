package main

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/detectors/power"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// reportOptions are the flags of `telekernel report`.
type reportOptions struct {
	device   string
	out      string
	config   string
	fromKafk bool
	days     int
	interval time.Duration
	incident string
	warn     io.Writer // receives the config's warnings (stderr)
}

func newReportCmd() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report --device NAME | --incident ID",
		Short: "Render a device's power fit and degradation trends with their predictions as PNG plots",
		Long: `Render a device's power model and health trends as PNG files in --out:

  NAME-power.png        measured and modelled PSU input power per window, and the model's
                        attribution of the last window (chassis, each port) and the savings found
  NAME-trends.png       each health signal (optic rx power, laser bias, fan speed, PSU efficiency,
                        temperatures): hourly medians, the fitted trend extended to the failure
                        threshold, the threshold, and the predicted failure with its interval

With --kafka the samples are read from the samples topic of the config (-c; its kafka section,
TLS and SASL included), from the start to the current end, keeping the device's messages. Without
it, a simulated fleet (devices sim-00 … sim-03, with degrading optics, a wearing fan and PSU) is run
for --days faster than real time.

With --incident ID it draws one incident instead, read from the incidents topic of the config
(-c; its kafka section and correlate.topic), as incident-ID.png in --out: a timeline with one row per
member series (device, metric, interface), a marker per member detection at its event time (red
firing, green resolved; triangles for effects such as rerouted traffic), dashed lines where the
incident opened and resolved, and the cause, rule, confidence and suggested action in the title.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.warn = cmd.ErrOrStderr()
			if o.incident != "" {
				f, err := reportIncident(cmd.Context(), o)
				if err != nil {
					return stoppedBefore(cmd.Context(), "report", "the report was made", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), f)
				return nil
			}
			if o.device == "" {
				return errors.New("report: --device NAME or --incident ID is required")
			}
			d, err := collectReport(cmd.Context(), o)
			if err != nil {
				return stoppedBefore(cmd.Context(), "report", "the report was made", err)
			}
			files, err := renderReport(d, o.device, o.out)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.device, "device", "", "device name")
	cmd.Flags().StringVar(&o.incident, "incident", "", "incident id: draw its timeline (from the incidents topic of -c)")
	cmd.Flags().StringVar(&o.out, "out", ".", "folder to write the PNG files to")
	cmd.Flags().StringVarP(&o.config, "config", "c", "", "pipeline config (YAML) whose kafka and topics sections --kafka uses")
	cmd.Flags().BoolVar(&o.fromKafk, "kafka", false, "read the samples from Kafka instead of simulating")
	cmd.Flags().IntVar(&o.days, "days", 7, "simulated days (without --kafka)")
	cmd.Flags().DurationVar(&o.interval, "interval", 5*time.Minute, "simulated sample interval (without --kafka)")
	return cmd
}

// reportData is what a report is drawn from.
type reportData struct {
	rows    []schemas.PowerRow
	events  []schemas.MaintenanceEvent
	tracker *maintenance.Tracker
}

func collectReport(ctx context.Context, o reportOptions) (*reportData, error) {
	est, err := power.New(power.Config{})
	if err != nil {
		return nil, err
	}
	// The trend window spans the whole report, so the plots show the
	// history; the fit still follows the recent part when it bends.
	window := maintenance.DefaultWindow
	if !o.fromKafk {
		window = min(1000, max(window, o.days*24))
	}
	tr, err := maintenance.New(maintenance.Config{Window: window})
	if err != nil {
		return nil, err
	}
	d := &reportData{tracker: tr}
	var last int64
	// Every device feeds the power model (it is fitted across a device
	// model's devices); only the device's rows and trends are kept.
	feed := func(ts int64, device, metric, keys string, kind schemas.Kind, u uint64, f float64, s string) {
		est.Observe(ts, device, metric, keys, kind, u, f, s)
		if device != o.device {
			return
		}
		last = max(last, ts)
		switch kind {
		case schemas.KindGauge:
			tr.Observe(ts, device, metric, keys, f)
		case schemas.KindCounter:
			tr.ObserveCounter(ts, device, metric, keys, u)
		}
	}
	take := func() {
		for _, r := range est.Take().Rows {
			if r.Device == o.device {
				d.rows = append(d.rows, r)
			}
		}
		d.events = append(d.events, tr.Take()...)
	}
	if o.fromKafk {
		if err := reportFromKafka(ctx, o, feed, take); err != nil {
			return nil, err
		}
	} else if err := reportFromSim(o, feed, take); err != nil {
		return nil, err
	}
	est.Flush(last + int64(est.Config().Window))
	take()
	if len(d.rows) == 0 && len(tr.Keys()) == 0 {
		return nil, fmt.Errorf("report: no samples of device %q", o.device)
	}
	return d, nil
}

func reportFromSim(o reportOptions, feed func(int64, string, string, string, schemas.Kind, uint64, float64, string), take func()) error {
	if o.days < 2 || o.interval <= 0 {
		return errors.New("report: --days must be at least 2 and --interval positive")
	}
	// The report places its faults on --device: a device the fleet lacks
	// is a bad flag, not a bad fault (the user wrote none), so say so
	// before sim.New names faults[0].
	const devices = 4
	known := false
	for i := range devices {
		known = known || sim.DeviceName(i) == o.device
	}
	if !known {
		return fmt.Errorf("report: --device %q is not a simulated device (without --kafka the report simulates %s … %s)",
			o.device, sim.DeviceName(0), sim.DeviceName(devices-1))
	}
	day := 24 * time.Hour
	total := time.Duration(o.days) * day
	// Degradations from hour 30 on, whose thresholds are crossed after the
	// report's end: their cases are open, with predictions to draw.
	wear := 30 * time.Hour
	ramp := total - wear
	scale := func(f float64) time.Duration { return time.Duration(f * float64(ramp)).Round(time.Minute) }
	faults := []sim.Fault{
		{Device: o.device, Interface: "Ethernet2", Kind: sim.FaultOpticDegradation, After: wear, Duration: scale(1.8)},
		{Device: o.device, Component: "Fan1", Kind: sim.FaultFanFailure, After: wear + scale(1.4), Duration: 12 * time.Hour, Precursor: scale(1.4)},
		{Device: o.device, Component: "PSU2", Kind: sim.FaultPSUDegradation, After: wear + scale(2), Duration: 12 * time.Hour, Precursor: scale(2)},
		{Device: o.device, Interface: "Ethernet3", Kind: sim.FaultRxErrors, After: wear, Duration: scale(2.2)},
	}
	start := time.Now().UTC().Truncate(day).Add(-total)
	fleet, err := sim.New(sim.Config{Devices: devices, Interfaces: 4, Interval: o.interval, Start: start, Transceivers: true, Power: true, Faults: faults})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for range int(total / o.interval) {
		fleet.Next(func(s *schemas.Sample) { feed(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str) })
		take()
	}
	return nil
}

func reportFromKafka(ctx context.Context, o reportOptions, feed func(int64, string, string, string, schemas.Kind, uint64, float64, string), take func()) error {
	cfg, err := loadConfigWarning(o.config, o.warn)
	if err != nil {
		return err
	}
	if len(cfg.Kafka.Brokers) == 0 {
		return errors.New("report: --kafka reads the samples topic: give -c FILE with kafka.brokers")
	}
	mem := memory.NewGoAllocator()
	err = kafka.ReadAll(ctx, cfg.Kafka, cfg.Topics.Samples, func(r *kgo.Record) {
		rec, err := schemas.DecodeSamples(mem, kafka.Headers(r), r.Value)
		if err != nil {
			return // not ours to judge: the stages dead-letter it
		}
		defer rec.Release()
		sr, err := schemas.NewSampleReader(rec)
		if err != nil {
			return
		}
		for i := 0; i < sr.Len(); i++ {
			u, _ := sr.U64(i)
			f, _ := sr.F64(i)
			s, _ := sr.Str(i)
			feed(sr.TS(i), sr.Device(i), sr.Metric(i), sr.Keys(i), sr.Kind(i), u, f, s)
		}
		take()
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

var (
	colMeasured = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colModelled = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colTrend    = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colGrey     = color.RGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xff}
)

// renderReport writes the report's PNG files and returns their paths.
func renderReport(d *reportData, device, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var files []string
	if len(d.rows) > 0 {
		f := filepath.Join(dir, device+"-power.png")
		if err := renderPower(d.rows, device, f); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	f := filepath.Join(dir, device+"-trends.png")
	ok, err := renderTrends(d, device, f)
	if err != nil {
		return nil, err
	}
	if ok {
		files = append(files, f)
	}
	return files, nil
}

func savePlots(plots [][]*plot.Plot, w, h vg.Length, path string) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	cs := plot.Align(plots, t, dc)
	for j := range plots {
		for i := range plots[j] {
			if plots[j][i] != nil {
				plots[j][i].Draw(cs[j][i])
			}
		}
	}
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(fh); err != nil {
		fh.Close()
		return fmt.Errorf("report: cannot write %s: %w", path, err)
	}
	return fh.Close()
}

func timeAxis(p *plot.Plot) {
	p.X.Tick.Marker = plot.TimeTicks{Format: "01-02\n15:04"}
	p.X.Label.Text = "UTC"
}

func renderPower(rows []schemas.PowerRow, device, path string) error {
	var meas, mod plotter.XYs
	var last int64
	for _, r := range rows {
		if r.Row != schemas.PowerRowDevice {
			continue
		}
		x := float64(r.WindowStart) / 1e9
		mod = append(mod, plotter.XY{X: x, Y: r.ModelledW})
		if !math.IsNaN(r.MeasuredW) {
			meas = append(meas, plotter.XY{X: x, Y: r.MeasuredW})
		}
		last = max(last, r.WindowStart)
	}
	top := plot.New()
	top.Title.Text = device + ": PSU input power, measured and modelled (per window)"
	top.Y.Label.Text = "W"
	timeAxis(top)
	if len(meas) > 0 {
		l, err := plotter.NewLine(meas)
		if err != nil {
			return err
		}
		l.Color = colMeasured
		top.Add(l)
		top.Legend.Add("measured", l)
	}
	l, err := plotter.NewLine(mod)
	if err != nil {
		return err
	}
	l.Color, l.Dashes = colModelled, []vg.Length{vg.Points(4), vg.Points(2)}
	top.Add(l)
	top.Legend.Add("modelled", l)
	top.Legend.Top = true

	// Attribution and savings of the last window.
	var names []string
	var watts, saved plotter.Values
	for _, r := range rows {
		if r.WindowStart != last {
			continue
		}
		switch r.Row {
		case schemas.PowerRowChassis:
			names = append([]string{"chassis"}, names...)
			watts = append(plotter.Values{r.ModelledW}, watts...)
			saved = append(plotter.Values{0}, saved...)
		case schemas.PowerRowPort:
			names = append(names, strings.TrimPrefix(r.Component, "name="))
			watts = append(watts, r.ModelledW)
			saved = append(saved, 0)
		}
	}
	for _, r := range rows {
		if r.WindowStart == last && r.Row == schemas.PowerRowSaving {
			if i := slices.Index(names, strings.TrimPrefix(r.Component, "name=")); i >= 0 {
				saved[i] += r.ModelledW
			}
		}
	}
	bottom := plot.New()
	bottom.Title.Text = fmt.Sprintf("attribution of the window at %s (savings found in orange)", time.Unix(0, last).UTC().Format("01-02 15:04"))
	bottom.Y.Label.Text = "W"
	if len(watts) > 0 {
		w := vg.Points(18)
		b, err := plotter.NewBarChart(watts, w)
		if err != nil {
			return err
		}
		b.Color = colMeasured
		b.Offset = -w / 2
		s, err := plotter.NewBarChart(saved, w)
		if err != nil {
			return err
		}
		s.Color = colTrend
		s.Offset = w / 2
		bottom.Add(b, s)
		bottom.Legend.Add("modelled", b)
		bottom.Legend.Add("could be saved", s)
		bottom.Legend.Top = true
		bottom.NominalX(names...)
	}
	return savePlots([][]*plot.Plot{{top}, {bottom}}, 26*vg.Centimeter, 22*vg.Centimeter, path)
}

// renderTrends draws one plot per health signal of the device (two per
// row) and reports whether there was any to draw.
func renderTrends(d *reportData, device, path string) (bool, error) {
	var plots []*plot.Plot
	for _, k := range d.tracker.Keys() {
		p, err := trendPlot(d, k)
		if err != nil {
			return false, err
		}
		if p != nil {
			plots = append(plots, p)
		}
	}
	if len(plots) == 0 {
		return false, nil
	}
	const cols = 2
	var grid [][]*plot.Plot
	for i := 0; i < len(plots); i += cols {
		row := make([]*plot.Plot, cols)
		copy(row, plots[i:min(i+cols, len(plots))])
		grid = append(grid, row)
	}
	return true, savePlots(grid, 30*vg.Centimeter, vg.Length(len(grid))*8*vg.Centimeter, path)
}

// trendPlot draws series k: its hourly medians, the fitted trend out to
// the prediction, the threshold, and the last maintenance event of the
// series with its predicted failure. It returns nil for a series without
// a trend yet.
func trendPlot(d *reportData, k schemas.SeriesKey) (*plot.Plot, error) {
	ts, ys, tr, thr, ok := d.tracker.TrendOf(k)
	if !ok || len(ts) < 2 {
		return nil, nil
	}
	signal, unit := "", ""
	for _, s := range d.tracker.Config().Signals {
		if s.Metric == k.Metric {
			signal, unit = s.Name, s.Unit
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s %s", signal, strings.TrimPrefix(k.Keys, "name="))
	p.Y.Label.Text = unit
	timeAxis(p)
	pts := make(plotter.XYs, len(ts))
	for i := range ts {
		pts[i] = plotter.XY{X: float64(ts[i]) / 1e9, Y: ys[i]}
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.Color, sc.Radius = colMeasured, vg.Points(1.5)
	p.Add(sc)
	x0, x1 := pts[0].X, pts[len(pts)-1].X
	// The last event of this series, if any, for its prediction.
	var ev *schemas.MaintenanceEvent
	for i := range d.events {
		e := &d.events[i]
		if e.Device == k.Device && e.Metric == k.Metric && e.Component == k.Keys {
			ev = e
		}
	}
	end := x1
	if ev != nil && ev.State != schemas.MaintenanceClosed {
		end = math.Max(end, float64(ev.PredictedFailure.Unix()))
		if ev.Interval.Latest != nil {
			end = math.Max(end, float64(ev.Interval.Latest.Unix()))
		}
	}
	hour := func(x float64) float64 { return x / 3600 }
	// The trend over the buckets it was fitted on, out to the
	// prediction.
	xf := pts[max(0, len(pts)-tr.N)].X
	if err := addLine(p, plotter.XYs{{X: xf, Y: tr.At(hour(xf))}, {X: end, Y: tr.At(hour(end))}}, func(l *plotter.Line) {
		l.Color, l.Width = colTrend, vg.Points(1.5)
	}); err != nil {
		return nil, err
	}
	if !math.IsNaN(thr) {
		if err := addLine(p, plotter.XYs{{X: x0, Y: thr}, {X: end, Y: thr}}, func(l *plotter.Line) {
			l.Color, l.Dashes = colModelled, []vg.Length{vg.Points(4), vg.Points(2)}
		}); err != nil {
			return nil, err
		}
	}
	if ev != nil {
		return p, addPrediction(p, ev, thr, end)
	}
	return p, nil
}

// addPrediction adds the state of ev to the title and, while it is open,
// its predicted failure on the threshold thr and the interval around it
// (out to end when the interval has no latest time).
func addPrediction(p *plot.Plot, ev *schemas.MaintenanceEvent, thr, end float64) error {
	p.Title.Text += fmt.Sprintf(" — %s", ev.State)
	if ev.State == schemas.MaintenanceClosed {
		p.Title.Text += " (" + ev.CloseReason + ")"
		return nil
	}
	p.Title.Text += fmt.Sprintf(", failure %s (%.0f %%)", ev.PredictedFailure.Format("01-02 15:04"), 100*ev.Confidence)
	lo := float64(ev.Interval.Earliest.Unix())
	hi := end
	if ev.Interval.Latest != nil {
		hi = float64(ev.Interval.Latest.Unix())
	}
	if err := addLine(p, plotter.XYs{{X: lo, Y: thr}, {X: hi, Y: thr}}, func(l *plotter.Line) {
		l.Color, l.Width = colGrey, vg.Points(5)
	}); err != nil {
		return err
	}
	pf, err := plotter.NewScatter(plotter.XYs{{X: float64(ev.PredictedFailure.Unix()), Y: thr}})
	if err != nil {
		return err
	}
	pf.Color, pf.Radius = colModelled, vg.Points(4)
	p.Add(pf)
	return nil
}

// addLine adds a line through pts to p, styled by style.
func addLine(p *plot.Plot, pts plotter.XYs, style func(*plotter.Line)) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	style(l)
	p.Add(l)
	return nil
}
