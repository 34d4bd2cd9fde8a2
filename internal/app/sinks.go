package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/config"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/alertstate"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// newAlertmanager returns the Alertmanager bridge, seeded with the alerts
// that are firing according to the compacted alert-state topic (created if
// missing), so alerts that fired before a restart keep being re-posted
// instead of expiring.
func newAlertmanager(ctx context.Context, cfg *config.Config, kc pipeline.KafkaConfig, admin *kgo.Client, reg prometheus.Registerer, log *slog.Logger) (*alertmanager.Sink, error) {
	am, err := alertmanager.New(cfg.Alertmanager, alertmanager.WithLogger(log), alertmanager.WithMetrics(alertmanager.NewMetrics(reg)))
	if err != nil {
		return nil, err
	}
	if err := alertstate.EnsureTopic(ctx, admin, cfg.Topics.AlertState, cfg.Topics.Partitions); err != nil {
		return nil, err
	}
	state, err := alertstate.Load(ctx, kc, cfg.Topics.AlertState)
	if err != nil {
		return nil, fmt.Errorf("alertmanager: cannot read the alert state from %s: %w", cfg.Topics.AlertState, err)
	}
	firing := make([]*schemas.Detection, 0, len(state))
	for _, d := range state {
		if d.State == schemas.StateFiring {
			firing = append(firing, d)
		}
	}
	am.Restore(firing...)
	log.Info("alertmanager bridge restored the firing alerts", "firing", len(firing), "topic", cfg.Topics.AlertState)
	return am, nil
}

type addStage func(name, group, topic string, sink pipeline.Sink, rows int, every time.Duration, afterDetect bool) error

// addClickHouse connects to ClickHouse when it is configured, creates the
// tables, and adds a stage per table: samples, detections, power and
// maintenance.
func addClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger, add addStage) (io.Closer, error) {
	c := cfg.ClickHouse
	s, err := clickhouse.New(ctx, c.Config, clickhouse.WithLogger(log))
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
