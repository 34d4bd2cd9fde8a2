package schemas

import (
	"fmt"
	"strings"
)

// LocalTableSuffix is appended to a table's name for the per-node table of
// the cluster form (samples_local under the Distributed table samples).
const LocalTableSuffix = "_local"

// distributedTables are the tables that get a Distributed table over their
// per-node tables in the cluster form, in creation order.
var distributedTables = []string{TableSamples, TableDetections, TablePower, TableMaintenance, TableSamples1m, TableSamples1h,
	TableIncidents, TableIncidentMembers}

// shardingKey returns the sharding key of a Distributed table: the device,
// so a series and its FINAL deduplication stay on one shard; the incident
// id for the incident tables, so an incident's updates do.
func shardingKey(table string) string {
	switch table {
	case TableIncidents:
		return "cityHash64(id)"
	case TableIncidentMembers:
		return "cityHash64(incident_id)"
	}
	return "cityHash64(device)"
}

// ClickHouseClusterTables returns the per-node table names the cluster form
// creates under the Distributed ones, e.g. "samples_local", in creation
// order.
func ClickHouseClusterTables() []string {
	out := make([]string, len(distributedTables))
	for i, t := range distributedTables {
		out[i] = t + LocalTableSuffix
	}
	return out
}

// DefaultReplicaPath returns the ZooKeeper path prefix of the replicated
// tables of cluster when DDLOptions.ReplicaPath is empty. {shard} is a
// macro each server defines in its config.
func DefaultReplicaPath(cluster string) string {
	return "/clickhouse/tables/" + cluster + "/{shard}"
}

// ddlTarget is where the DDL goes: one server, or a cluster.
type ddlTarget struct {
	db, qdb     string
	cluster     string
	replicaPath string
	// noComments drops column comments: 18.16's replicated tables refuse
	// them ("Table structure in ZooKeeper is too different from local
	// table structure"), so the legacy cluster form has none.
	noComments bool
}

func newDDLTarget(db string, l Layout, opts DDLOptions) ddlTarget {
	t := ddlTarget{db: db, qdb: QuoteIdent(db), cluster: opts.Cluster, replicaPath: opts.ReplicaPath,
		noComments: opts.Cluster != "" && l == LayoutLegacy}
	if t.cluster != "" && t.replicaPath == "" {
		t.replicaPath = DefaultReplicaPath(t.cluster)
	}
	t.replicaPath = strings.TrimRight(t.replicaPath, "/")
	return t
}

// local returns the quoted name of table's data table: table itself on a
// single server, the per-node table in the cluster form.
func (t ddlTarget) local(table string) string {
	if t.cluster == "" {
		return QuoteIdent(table)
	}
	return QuoteIdent(table + LocalTableSuffix)
}

// onCluster returns the ON CLUSTER clause, or "" on a single server.
func (t ddlTarget) onCluster() string {
	if t.cluster == "" {
		return ""
	}
	return " ON CLUSTER " + QuoteIdent(t.cluster)
}

// engine returns the engine of table's data table: kind (a *MergeTree) on
// a single server, its Replicated variant, with one ZooKeeper path per
// shard, in the cluster form.
func (t ddlTarget) engine(kind, table string) string {
	if t.cluster == "" {
		return kind
	}
	return t.replicated(kind, t.replicaPath+"/"+t.db+"/"+table+LocalTableSuffix)
}

// everyNodeEngine is engine for a table that has a copy on every node of
// the cluster (one ZooKeeper path for all shards).
func (t ddlTarget) everyNodeEngine(kind, table string) string {
	if t.cluster == "" {
		return kind
	}
	return t.replicated(kind, "/clickhouse/tables/"+t.cluster+"/all/"+t.db+"/"+table)
}

func (t ddlTarget) replicated(kind, path string) string {
	return fmt.Sprintf("Replicated%s(%s, '{replica}')", kind, quoteString(path))
}

// distributedTables returns the CREATE TABLE statements of the Distributed
// tables of the cluster form, or nil on a single server.
func (t ddlTarget) distributedTables(header string) []string {
	if t.cluster == "" {
		return nil
	}
	var out []string
	for _, table := range distributedTables {
		out = append(out, header+fmt.Sprintf(
			"CREATE TABLE IF NOT EXISTS %s.%s%s AS %s.%s\nENGINE = Distributed(%s, %s, %s, %s)",
			t.qdb, QuoteIdent(table), t.onCluster(), t.qdb, t.local(table),
			quoteString(t.cluster), quoteString(t.db), quoteString(table+LocalTableSuffix), shardingKey(table)))
	}
	return out
}

// ClickHouseAddColumnCluster returns the statements that add column name of
// table in layout l on every node of cluster: to the per-node table, then
// to the Distributed table over it. It returns nil if the layout has no
// such column. The legacy layout's column gets no comment (see
// ClickHouseDDL).
func ClickHouseAddColumnCluster(db, cluster, table string, l Layout, name string) []string {
	stmt := ClickHouseAddColumn(db, table, l, name)
	if stmt == "" {
		return nil
	}
	on := " ON CLUSTER " + QuoteIdent(cluster)
	dist := fmt.Sprintf("ALTER TABLE %s.%s", QuoteIdent(db), QuoteIdent(table))
	local := fmt.Sprintf("ALTER TABLE %s.%s", QuoteIdent(db), QuoteIdent(table+LocalTableSuffix))
	rest := strings.TrimPrefix(stmt, dist)
	if l == LayoutLegacy {
		rest, _, _ = strings.Cut(rest, " COMMENT ")
	}
	return []string{local + on + rest, dist + on + rest}
}

// columnType returns typ without its COMMENT clause when t drops comments.
func (t ddlTarget) columnType(typ string) string {
	if t.noComments {
		typ, _, _ = strings.Cut(typ, " COMMENT ")
	}
	return typ
}

// ClickHouseDropView returns the statement that drops view of db, on every
// node of cluster when cluster is not empty. Apply uses it to replace a
// rollup view of an earlier build; the view's rollup table is not touched.
func ClickHouseDropView(db, cluster, view string) string {
	stmt := fmt.Sprintf("DROP TABLE IF EXISTS %s.%s", QuoteIdent(db), QuoteIdent(view))
	if cluster != "" {
		stmt += " ON CLUSTER " + QuoteIdent(cluster)
	}
	return stmt
}
