package backtest

import (
	"context"
	"io"
	"sort"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/schemas"
)

// NABMetric is the metric of NAB series; the device is the file's name in
// the corpus ("realKnownCause/nyc_taxi.csv").
const NABMetric = "/nab/value"

// nabBatch is the number of points per batch of a NAB series.
const nabBatch = 256

// nabSource replays a NAB corpus, one series after the other, each as a
// gauge of its own device.
type nabSource struct {
	c      *nab.Corpus
	series int
	row    int
	batch  []schemas.Sample
}

// NABSource returns a Source over the series of c.
func NABSource(c *nab.Corpus) Source { return &nabSource{c: c} }

// Next implements Source.
func (s *nabSource) Next(context.Context) ([]schemas.Sample, error) {
	for s.series < len(s.c.Series) && s.row >= s.c.Series[s.series].Len() {
		s.series, s.row = s.series+1, 0
	}
	if s.series >= len(s.c.Series) {
		return nil, io.EOF
	}
	ser := s.c.Series[s.series]
	end := min(s.row+nabBatch, ser.Len())
	s.batch = s.batch[:0]
	for i := s.row; i < end; i++ {
		s.batch = append(s.batch, schemas.Sample{TS: ser.Times[i].UnixNano(), Device: ser.Name, Metric: NABMetric,
			Kind: schemas.KindGauge, F64: ser.Values[i], Source: "nab"})
	}
	s.row = end
	return s.batch, nil
}

// Close implements Source.
func (s *nabSource) Close() error { return nil }

// NABScores turns firing detections on c's series into NAB anomaly scores:
// on the row of each firing detection's event time, its score (the
// largest when several fire on one row), 0 elsewhere. The onsets are the
// alerts an operator would receive.
func NABScores(c *nab.Corpus, dets []schemas.Detection) [][]float64 {
	idx := make(map[string]int, len(c.Series))
	out := make([][]float64, len(c.Series))
	for i, s := range c.Series {
		idx[s.Name] = i
		out[i] = make([]float64, s.Len())
	}
	for i := range dets {
		d := &dets[i]
		k, ok := idx[d.Device]
		if !ok || d.State != schemas.StateFiring {
			continue
		}
		ts := c.Series[k].Times
		ns := d.EventTime.UnixNano()
		j := sort.Search(len(ts), func(j int) bool { return ts[j].UnixNano() >= ns })
		if j < len(ts) && ts[j].UnixNano() == ns {
			out[k][j] = max(out[k][j], d.Score)
		}
	}
	return out
}
