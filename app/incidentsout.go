package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/stages/correlate"
	"github.com/telekernel/telekernel/stages/inventory"
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
	ins, _, err := correlate.ReadIncidents(ctx, kc, c.Correlate.Topic)
	if err != nil {
		return fmt.Errorf("alertmanager: cannot read the incidents from %s: %w", c.Correlate.Topic, err)
	}
	// Alertmanager unreadable is RestoreIncidents' to say, and the first
	// flush's to retry.
	am.RestoreIncidents(ctx, ins...)
	log.Info("alertmanager bridge restored the open incidents", "open", am.Firing(), "topic", c.Correlate.Topic)
	return nil
}

// buildClickHouseIncidents builds the stage that writes tk.incidents to
// the incidents and incident_members tables, and loads the correlate
// stage's inventory (its file, or the simulated fleet's) into the
// inventory tables at start and again whenever the file changed, so
// analysts join detections and incidents with sites and roles at query
// time.
func buildClickHouseIncidents(ctx context.Context, env *Env) (Built, error) {
	s, err := env.clickhouseSink(ctx)
	if err != nil {
		return Built{}, err
	}
	if err := kafka.EnsureTopics(ctx, env.Admin, incidentsTopicSpec(env.Config)); err != nil {
		return Built{}, err
	}
	inv, err := correlateInventory(ctx, env, env.Log.With("stage", "clickhouse-incidents"))
	if err != nil {
		return Built{}, err
	}
	st := &incidentsStage{IncidentsStage: clickhouse.NewIncidentsStage(s), s: s, inv: inv, log: env.Log.With("stage", "clickhouse-incidents")}
	st.loadInventory(ctx)
	return clickhouseBuilt(env, st), nil
}

// incidentsStage is the clickhouse-incidents sink: the incidents, and the
// inventory reloaded before a flush when it changed.
type incidentsStage struct {
	*clickhouse.IncidentsStage
	s   inventoryWriter
	inv *inventory.View
	log *slog.Logger
	gen int // the inventory generation stored; 0: none yet

	now func() time.Time // nil: time.Now

	// The failing inventory write, logged once when it starts, at most
	// once per inventoryWarnEvery while it lasts, and once when it clears.
	failSince, warnedAt time.Time
	failures            int
}

// inventoryWarnEvery is the least time between two WARN lines for one
// inventory that cannot be stored.
const inventoryWarnEvery = time.Minute

// inventoryWriter stores an inventory; *clickhouse.Sink is one.
type inventoryWriter interface {
	InsertInventory(ctx context.Context, inv *schemas.Inventory, loadedAt time.Time) (int, error)
}

var _ inventoryWriter = (*clickhouse.Sink)(nil)

// Flush stores a changed inventory, then the incidents.
func (st *incidentsStage) Flush(ctx context.Context) (int, error) {
	st.loadInventory(ctx)
	return st.IncidentsStage.Flush(ctx)
}

// loadInventory writes the inventory to ClickHouse when its generation
// changed since the last write. A failure is retried at the next flush;
// the incidents are stored regardless. It logs a WARN when writes start
// failing, at most one more per inventoryWarnEvery while they fail, and
// an INFO when the inventory is stored again.
func (st *incidentsStage) loadInventory(ctx context.Context) {
	now := time.Now()
	if st.now != nil {
		now = st.now()
	}
	snap := st.inv.Current(now)
	if snap.Inv == nil || snap.Gen == st.gen {
		return
	}
	n, err := st.s.InsertInventory(ctx, snap.Inv, now)
	if err != nil {
		st.failures++
		if st.failures == 1 {
			st.failSince = now
		}
		if st.failures == 1 || now.Sub(st.warnedAt) >= inventoryWarnEvery {
			st.warnedAt = now
			st.log.Warn("cannot load the inventory into clickhouse; incidents are still stored, the inventory tables keep the previous one; retrying at every flush (check ClickHouse and the inventory tables; this repeats at most once a minute)",
				"err", err, "failing_for", now.Sub(st.failSince).Round(time.Second), "retries", st.failures, "generation", snap.Gen)
		}
		return
	}
	st.gen = snap.Gen
	if st.failures > 0 {
		st.log.Info("inventory stored in clickhouse again", "rows", n, "devices", len(snap.Inv.Devices), "generation", snap.Gen,
			"failed_for", now.Sub(st.failSince).Round(time.Second), "failed_retries", st.failures)
		st.failures, st.failSince, st.warnedAt = 0, time.Time{}, time.Time{}
		return
	}
	st.log.Info("inventory loaded into clickhouse", "rows", n, "devices", len(snap.Inv.Devices), "generation", snap.Gen)
}
