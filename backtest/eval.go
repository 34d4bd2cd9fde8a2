package backtest

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// Formats of recorded data.
const (
	FormatParquet = "parquet"  // the project's Parquet lake (OpenLake)
	FormatNAB     = "nab"      // NAB CSVs, CATEGORY/FILE.csv (NABSource)
	FormatWide    = "wide-csv" // wide CSV exports, one file per device (OpenWide)
)

// Formats lists the accepted formats.
var Formats = []string{FormatParquet, FormatNAB, FormatWide, FormatSim}

// Group is a part of a data set replayed by a fresh detect stage: one
// experiment of wide CSV files, the whole lake, the whole NAB corpus.
type Group struct {
	Name string
	Open func() (Source, error)
}

// Dataset is recorded data ready to replay.
type Dataset struct {
	Format string
	Groups []Group
	// Devices are the devices in the data when known before a replay
	// (wide CSV, NAB); nil for the lake, whose devices a replay finds.
	Devices map[string]bool
	// Corpus is the NAB corpus with its windows (format nab with labels).
	Corpus *nab.Corpus
	// Sim is the ground truth of a simulated fleet and Span its simulated
	// time (format sim).
	Sim  *SimTruth
	Span time.Duration
}

// LoadDataset prepares the data at paths (files or folders) in format.
// For wide CSV, m maps the columns (nil: DefaultMapping) and folders
// contribute their *.csv, *.tsv and gzipped files; for NAB, nabLabels (NAB's
// combined_windows.json, optional) gives the windows of NAB scoring.
func LoadDataset(format string, paths []string, m *Mapping, nabLabels string) (*Dataset, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("cannot load data: no path given")
	}
	ds := &Dataset{Format: format}
	switch format {
	case FormatWide:
		if m == nil {
			m = DefaultMapping()
		}
		files, err := expand(paths, ".csv", ".csv.gz", ".tsv", ".tsv.gz")
		if err != nil {
			return nil, fmt.Errorf("cannot load data: %w", err)
		}
		ds.Devices = map[string]bool{}
		for _, f := range files {
			devs, err := WideDevices(f, m)
			if err != nil {
				// The replay says what is wrong with the file, as for any
				// other row of it.
				devs = []string{WideDevice(f, m)}
			}
			for _, d := range devs {
				ds.Devices[d] = true
			}
		}
		names, groups := GroupWide(files, m)
		for i, g := range groups {
			// Files whose names are their devices alone form a group with no
			// name of its own: name it after the data given, so that an error
			// says what could not be replayed.
			name := cmp.Or(names[i], strings.Join(paths, ", "))
			ds.Groups = append(ds.Groups, Group{Name: name, Open: func() (Source, error) { return OpenWide(g, m) }})
		}
	case FormatNAB:
		if len(paths) != 1 {
			return nil, fmt.Errorf("cannot load NAB data: one folder, not %d paths", len(paths))
		}
		// The labels first: a missing file is told before a corpus is read.
		var l nab.Labels
		if nabLabels != "" {
			var err error
			if l, err = nab.LoadLabels(nabLabels); err != nil {
				return nil, err
			}
		}
		series, err := nab.LoadCorpus(paths[0])
		if err != nil {
			return nil, fmt.Errorf("cannot load NAB data: %w", err)
		}
		c := &nab.Corpus{Series: series}
		if nabLabels != "" {
			if c, err = nab.NewCorpus(series, l); err != nil {
				return nil, fmt.Errorf("cannot pair NAB data with %s: %w", nabLabels, err)
			}
			ds.Corpus = c
		}
		ds.Devices = map[string]bool{}
		for _, s := range series {
			ds.Devices[s.Name] = true
		}
		ds.Groups = []Group{{Name: "nab", Open: func() (Source, error) { return NABSource(c), nil }}}
	case FormatParquet:
		for _, p := range paths {
			ds.Groups = append(ds.Groups, Group{Name: p, Open: func() (Source, error) { return OpenLake(p) }})
		}
	case FormatSim:
		return nil, fmt.Errorf("cannot load data: format %s takes no paths (LoadSim)", format)
	default:
		return nil, fmt.Errorf("cannot load data: format %q is not one of %s", format, strings.Join(Formats, ", "))
	}
	return ds, nil
}

// expand lists the files with one of the suffixes in the folders among
// paths, and the files among paths, sorted.
func expand(paths []string, suffixes ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() && slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(e.Name(), s) }) {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s files in %s", strings.Join(suffixes, " or "), strings.Join(paths, ", "))
	}
	slices.Sort(out)
	return out, nil
}

// NABEvents returns the windows of c as events (device = the file's name).
func NABEvents(c *nab.Corpus) []Event {
	var out []Event
	for _, s := range c.Series {
		for i, w := range c.Labels[s.Name] {
			out = append(out, Event{Device: s.Name, Kind: "nab", Start: w.Start, End: w.End, File: "combined_windows.json", Line: i + 1})
		}
	}
	return out
}

// ReadLabelFiles reads the labels of every path (a folder contributes its
// *.csv and *.jsonl files). Labels that hold no event are an error: a run
// given them would score nothing (the simulator's would fall back to its
// own ground truth) and say nothing of it.
func ReadLabelFiles(paths []string) ([]Event, error) {
	files, err := expand(paths, ".csv", ".jsonl", ".json")
	if err != nil {
		return nil, fmt.Errorf("cannot read labels: %w", err)
	}
	var out []Event
	for _, f := range files {
		ev, err := ReadLabels(f)
		if err != nil {
			return nil, err
		}
		out = append(out, ev...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("labels %s hold no event: give labels that list at least one, or no --labels", strings.Join(files, ", "))
	}
	return out, nil
}

// Result is a backtest of one configuration on a data set.
type Result struct {
	Name       string // the configuration's name (its file)
	Stats      Stats  // summed over the groups (Devices and StateSeries of all)
	Runs       []Stats
	Detections []schemas.Detection
	Report     *Report            // nil without labels
	NAB        []nab.ProfileScore // NAB data with at least one window only
	Sim        *SimReport         // simulated data scored against its own ground truth
}

// Evaluate replays every group of ds through a fresh detect stage
// configured by cfg and scores the detections against events (none: no
// Report), for NAB data with windows with NAB's scorer, and for simulated
// data without events against the simulator's ground truth (ds.Sim: the
// Report and a SimReport). Events with no overlap with the replayed samples
// are not scored (Report.Outside, FaultResult.Outside).
func Evaluate(ctx context.Context, name string, cfg detect.Config, ds *Dataset, events []Event, opts ...Option) (*Result, error) {
	res := &Result{Name: name, Stats: Stats{Devices: map[string]Span{}, StateSeries: map[schemas.SeriesKey]bool{}}}
	var o options
	for _, f := range opts {
		f(&o)
	}
	for _, g := range ds.Groups {
		src, err := g.Open()
		if err != nil {
			return nil, err
		}
		gopts := opts
		if o.progress != nil {
			// Progress counts the groups replayed before this one.
			done := res.Stats
			gopts = append(slices.Clip(opts), WithProgress(o.every, func(st Stats) {
				st.Points += done.Points
				st.Dropped = st.Dropped.Add(done.Dropped)
				st.Detections += done.Detections
				st.Firing += done.Firing
				st.Elapsed += done.Elapsed
				o.progress(st)
			}))
		}
		dets, st, err := Run(ctx, cfg, src, gopts...)
		src.Close()
		if err != nil {
			return nil, fmt.Errorf("cannot replay %s: %w", g.Name, err)
		}
		res.Detections = append(res.Detections, dets...)
		res.Runs = append(res.Runs, st)
		res.Stats.add(st)
	}
	if ds.Devices == nil && len(events) > 0 {
		seen := map[string]bool{}
		for d := range res.Stats.Devices {
			seen[d] = true
		}
		if err := CheckDevices(events, seen); err != nil {
			return nil, err
		}
	}
	sc := Scoring{IsState: StateBased(res.Runs...), Data: CoverageOf(res.Runs...)}
	if len(events) == 0 && ds.Sim != nil {
		events, sc.Quiet = ds.Sim.Scoring()
		exp := Exposures(res.Runs...)
		r := Score(events, res.Detections, exp, sc)
		s := ScoreSim(ds.Sim, res.Detections, exp, sc, &r)
		res.Report, res.Sim = &r, &s
	} else if len(events) > 0 {
		r := Score(events, res.Detections, Exposures(res.Runs...), sc)
		res.Report = &r
	}
	// Without windows the NAB score is undefined (the perfect and the null
	// detector both score 0): no NAB scores rather than NaN.
	if ds.Corpus != nil && ds.Corpus.Labels.Count() > 0 {
		scores, err := ds.Corpus.Evaluate(NABScores(ds.Corpus, res.Detections), nab.Profiles)
		if err != nil {
			return nil, err
		}
		res.NAB = scores
	}
	return res, nil
}

// add sums st into s.
func (s *Stats) add(st Stats) {
	s.Points += st.Points
	s.Skipped += st.Skipped
	s.Dropped = s.Dropped.Add(st.Dropped)
	s.Batches += st.Batches
	s.Detections += st.Detections
	s.Firing += st.Firing
	s.Elapsed += st.Elapsed
	for d, sp := range st.Devices {
		if o, ok := s.Devices[d]; ok {
			sp = Span{First: min(o.First, sp.First), Last: max(o.Last, sp.Last), Steps: o.Steps + sp.Steps}
		}
		s.Devices[d] = sp
	}
	for k := range st.StateSeries {
		s.StateSeries[k] = true
	}
}

// Rate returns the replay rate in points per second of wall time.
func (s *Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Points) / s.Elapsed.Seconds()
}

// ProgressLine formats running stats as one progress line: its detection
// events are the firing and the resolved ones, of which the firing are
// the table's "firing detections".
func ProgressLine(st Stats) string {
	return fmt.Sprintf("backtest: %d points, %d detection events (%d firing), %s, %.0f points/s", st.Points, st.Detections,
		st.Firing, st.Elapsed.Round(time.Second), st.Rate())
}
