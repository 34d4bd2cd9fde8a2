package clickhouse

import (
	"context"
	"fmt"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telekernel/telekernel/schemas"
)

// clusterSettings returns the settings every query of a sink that writes
// through cluster carries, or nil for a single server. Inserts into a
// Distributed table are then synchronous: the INSERT returns once each
// shard's block is written to one of its replicas (which replicates it),
// instead of being spooled on the receiving node and sent later, so an
// acknowledged insert survives that node dying and a failed one is
// retried by the caller. insert_deduplicate (the default) makes the
// replicated tables drop a block they already hold, so the retry of an
// INSERT whose acknowledgement was lost adds nothing.
func clusterSettings(cluster string) ch.Settings {
	if cluster == "" {
		return nil
	}
	return ch.Settings{"insert_distributed_sync": 1, "insert_deduplicate": 1}
}

// clusterReplicaPath checks that the server knows s.cfg.Cluster and defines
// the macros the replicated tables need, and returns the ZooKeeper path
// prefix of those tables: with one shard it names no macro but {replica}
// (so the same servers can also be the shards of another cluster), with
// several it is schemas.DefaultReplicaPath, whose {shard} each server
// expands.
func (s *Sink) clusterReplicaPath(ctx context.Context) (string, error) {
	c := s.cfg.Cluster
	var shards uint64
	if err := s.conn.QueryRow(ctx, "SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = ?", c).Scan(&shards); err != nil {
		return "", fmt.Errorf("cannot read system.clusters: %w", err)
	}
	if shards == 0 {
		return "", fmt.Errorf("cannot apply clickhouse ddl on cluster %s: the server at %s has no cluster %s in its remote_servers config",
			c, strings.Join(s.cfg.Addr, ","), c)
	}
	rows, err := s.conn.Query(ctx, "SELECT macro FROM system.macros")
	if err != nil {
		return "", fmt.Errorf("cannot read system.macros: %w", err)
	}
	defer rows.Close()
	macros := map[string]bool{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return "", fmt.Errorf("cannot read system.macros: %w", err)
		}
		macros[m] = true
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("cannot read system.macros: %w", err)
	}
	need := []string{"replica"}
	if shards > 1 {
		need = append(need, "shard")
	}
	for _, m := range need {
		if !macros[m] {
			return "", fmt.Errorf("cannot apply clickhouse ddl on cluster %s: the server at %s defines no <macros><%s> (each server needs its own)",
				c, strings.Join(s.cfg.Addr, ","), m)
		}
	}
	if shards == 1 {
		return "/clickhouse/tables/" + c + "/1", nil
	}
	return schemas.DefaultReplicaPath(c), nil
}

// addColumnStatements returns the statements that add column name of
// table in layout l: on the server, or on every node of the cluster.
func (s *Sink) addColumnStatements(table string, l schemas.Layout, name string) []string {
	if s.cfg.Cluster != "" {
		return schemas.ClickHouseAddColumnCluster(s.cfg.Database, s.cfg.Cluster, table, l, name)
	}
	return []string{schemas.ClickHouseAddColumn(s.cfg.Database, table, l, name)}
}
