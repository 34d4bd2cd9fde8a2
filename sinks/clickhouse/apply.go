package clickhouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/internal/oneline"
	"github.com/telekernel/telekernel/schemas"
)

// ApplyReport says what Apply changed.
type ApplyReport struct {
	// ServerVersion is the server's version and Layout the layout new
	// tables were created in.
	ServerVersion schemas.ServerVersion
	Layout        schemas.Layout
	// Created lists the tables and views that did not exist before.
	Created []string
	// Added lists the columns added to existing tables, as "table.column".
	Added []string
	// Replaced lists the rollup views that had an earlier build's
	// definition and were dropped and created again (their rollup tables
	// and rows are kept).
	Replaced []string
	// Layouts is the layout of each data table as it exists afterwards.
	Layouts map[string]schemas.Layout
}

// Changed reports whether Apply created or altered anything.
func (r ApplyReport) Changed() bool {
	return len(r.Created) > 0 || len(r.Added) > 0 || len(r.Replaced) > 0
}

// migrated are the tables whose columns Apply brings up to date.
var migrated = []string{schemas.TableSamples, schemas.TableDetections, schemas.TablePower, schemas.TableMaintenance,
	schemas.TableIncidents, schemas.TableIncidentMembers}

// Apply creates or migrates the database, tables and rollup views
// idempotently and returns what it changed; running it again changes
// nothing. It applies schemas.ClickHouseDDL for the server's version (or
// the layout Config.Layout forces): every statement is CREATE … IF NOT
// EXISTS, so existing tables are kept with their layout. Then, for tables
// that exist in an older shape, it adds the columns of their layout that
// they lack (ALTER TABLE … ADD COLUMN), replaces rollup views that have an
// earlier build's definition (see upgradeViews; the rollup tables and rows
// stay), and it records the layout version of the samples and detections
// tables in schema_version. It fails with
// ErrSchemaMismatch when a table was created by a later layout version.
//
// Apply is safe to run from several processes at once: a column another
// process added meanwhile is not an error.
func (s *Sink) Apply(ctx context.Context) (ApplyReport, error) {
	var rep ApplyReport
	if s.closed.Load() {
		return rep, ErrClosed
	}
	v, err := s.ServerVersion()
	if err != nil {
		return rep, err
	}
	forced, _ := schemas.ParseLayout(s.cfg.Layout) // validated by New
	layout := forced
	if layout == schemas.LayoutAuto {
		layout = schemas.ChooseLayout(v)
	}
	rep.ServerVersion, rep.Layout = v, layout
	if err := s.noPartitionLimit(ctx); err != nil {
		return rep, err
	}
	s.log.Info("applying schema", "database", s.cfg.Database, "server_version", v.String(),
		"layout", layout.String(), "layout_config", s.cfg.Layout, "modern_floor", schemas.ModernLayoutFloor().String())
	before, err := s.tables(ctx)
	if err != nil {
		return rep, err
	}
	opts := schemas.DDLOptions{
		Layout:            layout,
		TTLDays:           s.cfg.TTLDays,
		DetectionsTTLDays: s.cfg.DetectionsTTLDays,
	}
	if s.cfg.Cluster != "" {
		if opts.ReplicaPath, err = s.clusterReplicaPath(ctx); err != nil {
			return rep, err
		}
		opts.Cluster = s.cfg.Cluster
	}
	ddl := schemas.ClickHouseDDL(s.cfg.Database, v, opts)
	if before[schemas.TableSamples] {
		if ddl, err = s.followSamples(ctx, ddl, v, opts); err != nil {
			return rep, err
		}
	}
	stmts := ddl
	if allExist(stmts, before) {
		// CREATE … IF NOT EXISTS would change nothing, and ON CLUSTER
		// it would wait for every node (distributed_ddl_task_timeout,
		// 180 s) and fail while one is down: a stage could not start
		// during a replica's maintenance although writes work.
		stmts = nil
	}
	for i, stmt := range stmts {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			hint := ""
			if layout == schemas.LayoutModern && schemas.ChooseLayout(v) != schemas.LayoutModern {
				hint = fmt.Sprintf(" (layout modern is forced on server %s, below its floor %s: set layout auto or legacy)", v, schemas.ModernLayoutFloor())
			}
			return rep, fmt.Errorf("cannot apply clickhouse ddl (%s layout) statement %d/%d %q: %w%s", layout, i+1, len(stmts), firstLine(stmt), oneline.Error{Err: err}, hint)
		}
	}
	after, err := s.tables(ctx)
	if err != nil {
		return rep, err
	}
	for t := range after {
		if !before[t] {
			rep.Created = append(rep.Created, t)
		}
	}
	slices.Sort(rep.Created)

	if err := s.upgradeViews(ctx, ddl, before, &rep); err != nil {
		return rep, err
	}
	if err := s.migrate(ctx, ddl, &rep); err != nil {
		return rep, err
	}
	if err := s.recordLayouts(ctx, layout, rep.Layouts); err != nil {
		return rep, err
	}
	if rep.Changed() {
		s.log.Info("schema applied", "created", strings.Join(rep.Created, ","), "added_columns", strings.Join(rep.Added, ","),
			"replaced_views", strings.Join(rep.Replaced, ","))
	}
	return rep, nil
}

// upgradeViews replaces the rollup views that existed before this Apply
// (before) with an earlier build's definition: it drops each and runs its
// statement of ddl again. The views write TO their rollup tables, so the
// tables and their rows stay. It runs when every table exists too, which
// is how an upgraded deployment gets the new views. An insert into samples
// that runs between the DROP and the CREATE (by another process) is not
// rolled up; rebuild the month as docs/analysts.md says. Two processes
// upgrading at once each drop and create, the last one wins, and both
// views end up current: a view the other dropped meanwhile, which the
// definition's read finds missing or fails on, is replaced too
// (TestIntegrationApplyConcurrentUpgrade).
func (s *Sink) upgradeViews(ctx context.Context, ddl []string, before map[string]bool, rep *ApplyReport) error {
	for _, view := range []string{schemas.ViewSamples1h, schemas.ViewSamples1m} {
		if !before[view] {
			continue // created by this Apply
		}
		var def string
		err := s.conn.QueryRow(ctx, "SELECT create_table_query FROM system.tables WHERE database = ? AND name = ?", s.cfg.Database, view).Scan(&def)
		switch {
		case err == nil, errors.Is(err, sql.ErrNoRows):
			// No rows: another process upgrading at once dropped it
			// since before was listed; the CREATE below makes it current.
		case droppedMeanwhile(err):
			// The read fails when a view of the database is dropped while
			// it runs (another process upgrading): replace this one too,
			// which is idempotent.
		default:
			return fmt.Errorf("cannot read the definition of %s.%s: %w", s.cfg.Database, view, err)
		}
		if schemas.RollupViewIsCurrent(def) {
			continue
		}
		create := ""
		for _, stmt := range ddl {
			if m := createdObject.FindStringSubmatch(stmt); m != nil && strings.HasSuffix(m[1], "."+schemas.QuoteIdent(view)) {
				create = stmt
			}
		}
		if create == "" {
			return fmt.Errorf("cannot upgrade %s.%s: the ddl has no statement for it", s.cfg.Database, view)
		}
		for _, stmt := range []string{schemas.ClickHouseDropView(s.cfg.Database, s.cfg.Cluster, view), create} {
			if err := s.conn.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("cannot replace rollup view %s.%s of an earlier build: %q: %w", s.cfg.Database, view, firstLine(stmt), err)
			}
		}
		rep.Replaced = append(rep.Replaced, view)
		s.log.Info("replaced rollup view of an earlier build; its rollup table and rows are kept",
			"view", s.cfg.Database+"."+view, "now", "gauges aggregate finite values only")
	}
	return nil
}

// followSamples returns ddl, made for opts.Layout, with the statements of
// the samples table, its rollup tables and their views in the layout the
// existing samples table has. A server upgraded in place keeps its legacy
// samples table (inserts follow the tables), and rollups of the modern
// layout cannot read it (their views take nanosecond times and no
// ts_frac): a missing rollup, or a view upgradeViews replaces, would fail
// to be created, or roll up the wrong columns.
func (s *Sink) followSamples(ctx context.Context, ddl []string, v schemas.ServerVersion, opts schemas.DDLOptions) ([]string, error) {
	types, err := s.columnTypes(ctx, schemas.TableSamples)
	if err != nil {
		return nil, err
	}
	l := columnsLayout(schemas.TableSamples, types)
	if l == opts.Layout {
		return ddl, nil
	}
	opts.Layout = l
	theirs := map[string]string{}
	for _, stmt := range schemas.ClickHouseDDL(s.cfg.Database, v, opts) {
		if name := samplesObject(stmt); name != "" {
			theirs[name] = stmt
		}
	}
	out := slices.Clone(ddl)
	for i, stmt := range out {
		if t, ok := theirs[samplesObject(stmt)]; ok {
			out[i] = t
		}
	}
	return out, nil
}

// samplesObject returns the name of the object stmt creates when it is
// the samples table or one made from it (its per-node table, its rollup
// tables and views: their names begin with the samples table's), else "".
func samplesObject(stmt string) string {
	m := createdObject.FindStringSubmatch(stmt)
	if m == nil {
		return ""
	}
	_, name, ok := strings.Cut(m[1], ".")
	if name = strings.Trim(name, "`"); !ok || !strings.HasPrefix(name, schemas.TableSamples) {
		return ""
	}
	return name
}

// columnsLayout returns the layout of table, whose columns and their types
// are types: legacy when its time has a separate fraction column.
func columnsLayout(table string, types map[string]string) schemas.Layout {
	if _, ok := types[schemas.ClickHouseTimeColumn(table)+"_frac"]; ok {
		return schemas.LayoutLegacy
	}
	return schemas.LayoutModern
}

// migrate adds the columns a table's layout has and the table lacks, and
// sets rep.Layouts to the layout of each migrated table. On a cluster the
// table is the Distributed one; a column its per-node table has already
// (an earlier Apply stopped between the two) is added to the Distributed
// table only. ddl is the DDL Apply ran.
func (s *Sink) migrate(ctx context.Context, ddl []string, rep *ApplyReport) error {
	rep.Layouts = map[string]schemas.Layout{}
	for _, table := range migrated {
		types, err := s.columnTypes(ctx, table)
		if err != nil {
			return err
		}
		var local map[string]string
		if s.cfg.Cluster != "" {
			if local, err = s.columnTypes(ctx, table+schemas.LocalTableSuffix); err != nil {
				return err
			}
		}
		l := columnsLayout(table, types)
		rep.Layouts[table] = l
		for _, c := range schemas.ClickHouseColumns(table, l) {
			if _, ok := types[c]; ok {
				continue
			}
			_, inLocal := local[c]
			if err := s.addColumn(ctx, ddl, table, l, c, inLocal); err != nil {
				// Another instance may have added it meanwhile.
				if now, cerr := s.columnTypes(ctx, table); cerr == nil {
					if _, ok := now[c]; ok {
						continue
					}
				}
				return err
			}
			rep.Added = append(rep.Added, table+"."+c)
			s.log.Info("added column", "table", s.cfg.Database+"."+table, "column", c, "layout", l.String())
		}
	}
	return nil
}

// recordLayouts caches the layout of every table as it exists now, and
// records the layout version of the samples and detections tables in
// schema_version where it is missing or older. It fails with
// ErrSchemaMismatch when a table has a later layout version than this
// build writes. layout is the one new tables were created in.
func (s *Sink) recordLayouts(ctx context.Context, layout schemas.Layout, migratedLayouts map[string]schemas.Layout) error {
	s.mu.Lock()
	clear(s.layouts)
	s.mu.Unlock()
	versions, err := s.layoutVersions(ctx)
	if err != nil {
		return err
	}
	var record []string
	for _, table := range []string{schemas.TableSamples, schemas.TableDetections} {
		got, err := s.layout(ctx, table)
		if err != nil {
			return err
		}
		if got != layout {
			s.log.Warn("table exists with another layout; keeping it and writing in its layout",
				"table", s.cfg.Database+"."+table, "existing", got.String(), "would_create", layout.String())
		}
		switch v, ok := versions[table]; {
		case ok && v > schemas.ClickHouseSchemaVersion:
			return fmt.Errorf("%w: %s.%s has layout version %d, this build writes version %d: upgrade telekernel",
				ErrSchemaMismatch, s.cfg.Database, table, v, schemas.ClickHouseSchemaVersion)
		case !ok || v < schemas.ClickHouseSchemaVersion:
			record = append(record, table, got.String())
		}
	}
	s.mu.Lock()
	for _, table := range migrated[2:] { // all but samples and detections, recorded above
		s.layouts[table] = migratedLayouts[table]
	}
	s.mu.Unlock()
	if len(record) > 0 {
		return s.recordVersions(ctx, record, time.Now().UTC())
	}
	return nil
}

// createdObject matches the object a DDL statement creates.
var createdObject = regexp.MustCompile(`(?m)^CREATE (?:TABLE|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS (\S+)`)

// allExist reports whether every table and view stmts create is in
// tables, the database's (so the database exists too). A statement that
// creates nothing this knows of makes it false.
func allExist(stmts []string, tables map[string]bool) bool {
	if len(tables) == 0 {
		return false
	}
	for _, stmt := range stmts {
		m := createdObject.FindStringSubmatch(stmt)
		if m == nil {
			return false
		}
		if strings.HasPrefix(m[0], "CREATE DATABASE") {
			continue
		}
		_, name, ok := strings.Cut(m[1], ".")
		if !ok || !tables[strings.Trim(name, "`")] {
			return false
		}
	}
	return true
}

// maxDroppedRetries is how many times tables and columnTypes read again
// after droppedMeanwhile.
const maxDroppedRetries = 5

// tables returns the names of the tables and views in the database.
func (s *Sink) tables(ctx context.Context) (map[string]bool, error) {
	for i := 0; ; i++ {
		out, err := s.tablesOnce(ctx)
		if i == maxDroppedRetries || !droppedMeanwhile(err) {
			return out, err
		}
	}
}

func (s *Sink) tablesOnce(ctx context.Context) (map[string]bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ?", s.cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("cannot list the tables of %s: %w", s.cfg.Database, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("cannot list the tables of %s: %w", s.cfg.Database, err)
		}
		out[n] = true
	}
	return out, rows.Err()
}

// columnTypes returns the column types of table by name.
func (s *Sink) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	for i := 0; ; i++ {
		types, err := s.columnTypesOnce(ctx, table)
		if i == maxDroppedRetries || !droppedMeanwhile(err) {
			return types, err
		}
	}
}

func (s *Sink) columnTypesOnce(ctx context.Context, table string) (map[string]string, error) {
	rows, err := s.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", s.cfg.Database, table)
	if err != nil {
		return nil, fmt.Errorf("cannot read the columns of %s.%s: %w", s.cfg.Database, table, err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("cannot read the columns of %s.%s: %w", s.cfg.Database, table, err)
		}
		types[name] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the columns of %s.%s: %w", s.cfg.Database, table, err)
	}
	return types, nil
}

// addColumn adds column name of table in layout l: on the server, or on
// every node of the cluster (see addColumnCluster).
func (s *Sink) addColumn(ctx context.Context, ddl []string, table string, l schemas.Layout, name string, inLocal bool) error {
	if s.cfg.Cluster != "" {
		return s.addColumnCluster(ctx, ddl, table, l, name, inLocal)
	}
	stmt := schemas.ClickHouseAddColumn(s.cfg.Database, table, l, name)
	if err := s.conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("cannot migrate %s.%s: %q: %w", s.cfg.Database, table, stmt, err)
	}
	return nil
}
