package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/alertstate"
)

// newAlertmanager returns the Alertmanager bridge, seeded with the alerts
// that are firing according to the compacted alert-state topic (created if
// missing), so alerts that fired before a restart keep being re-posted
// instead of expiring. With the incidents as its source, it is seeded with
// the open incidents of the incidents topic instead.
func newAlertmanager(ctx context.Context, cfg *config.Config, kc kafka.Config, admin *kgo.Client, reg prometheus.Registerer, log *slog.Logger) (*alertmanager.Sink, error) {
	amc := cfg.Alertmanager
	amc.Source = alertmanagerSource(cfg)
	am, err := alertmanager.New(amc, alertmanager.WithLogger(log), alertmanager.WithMetrics(alertmanager.NewMetrics(reg)))
	if err != nil {
		return nil, err
	}
	if amc.Source == alertmanager.SourceIncidents {
		return am, restoreIncidents(ctx, am, cfg, kc, admin, log)
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
