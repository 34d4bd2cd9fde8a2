package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

type addStage func(name, group, topic string, sink pipeline.Sink, rows int, every time.Duration, afterDetect bool) error

// ClickHouseConfig is the sink's connection config for the clickhouse
// section of a config file, the password loaded from its source.
func ClickHouseConfig(c config.ClickHouse) (clickhouse.Config, error) {
	pw, err := c.Password.Load()
	if err != nil {
		return clickhouse.Config{}, fmt.Errorf("clickhouse.password: %w", err)
	}
	return clickhouse.Config{
		Addr: c.Addr, Database: c.Database, Username: c.Username, Password: pw.Reveal(),
		TLS: clickhouse.TLSConfig{Enable: c.TLS.Enabled, CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
			ServerName: c.TLS.ServerName, InsecureSkipVerify: c.TLS.InsecureSkipVerify},
		Cluster: c.Cluster,
	}, nil
}

// addClickHouse connects to ClickHouse when it is configured, creates the
// tables, and adds a stage per table: samples, detections, power and
// maintenance.
func addClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger, add addStage) (io.Closer, error) {
	c := cfg.ClickHouse
	cc, err := ClickHouseConfig(c)
	if err != nil {
		return nil, err
	}
	s, err := clickhouse.New(ctx, cc, clickhouse.WithLogger(log))
	if err != nil {
		return nil, err
	}
	if err := s.EnsureTables(ctx); err != nil {
		s.Close()
		return nil, err
	}
	p := cfg.Topics.GroupPrefix
	samples := clickhouse.NewSamplesStage(s, defaultMem)
	closer := closeFunc(func() error { samples.Close(); return s.Close() })
	for _, st := range []struct {
		name, topic string
		sink        pipeline.Sink
		afterInputs bool // reads what the stages on samples produce
	}{
		{"clickhouse-samples", cfg.Topics.Samples, samples, false},
		{"clickhouse-detections", cfg.Topics.Detections, clickhouse.NewDetectionsStage(s), true},
		{"clickhouse-power", cfg.Topics.Power, clickhouse.NewPowerStage(s), true},
		{"clickhouse-maintenance", cfg.Topics.Maintenance, clickhouse.NewMaintenanceStage(s), true},
	} {
		if err := add(st.name, p+"-"+st.name, st.topic, st.sink, c.FlushRows, c.FlushInterval, st.afterInputs); err != nil {
			closer.Close()
			return nil, err
		}
	}
	return closer, nil
}

// closeFunc adapts a function to io.Closer.
type closeFunc func() error

func (f closeFunc) Close() error { return f() }
