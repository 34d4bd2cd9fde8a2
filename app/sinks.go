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
// that are firing as the bridge's consumer group has consumed the
// detections topic up to its committed offsets (alertstate.LoadAsOf: the
// compacted alert-state topic, created if missing, with the detections
// between the alertstate stage's and the bridge's committed offsets
// applied), so alerts that fired before a restart keep being re-posted
// instead of expiring, and alerts the bridge resolved stay resolved, even
// when the alertstate stage lags the bridge. With the incidents as its
// source, it is seeded with the open incidents of the incidents topic
// instead.
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
	state, rp, err := alertstate.LoadAsOf(ctx, kc, cfg.Topics.AlertState, alertstate.AsOf{
		Detections: cfg.Topics.Detections,
		StateGroup: stageGroup(cfg, "alertstate"),
		Group:      stageGroup(cfg, "alertmanager"),
	})
	if err != nil {
		return nil, fmt.Errorf("alertmanager: cannot read the alert state from %s and %s: %w", cfg.Topics.AlertState, cfg.Topics.Detections, err)
	}
	if rp.Missed > 0 {
		log.Warn("the detections topic's retention deleted detections the alertstate stage had not consumed; alerts they changed may be restored in an older state",
			"topic", cfg.Topics.Detections, "offsets", rp.Missed)
	}
	firing := make([]*schemas.Detection, 0, len(state))
	for _, d := range state {
		if d.State == schemas.StateFiring {
			firing = append(firing, d)
		}
	}
	am.Restore(firing...)
	log.Info("alertmanager bridge restored the firing alerts", "firing", len(firing), "topic", cfg.Topics.AlertState,
		"replayed", rp.Records, "from", cfg.Topics.Detections)
	return am, nil
}

// stageGroup is the consumer group of the stage named name, as the
// process's runners name it: PREFIX-NAME.
func stageGroup(cfg *config.Config, name string) string {
	return cfg.Topics.GroupPrefix + "-" + name
}
