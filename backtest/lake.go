package backtest

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/parquet"
)

// lakeBatch is the most samples of a batch replayed from the lake.
const lakeBatch = 4096

// lakeSource replays a Parquet lake one hour folder at a time.
type lakeSource struct {
	hours [][]string // the files of each hour folder, in time order
	next  int
	rows  []schemas.Sample // the current hour, by device and time
	pos   int
}

// OpenLake returns a Source over the samples of a Parquet lake written by
// sinks/parquet: ROOT/samples/dt=YYYY-MM-DD/hour=HH/*.parquet (root may
// also be the samples folder itself). The hour folders are replayed in time
// order; the samples of one hour are read into memory and replayed by
// device in timestamp order, in batches of at most 4096 samples.
func OpenLake(root string) (Source, error) {
	dir := filepath.Join(root, "samples")
	if _, err := os.Stat(dir); err != nil {
		dir = root
	}
	dts, err := filepath.Glob(filepath.Join(dir, "dt=*", "hour=*"))
	if err != nil {
		return nil, fmt.Errorf("cannot list the lake: %w", err)
	}
	slices.Sort(dts) // dt=YYYY-MM-DD/hour=HH sorts in time order
	s := &lakeSource{}
	for _, h := range dts {
		files, err := filepath.Glob(filepath.Join(h, "*.parquet"))
		if err != nil {
			return nil, fmt.Errorf("cannot list %s: %w", h, err)
		}
		files = slices.DeleteFunc(files, func(f string) bool {
			b := filepath.Base(f)
			return strings.HasPrefix(b, ".") || strings.HasPrefix(b, "_")
		})
		if len(files) > 0 {
			slices.Sort(files)
			s.hours = append(s.hours, files)
		}
	}
	if len(s.hours) == 0 {
		return nil, fmt.Errorf("cannot open the lake: no %s/dt=*/hour=*/*.parquet", dir)
	}
	return s, nil
}

// Next implements Source.
func (s *lakeSource) Next(context.Context) ([]schemas.Sample, error) {
	for s.pos >= len(s.rows) {
		if s.next >= len(s.hours) {
			return nil, io.EOF
		}
		if err := s.load(s.hours[s.next]); err != nil {
			return nil, err
		}
		s.next++
	}
	dev := s.rows[s.pos].Device
	end := s.pos
	for end < len(s.rows) && end-s.pos < lakeBatch && s.rows[end].Device == dev {
		end++
	}
	b := s.rows[s.pos:end]
	s.pos = end
	return b, nil
}

// load reads an hour's files and orders their samples by device and time.
func (s *lakeSource) load(files []string) error {
	s.rows, s.pos = s.rows[:0], 0
	for _, f := range files {
		rows, err := parquet.ReadSamples(f)
		if err != nil {
			return err
		}
		s.rows = append(s.rows, rows...)
	}
	slices.SortStableFunc(s.rows, func(a, b schemas.Sample) int {
		return cmp.Or(strings.Compare(a.Device, b.Device), cmp.Compare(a.TS, b.TS))
	})
	return nil
}

// Close implements Source.
func (s *lakeSource) Close() error { s.next = len(s.hours); s.rows = nil; return nil }
