package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/schemas"
)

// Option tunes a Sink beyond its Config.
type Option func(*options)

type options struct {
	log *slog.Logger
}

// WithLogger sets the logger; the sink logs through a child with
// component=clickhouse. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// Sink writes samples and detections to ClickHouse over the native
// protocol. It is safe for concurrent use; each insert takes a connection
// from a pool of at most Config.MaxOpenConns.
type Sink struct {
	cfg  Config
	db   string // quoted database name
	conn driver.Conn
	ins  *inserts // the INSERTs in flight, closed when their context ends
	log  *slog.Logger

	closed atomic.Bool

	mu      sync.Mutex
	layouts map[string]schemas.Layout // table -> layout of the table as it exists
	// insertSettings are sent with every INSERT (see noPartitionLimit);
	// set by Apply, nil before.
	insertSettings ch.Settings

	// scratch keeps one sampleScratch between InsertSamples calls (a
	// sync.Pool would lose it at every GC, and it is about 130 bytes per
	// row of an append run to build again); a concurrent call makes its own.
	scratch chan *sampleScratch

	expired expiry // samples stored past the table's retention (noteExpired)
}

// New validates cfg, connects to ClickHouse and pings it. On failure it
// returns a *ConnectError whose text is one actionable line, within about
// cfg.DialTimeout. New does not create tables: call EnsureTables.
func New(ctx context.Context, cfg Config, opts ...Option) (*Sink, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("clickhouse: invalid config: %w", err)
	}
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	log := o.log.With("component", "clickhouse")
	password, err := cfg.Password.Live("clickhouse.password", log)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: invalid config: password: %w", err)
	}
	live, err := cfg.TLS.Live("clickhouse.tls", log)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: invalid config: tls.%w", err)
	}
	var tlsCfg *tls.Config // only tells the driver that TLS is on: dialer does the handshake
	if live != nil {
		tlsCfg = live.Config()
	}
	var comp *ch.Compression
	switch cfg.Compression {
	case "lz4":
		comp = &ch.Compression{Method: ch.CompressionLZ4}
	case "zstd":
		comp = &ch.Compression{Method: ch.CompressionZSTD}
	}
	ins := &inserts{}
	conn, err := ch.Open(&ch.Options{
		Protocol: ch.Native,
		Addr:     cfg.Addr,
		Auth:     ch.Auth{Username: cfg.Username, Password: password.Value().Reveal()},
		TLS:      tlsCfg,
		// Every write is bounded by ReadTimeout too, and an INSERT's
		// connection is closed when its context ends (see stallConn).
		DialContext:  dialer(cfg.DialTimeout, cfg.ReadTimeout, live, ins),
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		Compression:  comp,
		MaxOpenConns: cfg.MaxOpenConns,
		MaxIdleConns: cfg.MaxOpenConns,
		ClientInfo: ch.ClientInfo{Products: []struct{ Name, Version string }{
			{Name: "telekernel", Version: fmt.Sprint(schemas.ClickHouseSchemaVersion)},
		}},
		Settings:     clusterSettings(cfg.Cluster),
		DialStrategy: dialWith(password),
	})
	if err != nil {
		return nil, connectError(cfg, err)
	}
	// The driver bounds dialling by DialTimeout; bound the handshake and
	// ping too, so a server that accepts and then says nothing cannot hang
	// New.
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("clickhouse %s: cannot connect: %w", strings.Join(cfg.Addr, ","), ctx.Err())
		}
		return nil, connectError(cfg, err)
	}
	s := &Sink{scratch: make(chan *sampleScratch, 1),
		cfg:     cfg,
		db:      schemas.QuoteIdent(cfg.Database),
		conn:    conn,
		ins:     ins,
		log:     log,
		layouts: map[string]schemas.Layout{},
	}
	v, _ := s.ServerVersion()
	s.log.Info("connected", "config", cfg, "server_version", v.String())
	return s, nil
}

// dialWith returns the driver's dial strategy for a password that may
// change: every new connection reads the password file again (see
// secret.Live) and logs in with what it holds, so a password the operator
// rotated by rewriting the file is used without a restart. An
// authentication failure of such a password is marked retryable
// (errPasswordFile): a later connection reads the file again.
//
// Every address it tries whose handshake fails has its connection closed:
// clickhouse-go v2.50 returns the error without closing it, which left one
// socket open per failed login or hang-up until a garbage collection ran
// its finalizer (TestConnectHangUpClosesSocket).
func dialWith(pw *secret.Live) func(context.Context, int, *ch.Options, ch.Dial) (ch.DialResult, error) {
	return func(ctx context.Context, connID int, opt *ch.Options, dial ch.Dial) (ch.DialResult, error) {
		dial = closeFailed(dial)
		if !pw.FromFile() {
			return ch.DefaultDialStrategy(ctx, connID, opt, dial)
		}
		pw.Reload()
		o := *opt
		o.Auth.Password = pw.Value().Reveal()
		r, err := ch.DefaultDialStrategy(ctx, connID, &o, dial)
		var ex *ch.Exception
		if err != nil && errors.As(err, &ex) && isAuthCode(ex.Code) {
			err = fmt.Errorf("%w (%w)", err, errPasswordFile)
		}
		return r, err
	}
}

// ServerVersion returns the version of the server the sink is connected to.
func (s *Sink) ServerVersion() (schemas.ServerVersion, error) {
	sv, err := s.conn.ServerVersion()
	if err != nil {
		return schemas.ServerVersion{}, fmt.Errorf("cannot get clickhouse server version: %w", err)
	}
	return schemas.ServerVersion{Major: int(sv.Version.Major), Minor: int(sv.Version.Minor), Patch: int(sv.Version.Patch)}, nil
}

// Database returns the name of the database the sink writes to.
func (s *Sink) Database() string { return s.cfg.Database }

// EnsureTables is Apply without the report: it creates the database, the
// samples, detections, power, maintenance and schema_version tables and the
// rollup tables and views if they do not exist, and adds missing columns to
// older tables, choosing the DDL layout by the server's version (see
// schemas.ClickHouseDDL) unless Config.Layout forces one. It is idempotent
// and safe to run from many instances at once. Tables that already exist
// keep their layout; inserts follow it. EnsureTables fails with
// ErrSchemaMismatch if a table was created by a later layout version.
func (s *Sink) EnsureTables(ctx context.Context) error {
	_, err := s.Apply(ctx)
	return err
}

func firstLine(stmt string) string {
	for _, l := range strings.Split(stmt, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			return l
		}
	}
	return stmt
}

// layoutVersions returns the highest layout version recorded per table.
func (s *Sink) layoutVersions(ctx context.Context) (map[string]uint32, error) {
	rows, err := s.conn.Query(ctx, fmt.Sprintf("SELECT table_name, max(version) FROM %s.%s GROUP BY table_name", s.db, schemas.TableSchemaVersion))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s.%s: %w", s.cfg.Database, schemas.TableSchemaVersion, err)
	}
	defer rows.Close()
	out := map[string]uint32{}
	for rows.Next() {
		var t string
		var v uint32
		if err := rows.Scan(&t, &v); err != nil {
			return nil, fmt.Errorf("cannot read %s.%s: %w", s.cfg.Database, schemas.TableSchemaVersion, err)
		}
		out[t] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s.%s: %w", s.cfg.Database, schemas.TableSchemaVersion, err)
	}
	return out, nil
}

// recordVersions inserts (table, layout) pairs into schema_version. The
// INSERT is watched as the others are (see insertCtx): a caller that
// cancels ctx as soon as Apply returns must not close the connection the
// driver put back in its pool.
func (s *Sink) recordVersions(ctx context.Context, pairs []string, now time.Time) (err error) {
	ictx, w := s.ins.watch(ctx)
	defer func() {
		if e := w.end(err); e != err {
			err = fmt.Errorf("cannot record layout version: %w", e)
		}
	}()
	cols := schemas.ClickHouseColumns(schemas.TableSchemaVersion, schemas.LayoutLegacy)
	b, err := s.conn.PrepareBatch(ictx, insertStatement(s.db, schemas.TableSchemaVersion, cols))
	if err != nil {
		return fmt.Errorf("cannot record layout version: %w", err)
	}
	defer b.Close()
	for i := 0; i < len(pairs); i += 2 {
		if err := b.Append(pairs[i], uint32(schemas.ClickHouseSchemaVersion), pairs[i+1], now); err != nil {
			return fmt.Errorf("cannot record layout version: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cannot record layout version: %w", err)
	}
	return nil
}

func insertStatement(db, table string, cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = schemas.QuoteIdent(c)
	}
	return fmt.Sprintf("INSERT INTO %s.%s (%s)", db, schemas.QuoteIdent(table), strings.Join(q, ", "))
}

// layout returns the layout of table as it exists on the server, looking it
// up in system.columns the first time.
func (s *Sink) layout(ctx context.Context, table string) (schemas.Layout, error) {
	s.mu.Lock()
	l, ok := s.layouts[table]
	s.mu.Unlock()
	if ok {
		return l, nil
	}
	types, err := s.columnTypes(ctx, table)
	if err != nil {
		return 0, err
	}
	l, err = layoutOf(s.cfg.Database, table, types)
	if err != nil {
		return 0, err
	}
	if table == schemas.TableSamples && l == schemas.LayoutModern {
		s.readTTL(ctx)
	}
	s.mu.Lock()
	s.layouts[table] = l
	s.mu.Unlock()
	return l, nil
}

// knownLayout returns the layout of table if it has been looked up (by
// Apply or an insert), without I/O.
func (s *Sink) knownLayout(table string) (schemas.Layout, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.layouts[table]
	return l, ok
}

// settingPartitionLimit is the server's limit on the partitions one
// INSERT block may touch (100 by default on the servers that have it;
// 18.16 has none).
const settingPartitionLimit = "max_partitions_per_insert_block"

// noPartitionLimit lifts settingPartitionLimit for the sink's INSERTs when
// the server has it. The tables are partitioned by day, and one flush may
// rightly span more than 100 days: samples that devices stamp with the
// last change of an unchanged value, a backlog replayed after an outage.
// The server would refuse the whole block with code 252, which is also
// the retryable "too many parts", so the stage would retry the same flush
// for ever.
func (s *Sink) noPartitionLimit(ctx context.Context) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.settings WHERE name = ?", settingPartitionLimit).Scan(&n); err != nil {
		return fmt.Errorf("cannot read system.settings: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insertSettings = nil
	if n > 0 {
		s.insertSettings = ch.Settings{settingPartitionLimit: 0}
	}
	return nil
}

// insertContext returns ctx carrying the settings of the sink's INSERTs.
func (s *Sink) insertContext(ctx context.Context) context.Context {
	s.mu.Lock()
	set := s.insertSettings
	s.mu.Unlock()
	if set == nil {
		return ctx
	}
	return ch.Context(ctx, ch.WithSettings(set))
}

// forgetLayout drops the cached layout of table, so the next insert looks
// it up again (after a schema error, say).
func (s *Sink) forgetLayout(table string) {
	s.mu.Lock()
	delete(s.layouts, table)
	s.mu.Unlock()
}

// layoutOf tells the layout of a table from its column types: legacy tables
// have a DateTime time column with a *_frac sibling, modern ones a
// DateTime64(9) time column.
func layoutOf(db, table string, types map[string]string) (schemas.Layout, error) {
	if len(types) == 0 {
		return 0, fmt.Errorf("%w: table %s.%s does not exist (%s)", ErrSchemaMismatch, db, table, fixApply)
	}
	timeCol := schemas.ClickHouseTimeColumn(table)
	l := schemas.LayoutModern
	if _, ok := types[timeCol+"_frac"]; ok {
		l = schemas.LayoutLegacy
	}
	var missing []string
	for _, c := range schemas.ClickHouseColumns(table, l) {
		if _, ok := types[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return 0, fmt.Errorf("%w: table %s.%s lacks columns %s of the %s layout (%s)", ErrSchemaMismatch, db, table, strings.Join(missing, ", "), l, fixApply)
	}
	t := types[timeCol]
	if (l == schemas.LayoutModern && !strings.HasPrefix(t, "DateTime64(9")) || (l == schemas.LayoutLegacy && !strings.HasPrefix(t, "DateTime")) {
		return 0, fmt.Errorf("%w: table %s.%s column %s is %s, want %s in the %s layout (%s)",
			ErrSchemaMismatch, db, table, timeCol, t, map[schemas.Layout]string{schemas.LayoutModern: "DateTime64(9, 'UTC')", schemas.LayoutLegacy: "DateTime('UTC')"}[l], l, fixType)
	}
	return l, nil
}

// Count returns the number of rows of table (samples, detections, power,
// maintenance, the incident and inventory tables or schema_version) as a reader with FINAL sees them: rows written twice by
// a re-delivered batch count once. FINAL merges at read time; on large
// tables prefer a bounded query.
func (s *Sink) Count(ctx context.Context, table string) (uint64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	switch table {
	case schemas.TableSamples, schemas.TableDetections, schemas.TableSchemaVersion, schemas.TablePower, schemas.TableMaintenance,
		schemas.TableIncidents, schemas.TableIncidentMembers, schemas.TableInventory, schemas.TableInventoryLinks:
	default:
		return 0, fmt.Errorf("%w: unknown table %q (want samples, detections, power, maintenance, incidents, incident_members, inventory, inventory_links or schema_version)", ErrBadInput, table)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s.%s FINAL", s.db, table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("cannot count %s.%s: %w", s.cfg.Database, table, err)
	}
	return n, nil
}

// Close closes the connections. Calls after Close return ErrClosed.
func (s *Sink) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.conn.Close(); err != nil && !errors.Is(err, ch.ErrConnectionClosed) {
		return fmt.Errorf("cannot close clickhouse connections: %w", err)
	}
	return nil
}

// DropDatabase drops the sink's database and everything in it. It is meant
// for tests and teardown; the pipeline never calls it.
func (s *Sink) DropDatabase(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+s.db); err != nil {
		return fmt.Errorf("cannot drop database %s: %w", s.cfg.Database, err)
	}
	s.mu.Lock()
	s.layouts = map[string]schemas.Layout{}
	s.mu.Unlock()
	return nil
}
