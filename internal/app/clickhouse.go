package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/config"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

type addStage func(name, group, topic string, sink pipeline.Sink, rows int, every time.Duration, afterDetect bool) error

// addClickHouse connects to ClickHouse when it is configured, creates the
// tables, and adds one stage for samples and one for detections.
func addClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger, add addStage) (io.Closer, error) {
	c := cfg.ClickHouse
	pw, err := c.Password.Load()
	if err != nil {
		return nil, fmt.Errorf("clickhouse.password: %w", err)
	}
	s, err := clickhouse.New(ctx, clickhouse.Config{
		Addr: c.Addr, Database: c.Database, Username: c.Username, Password: pw.Reveal(),
		TLS: clickhouse.TLSConfig{Enable: c.TLS.Enabled, CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
			ServerName: c.TLS.ServerName, InsecureSkipVerify: c.TLS.InsecureSkipVerify},
	}, clickhouse.WithLogger(log))
	if err != nil {
		return nil, err
	}
	if err := s.EnsureTables(ctx); err != nil {
		s.Close()
		return nil, err
	}
	p := cfg.Topics.GroupPrefix
	if err := add("clickhouse-samples", p+"-clickhouse-samples", cfg.Topics.Samples, &chSamples{s: s}, c.FlushRows, c.FlushInterval, false); err != nil {
		s.Close()
		return nil, err
	}
	if err := add("clickhouse-detections", p+"-clickhouse-detections", cfg.Topics.Detections, &chDetections{s: s}, c.FlushRows, c.FlushInterval, true); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// chSamples buffers decoded sample records and inserts them in one batch
// per flush.
type chSamples struct {
	s    *clickhouse.Sink
	recs []arrow.RecordBatch
	rows int
}

var _ pipeline.Sink = (*chSamples)(nil)

func (c *chSamples) Add(_ context.Context, r *kgo.Record) error {
	rec, err := schemas.DecodeSamples(defaultMem, headersOf(r), r.Value)
	if err != nil {
		return err
	}
	c.recs = append(c.recs, rec)
	c.rows += int(rec.NumRows())
	return nil
}

func (c *chSamples) Flush(ctx context.Context) (int, error) {
	if len(c.recs) == 0 {
		return 0, nil
	}
	n, err := c.s.InsertSamples(ctx, c.recs)
	if err != nil {
		if !clickhouse.IsRetryable(err) {
			return 0, fmt.Errorf("%w: %v", pipeline.ErrStop, err)
		}
		return 0, err
	}
	for _, r := range c.recs {
		r.Release()
	}
	c.recs, c.rows = c.recs[:0], 0
	return n, nil
}

func (c *chSamples) Pending() int { return c.rows }

// chDetections buffers decoded detections and inserts them per flush.
type chDetections struct {
	s  *clickhouse.Sink
	ds []schemas.Detection
}

var _ pipeline.Sink = (*chDetections)(nil)

func (c *chDetections) Add(_ context.Context, r *kgo.Record) error {
	d, err := schemas.DecodeDetection(headersOf(r), r.Value)
	if err != nil {
		return err
	}
	c.ds = append(c.ds, *d)
	return nil
}

func (c *chDetections) Flush(ctx context.Context) (int, error) {
	if len(c.ds) == 0 {
		return 0, nil
	}
	n, err := c.s.InsertDetections(ctx, c.ds)
	if err != nil {
		if !clickhouse.IsRetryable(err) {
			return 0, fmt.Errorf("%w: %v", pipeline.ErrStop, err)
		}
		return 0, err
	}
	c.ds = c.ds[:0]
	return n, nil
}

func (c *chDetections) Pending() int { return len(c.ds) }
