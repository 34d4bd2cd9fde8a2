package nab

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Detector is a streaming detector of one series. Update takes the next
// point (Unix ns timestamp and value) and returns its anomaly score in
// [0,1]; it sees the points one at a time in file order, so it cannot look
// ahead.
type Detector interface {
	Update(ts int64, x float64) float64
}

// DetectorFunc adapts a function to Detector.
type DetectorFunc func(ts int64, x float64) float64

// Update implements Detector.
func (f DetectorFunc) Update(ts int64, x float64) float64 { return f(ts, x) }

// Corpus is NAB data with its labels.
type Corpus struct {
	Series  []*Series
	Windows [][][2]int // per series, its windows as row ranges
	Labels  Labels
}

// Load reads every CATEGORY/FILE.csv under dataDir and the windows in
// labelsPath (combined_windows.json). Every labelled file must be present
// (a missing file would silently drop its windows' penalties), and every
// data file must be labelled.
func Load(dataDir, labelsPath string) (*Corpus, error) {
	series, err := LoadCorpus(dataDir)
	if err != nil {
		return nil, err
	}
	labels, err := LoadLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	return NewCorpus(series, labels)
}

// NewCorpus pairs series with their labels; see Load.
func NewCorpus(series []*Series, labels Labels) (*Corpus, error) {
	c := &Corpus{Series: series, Labels: labels}
	seen := map[string]bool{}
	for _, s := range series {
		ws, ok := labels[s.Name]
		if !ok {
			return nil, fmt.Errorf("%s has no entry in the labels", s.Name)
		}
		rows, err := WindowRows(s, ws)
		if err != nil {
			return nil, err
		}
		c.Windows = append(c.Windows, rows)
		seen[s.Name] = true
	}
	var missing []string
	for name := range labels {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("labelled files missing from the data: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Run runs a fresh detector from newDetector over every series, one point
// at a time in file order, on up to workers goroutines (at least one), and
// returns the scores per series.
func (c *Corpus) Run(newDetector func() Detector, workers int) [][]float64 {
	out := make([][]float64, len(c.Series))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(workers, 1) {
		wg.Go(func() {
			for i := range next {
				s := c.Series[i]
				d := newDetector()
				scores := make([]float64, s.Len())
				for j, x := range s.Values {
					scores[j] = d.Update(s.Times[j].UnixNano(), x)
				}
				out[i] = scores
			}
		})
	}
	for i := range c.Series {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// Inputs pairs scores (one slice per series, as returned by Run) with the
// windows for the scorer.
func (c *Corpus) Inputs(scores [][]float64) ([]FileInput, error) {
	if len(scores) != len(c.Series) {
		return nil, fmt.Errorf("%d score series for %d files", len(scores), len(c.Series))
	}
	in := make([]FileInput, len(c.Series))
	for i, s := range c.Series {
		if len(scores[i]) != s.Len() {
			return nil, fmt.Errorf("%s: %d scores for %d rows", s.Name, len(scores[i]), s.Len())
		}
		in[i] = FileInput{Name: s.Name, Scores: scores[i], Windows: c.Windows[i]}
	}
	return in, nil
}

// Evaluate scores the detector output under every profile in profiles.
func (c *Corpus) Evaluate(scores [][]float64, profiles []Profile) ([]ProfileScore, error) {
	in, err := c.Inputs(scores)
	if err != nil {
		return nil, err
	}
	out := make([]ProfileScore, 0, len(profiles))
	for _, p := range profiles {
		ps, err := Score(in, p)
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

// ReadResults reads a detector's results in NAB's layout,
// DIR/DETECTOR/CATEGORY/DETECTOR_FILE.csv, for every series of the corpus.
func (c *Corpus) ReadResults(dir, detector string) ([][]float64, error) {
	out := make([][]float64, len(c.Series))
	for i, s := range c.Series {
		path := filepath.Join(dir, detector, s.Category(), detector+"_"+s.File())
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		out[i], err = ReadScores(f, path)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WriteResults writes scores in NAB's results layout:
// DIR/DETECTOR/CATEGORY/DETECTOR_FILE.csv with the columns
// timestamp,value,anomaly_score,label (label 1 inside a window), so that
// NAB's own scorer can score the same output.
func (c *Corpus) WriteResults(dir, detector string, scores [][]float64) error {
	for i, s := range c.Series {
		if len(scores[i]) != s.Len() {
			return fmt.Errorf("%s: %d scores for %d rows", s.Name, len(scores[i]), s.Len())
		}
		sub := filepath.Join(dir, detector, s.Category())
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("cannot create results folder: %w", err)
		}
		path := filepath.Join(sub, detector+"_"+s.File())
		if err := writeFile(path, s, c.Windows[i], scores[i]); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	return nil
}

func writeFile(path string, s *Series, windows [][2]int, scores []float64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("timestamp,value,anomaly_score,label\n")
	k := 0
	var buf []byte
	for i := range scores {
		for k < len(windows) && windows[k][1] < i {
			k++
		}
		label := byte('0')
		if k < len(windows) && windows[k][0] <= i {
			label = '1'
		}
		buf = append(buf[:0], s.Timestamps[i]...)
		buf = append(buf, ',')
		buf = append(buf, s.RawValues[i]...)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, scores[i], 'g', -1, 64)
		buf = append(buf, ',', label, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// PrintScores writes one line per profile: the normalised score, the raw
// score, the threshold and the row counts.
func PrintScores(w io.Writer, detector string, scores []ProfileScore) {
	fmt.Fprintf(w, "%-14s %-20s %10s %10s %10s %6s %6s %7s\n", "detector", "profile", "score", "raw", "threshold", "TP", "FP", "FN")
	for _, ps := range scores {
		fmt.Fprintf(w, "%-14s %-20s %10.2f %10.3f %10.6g %6d %6d %7d\n", detector, ps.Profile.Name, ps.Normalized, ps.Raw,
			ps.Threshold, ps.Total.TP, ps.Total.FP, ps.Total.FN)
	}
}

// PrintFiles writes the per-file scores of one profile.
func PrintFiles(w io.Writer, ps ProfileScore) {
	fmt.Fprintf(w, "%s (threshold %.6g):\n", ps.Profile.Name, ps.Threshold)
	for _, f := range ps.Files {
		fmt.Fprintf(w, "  %-58s %9.4f  TP %5d FP %5d FN %5d\n", f.Name, f.Score, f.TP, f.FP, f.FN)
	}
}
