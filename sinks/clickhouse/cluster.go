package clickhouse

import (
	"context"
	"errors"
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

// addColumnCluster adds column name of table in layout l on every node of
// the cluster: to the per-node table (unless inLocal: it has the column
// already), then to the Distributed table over it. ClickHouse 18.16
// refuses ALTER … ON CLUSTER on a Distributed table when the cluster's
// shards replicate internally (code 371, "isn't replicated, but shard #1
// is replicated according to its cluster definition"): then it drops the
// Distributed table and creates it again from ddl (ON CLUSTER), which
// takes the per-node table's columns. A Distributed table holds no rows
// of its own when every writer inserts synchronously, as the sink does
// (clusterSettings); a query or insert that reaches it between the DROP
// and the CREATE fails (unknown table).
func (s *Sink) addColumnCluster(ctx context.Context, ddl []string, table string, l schemas.Layout, name string, inLocal bool) error {
	stmts := schemas.ClickHouseAddColumnCluster(s.cfg.Database, s.cfg.Cluster, table, l, name)
	if len(stmts) != 2 {
		return fmt.Errorf("cannot migrate %s.%s: layout %s has no column %s", s.cfg.Database, table, l, name)
	}
	if !inLocal {
		if err := s.conn.Exec(ctx, stmts[0]); err != nil {
			return fmt.Errorf("cannot migrate %s.%s: %q: %w", s.cfg.Database, table+schemas.LocalTableSuffix, stmts[0], err)
		}
	}
	err := s.conn.Exec(ctx, stmts[1])
	var ex *ch.Exception
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &ex) || ex.Code != codeInconsistentCluster:
		return fmt.Errorf("cannot migrate %s.%s: %q: %w", s.cfg.Database, table, stmts[1], err)
	}
	create := ""
	for _, stmt := range ddl {
		if m := createdObject.FindStringSubmatch(stmt); m != nil && m[1] == schemas.QuoteIdent(s.cfg.Database)+"."+schemas.QuoteIdent(table) {
			create = stmt
		}
	}
	if create == "" {
		return fmt.Errorf("cannot migrate %s.%s: the ddl has no statement for it", s.cfg.Database, table)
	}
	drop := fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", schemas.QuoteIdent(s.cfg.Database), schemas.QuoteIdent(table), schemas.QuoteIdent(s.cfg.Cluster))
	for _, stmt := range []string{drop, create} {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("cannot migrate %s.%s (the server refuses ALTER on its Distributed table, so it is created again): %q: %w",
				s.cfg.Database, table, firstLine(stmt), err)
		}
	}
	s.log.Info("created distributed table again over its altered per-node table", "table", s.cfg.Database+"."+table, "column", name,
		"why", "the server refuses ALTER ON CLUSTER on a Distributed table of internally replicated shards")
	return nil
}
