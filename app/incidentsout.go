package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// The outputs of the incidents (tk.incidents): the ClickHouse tables, the
// inventory dimension tables beside them, and the Alertmanager bridge.

func incidentsTopic(c *config.Config) string { return c.Correlate.Topic }

// alertmanagerSource returns what the Alertmanager bridge posts:
// alertmanager.source, or by default the incidents when the correlate
// stage is enabled (correlate.enabled, whichever process runs it) and
// the detections otherwise.
func alertmanagerSource(c *config.Config) string {
	switch {
	case c.Alertmanager.Source != "":
		return c.Alertmanager.Source
	case correlateEnabled(c) == nil:
		return alertmanager.SourceIncidents
	}
	return alertmanager.SourceDetections
}

// alertmanagerInput is the topic the Alertmanager bridge reads.
func alertmanagerInput(c *config.Config) string {
	if alertmanagerSource(c) == alertmanager.SourceIncidents {
		return c.Correlate.Topic
	}
	return c.Topics.Detections
}

// incidentsTopicSpec is the incidents topic as the correlate stage
// creates it: compacted, keyed by incident id.
func incidentsTopicSpec(c *config.Config) kafka.TopicSpec {
	return kafka.TopicSpec{Name: c.Correlate.Topic, Partitions: c.Correlate.Partitions, Compacted: true}
}

// restoreIncidents creates the incidents topic if missing and seeds am
// with its open incidents (the latest update of each), so their alerts
// keep being re-posted after a restart.
func restoreIncidents(ctx context.Context, am *alertmanager.Sink, c *config.Config, kc kafka.Config, admin *kgo.Client, log *slog.Logger) error {
	if err := kafka.EnsureTopics(ctx, admin, incidentsTopicSpec(c)); err != nil {
		return err
	}
	latest := map[string]*schemas.Incident{}
	err := kafka.ReadAll(ctx, kc, c.Correlate.Topic, func(r *kgo.Record) {
		if in, err := schemas.UnmarshalIncident(r.Value); err == nil {
			if old := latest[in.ID]; old == nil || !in.UpdatedAt.Before(old.UpdatedAt) {
				latest[in.ID] = in
			}
		}
	})
	if err != nil {
		return fmt.Errorf("alertmanager: cannot read the incidents from %s: %w", c.Correlate.Topic, err)
	}
	ins := slices.Collect(maps.Values(latest))
	am.RestoreIncidents(ins...)
	log.Info("alertmanager bridge restored the open incidents", "open", am.Firing(), "topic", c.Correlate.Topic)
	return nil
}

// buildClickHouseIncidents builds the stage that writes tk.incidents to
// the incidents and incident_members tables, after loading the correlate
// stage's inventory (its file, or the simulated fleet's) into the
// inventory tables, so analysts join detections and incidents with sites
// and roles at query time. A failed inventory load is logged and the stage
// still runs: the incidents are what must not be lost.
func buildClickHouseIncidents(ctx context.Context, env *Env) (Built, error) {
	s, err := env.clickhouseSink(ctx)
	if err != nil {
		return Built{}, err
	}
	if err := kafka.EnsureTopics(ctx, env.Admin, incidentsTopicSpec(env.Config)); err != nil {
		return Built{}, err
	}
	inv, err := correlateInventory(env)
	if err != nil {
		return Built{}, err
	}
	now := time.Now()
	if snap := inv.Current(now); snap.Inv != nil {
		n, err := s.InsertInventory(ctx, snap.Inv, now)
		if err != nil {
			env.Log.Warn("cannot load the inventory into clickhouse; incidents are still stored", "stage", "clickhouse-incidents", "err", err)
		} else {
			env.Log.Info("inventory loaded into clickhouse", "stage", "clickhouse-incidents", "rows", n, "devices", len(snap.Inv.Devices))
		}
	}
	return clickhouseBuilt(env, clickhouse.NewIncidentsStage(s)), nil
}
