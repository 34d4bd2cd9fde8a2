package app

import (
	"context"
	"errors"
	"time"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// The outputs of the incidents (tk.incidents): the ClickHouse tables and
// the inventory dimension tables beside them.

func incidentsTopic(c *config.Config) string { return c.Correlate.Topic }

// incidentsToClickHouse enables the clickhouse-incidents row: ClickHouse
// configured and the correlate stage on.
func incidentsToClickHouse(c *config.Config) error {
	if err := clickhouseEnabled(c); err != nil {
		return err
	}
	if err := correlateEnabled(c); err != nil {
		return errors.New("correlate.enabled is false: no incidents to store")
	}
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
