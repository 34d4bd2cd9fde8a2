package nab

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// timeLayout is the layout of NAB's data timestamps; label timestamps add
// ".000000".
const timeLayout = "2006-01-02 15:04:05"

// Series is one NAB data file.
type Series struct {
	// Name is "CATEGORY/FILE.csv", the key of the labels.
	Name string
	// Timestamps and RawValues are the columns as written in the file.
	Timestamps []string
	RawValues  []string
	// Times are the timestamps parsed as UTC; Values the parsed values.
	Times  []time.Time
	Values []float64
}

// Category returns the category part of the series name.
func (s *Series) Category() string { c, _, _ := strings.Cut(s.Name, "/"); return c }

// File returns the file part of the series name.
func (s *Series) File() string { _, f, _ := strings.Cut(s.Name, "/"); return f }

// Len returns the number of rows.
func (s *Series) Len() int { return len(s.Values) }

// ParseTime parses a NAB timestamp, with or without fractional seconds.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return time.Parse(timeLayout+".999999999", s)
	}
	return time.Parse(timeLayout, s)
}

// ReadSeries reads a NAB-format CSV (header timestamp,value, and possibly
// more columns, which are ignored) named name ("CATEGORY/FILE.csv").
func ReadSeries(r io.Reader, name string) (*Series, error) { return readSeries(r, name, name) }

// readSeries is ReadSeries with errors naming the file as where (its
// path, for a file of a corpus folder).
func readSeries(r io.Reader, name, where string) (*Series, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read header of %s: %w", where, err)
	}
	if len(head) < 2 || head[0] != "timestamp" || head[1] != "value" {
		return nil, fmt.Errorf("%s: header %q does not start with timestamp,value", where, head)
	}
	s := &Series{Name: name}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		t, err := ParseTime(rec[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: cannot parse timestamp: %w", where, line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: cannot parse value: %w", where, line, err)
		}
		s.Timestamps = append(s.Timestamps, rec[0])
		s.RawValues = append(s.RawValues, rec[1])
		s.Times = append(s.Times, t)
		s.Values = append(s.Values, v)
	}
	return s, nil
}

// LoadCorpus reads every CATEGORY/FILE.csv under dir, sorted by name.
func LoadCorpus(dir string) ([]*Series, error) {
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".csv") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if strings.Count(filepath.ToSlash(rel), "/") != 1 {
			return nil // not CATEGORY/FILE.csv
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no CATEGORY/FILE.csv under %s", dir)
	}
	sort.Strings(names)
	out := make([]*Series, 0, len(names))
	for _, n := range names {
		path := filepath.Join(dir, filepath.FromSlash(n))
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		s, err := readSeries(f, n, path)
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Window is one labelled anomaly window, both ends inclusive.
type Window struct {
	Start, End time.Time
}

// Labels maps "CATEGORY/FILE.csv" to the file's anomaly windows in time
// order (NAB's combined_windows.json).
type Labels map[string][]Window

// LoadLabels reads NAB's combined_windows.json.
func LoadLabels(path string) (Labels, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read labels: %w", err)
	}
	return ParseLabels(b)
}

// ParseLabels parses the contents of NAB's combined_windows.json.
func ParseLabels(b []byte) (Labels, error) {
	var raw map[string][][]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("cannot parse labels: %w", err)
	}
	out := make(Labels, len(raw))
	for name, ws := range raw {
		list := make([]Window, 0, len(ws))
		for i, w := range ws {
			if len(w) != 2 {
				return nil, fmt.Errorf("labels: %s window %d has %d ends, want 2", name, i, len(w))
			}
			a, err := ParseTime(w[0])
			if err != nil {
				return nil, fmt.Errorf("labels: %s window %d: %w", name, i, err)
			}
			b, err := ParseTime(w[1])
			if err != nil {
				return nil, fmt.Errorf("labels: %s window %d: %w", name, i, err)
			}
			list = append(list, Window{a, b})
		}
		out[name] = list
	}
	return out, nil
}

// Count returns the number of windows over all files.
func (l Labels) Count() int {
	n := 0
	for _, ws := range l {
		n += len(ws)
	}
	return n
}

// WindowRows maps windows to row ranges of s: each end is the first row
// whose timestamp equals it (rows, not timestamps, identify NAB rows).
func WindowRows(s *Series, ws []Window) ([][2]int, error) {
	out := make([][2]int, 0, len(ws))
	find := func(t time.Time) int {
		for i, x := range s.Times {
			if x.Equal(t) {
				return i
			}
		}
		return -1
	}
	for k, w := range ws {
		l, r := find(w.Start), find(w.End)
		if l < 0 || r < 0 || r < l {
			return nil, fmt.Errorf("%s: window %d [%s, %s] does not match the file's rows", s.Name, k, w.Start, w.End)
		}
		out = append(out, [2]int{l, r})
	}
	return out, nil
}

// Profile is a NAB application profile: the weights of true positives,
// false positives and false negatives.
type Profile struct {
	Name       string
	TP, FP, FN float64
}

// The three NAB application profiles (NAB's config/profiles.json).
var (
	Standard         = Profile{Name: "standard", TP: 1, FP: 0.11, FN: 1}
	RewardLowFPRate  = Profile{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1}
	RewardLowFNRate  = Profile{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2}
	Profiles         = []Profile{Standard, RewardLowFPRate, RewardLowFNRate}
	errUnknownFormat = errors.New("unknown profiles format")
)

// LoadProfiles reads NAB's config/profiles.json, in the order standard,
// reward_low_FP_rate, reward_low_FN_rate, then any others by name.
func LoadProfiles(path string) ([]Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read profiles: %w", err)
	}
	var raw map[string]struct {
		CostMatrix map[string]float64 `json:"CostMatrix"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("cannot parse profiles %s: %w", path, errors.Join(err, errUnknownFormat))
	}
	rank := map[string]int{"standard": 0, "reward_low_FP_rate": 1, "reward_low_FN_rate": 2}
	var out []Profile
	for name, p := range raw {
		out = append(out, Profile{Name: name, TP: p.CostMatrix["tpWeight"], FP: p.CostMatrix["fpWeight"], FN: p.CostMatrix["fnWeight"]})
	}
	sort.Slice(out, func(i, j int) bool {
		ri, oki := rank[out[i].Name]
		rj, okj := rank[out[j].Name]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// ReadScores reads the anomaly_score column of a NAB results file
// (timestamp,value,anomaly_score[,label...]).
func ReadScores(r io.Reader, name string) ([]float64, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read header of %s: %w", name, err)
	}
	col := -1
	for i, h := range head {
		if h == "anomaly_score" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("%s: no anomaly_score column in %q", name, head)
	}
	var out []float64
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[col]), 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: cannot parse anomaly_score: %w", name, line, err)
		}
		out = append(out, v)
	}
}
