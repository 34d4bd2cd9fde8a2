package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/telekernel/telekernel/schemas"
)

// expiryEvery is how often at most the sink logs again that it stored
// samples already past the samples table's retention (see expiry).
const expiryEvery = 5 * time.Minute

// expiry tells the operator that rows the sink stored in the samples table
// are already older than its retention (on the modern layout): ClickHouse
// deletes them at a later merge, so they are queryable for a while and
// then gone, with nothing in any log. That happens to a replayed capture
// recorded before the retention, and to a device whose clock is that far
// behind (the gNMI collector accepts timestamps up to 20 years old). The
// first such insert logs one WARN line at once, naming the oldest row;
// later ones add up and log again at most every expiryEvery.
type expiry struct {
	mu     sync.Mutex
	logged time.Time // the last line; zero before the first
	rows   uint64    // rows past the retention since that line
	total  uint64    // since the sink started
	// days is the samples table's retention as the server holds it (0:
	// none), when known is set (see readTTL); Config.TTLDays otherwise.
	days  int
	known bool
}

// configTTLDays returns the retention Config asks of the samples table on
// the modern layout, in days, 0 for ever.
func (s *Sink) configTTLDays() int {
	switch {
	case s.cfg.TTLDays < 0:
		return 0
	case s.cfg.TTLDays == 0:
		return schemas.DefaultTTLDays
	}
	return s.cfg.TTLDays
}

// ttlDays returns how many days the samples table keeps a row by its ts,
// or 0 for ever: the table's own TTL once readTTL read it, else the one
// Config asks for; the legacy layout has none.
func (s *Sink) ttlDays(l schemas.Layout) int {
	if l != schemas.LayoutModern {
		return 0
	}
	x := &s.expired
	x.mu.Lock()
	days, known := x.days, x.known
	x.mu.Unlock()
	if known {
		return days
	}
	return s.configTTLDays()
}

// ttlRE matches the samples table's TTL in system.tables.engine_full, as
// modern servers render the DDL's "TTL toDateTime(ts) + INTERVAL N DAY".
var ttlRE = regexp.MustCompile(`\bTTL\s+toDateTime\(ts\)\s*\+\s*(?:toIntervalDay\((\d+)\)|INTERVAL\s+(\d+)\s+DAY)`)

// ttlOf returns the retention in days that a table's engine_full sets, 0
// when it has no TTL; ok is false for a TTL of another form.
func ttlOf(engineFull string) (days int, ok bool) {
	if !strings.Contains(engineFull, "TTL") {
		return 0, true
	}
	m := ttlRE.FindStringSubmatch(engineFull)
	if m == nil {
		return 0, false
	}
	days, err := strconv.Atoi(m[1] + m[2])
	return days, err == nil
}

// samplesTable returns the table that holds the samples and their TTL
// (the local one on a cluster), and the ON CLUSTER clause of a statement
// that changes it ("" on a single server).
func (s *Sink) samplesTable() (table, onCluster string) {
	if s.cfg.Cluster == "" {
		return schemas.TableSamples, ""
	}
	// Config.Validate admits only cluster names that need no quoting.
	return schemas.TableSamples + schemas.LocalTableSuffix, " ON CLUSTER " + s.cfg.Cluster
}

// readTTL reads the retention of the samples table (its local table on a
// cluster) from the server, for the expiry warnings, and warns once when
// it is not the one Config asks for: the table's TTL is what Config held
// when the table was created, and schema apply does not change it, so a
// ttl_days changed later keeps or deletes rows other than the operator
// expects. A failed read leaves Config's retention in use.
func (s *Sink) readTTL(ctx context.Context) {
	table, onCluster := s.samplesTable()
	var engine string
	err := s.conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = ? AND name = ?", s.cfg.Database, table).Scan(&engine)
	if err != nil {
		s.log.Debug("cannot read the samples table's TTL; taking clickhouse.ttl_days as its retention", "table", s.cfg.Database+"."+table, "err", err)
		return
	}
	s.takeTTL(table, onCluster, engine)
}

// takeTTL is readTTL with the table's engine_full read.
func (s *Sink) takeTTL(table, onCluster, engine string) {
	days, ok := ttlOf(engine)
	if !ok {
		s.log.Debug("the samples table's TTL is not the sink's; taking clickhouse.ttl_days as its retention", "table", s.cfg.Database+"."+table, "engine_full", engine)
		return
	}
	x := &s.expired
	x.mu.Lock()
	again := x.known && x.days == days // read before (Apply again, a forgotten layout): warned then
	x.days, x.known = days, true
	x.mu.Unlock()
	if want := s.configTTLDays(); days != want && !again {
		fix := fmt.Sprintf("ALTER TABLE %s.%s%s MODIFY TTL toDateTime(ts) + INTERVAL %d DAY", s.cfg.Database, table, onCluster, want)
		if want == 0 {
			fix = fmt.Sprintf("ALTER TABLE %s.%s%s REMOVE TTL", s.cfg.Database, table, onCluster)
		}
		s.log.Warn("the samples table keeps rows for another time than clickhouse.ttl_days asks: its TTL was set when it was created, and schema apply does not change it",
			"table", s.cfg.Database+"."+table, "table_ttl_days", days, "ttl_days", want,
			"hint", "to apply ttl_days (ClickHouse then deletes or keeps rows by the new TTL), run "+fix+"; or set ttl_days to the table's")
	}
}

// noteExpired counts the rows of recs, just stored in a table of layout l,
// whose ts is past the retention at now, and logs them (see expiry).
func (s *Sink) noteExpired(recs []arrow.RecordBatch, l schemas.Layout, now time.Time) {
	days := s.ttlDays(l)
	if days == 0 {
		return
	}
	n, rec, row := expiredRows(recs, now.UTC().AddDate(0, 0, -days).UnixNano())
	if n == 0 {
		return
	}
	x := &s.expired
	x.mu.Lock()
	x.rows += uint64(n)
	x.total += uint64(n)
	if !x.logged.IsZero() && now.Sub(x.logged) < expiryEvery {
		x.mu.Unlock()
		return
	}
	rows, total := x.rows, x.total
	x.rows, x.logged = 0, now
	x.mu.Unlock()

	r := recs[rec]
	table, onCluster := s.samplesTable()
	s.log.Warn("stored samples older than the samples table's retention: ClickHouse deletes them at a later merge",
		"rows", rows, "rows_total", total, "ttl_days", days,
		"oldest", time.Unix(0, int64(r.Column(schemas.ColTS).(*array.Timestamp).Value(row))).UTC().Format(time.RFC3339),
		"device", dictValue(r.Column(schemas.ColDevice), row), "metric", dictValue(r.Column(schemas.ColMetric), row),
		"hint", "a replayed capture or a device clock that is behind; to keep such rows, create the tables with clickhouse.ttl_days: -1 or run ALTER TABLE "+s.cfg.Database+"."+table+onCluster+" REMOVE TTL")
}

// expiredRows returns how many rows of recs have a ts before cutoff (Unix
// ns), and the record and row of the oldest of them.
func expiredRows(recs []arrow.RecordBatch, cutoff int64) (n, rec, row int) {
	oldest := cutoff
	for i, r := range recs {
		for j, v := range r.Column(schemas.ColTS).(*array.Timestamp).TimestampValues() {
			if int64(v) < cutoff {
				n++
				if int64(v) < oldest {
					oldest, rec, row = int64(v), i, j
				}
			}
		}
	}
	return n, rec, row
}

// dictValue returns row's value of a dictionary-encoded string column.
func dictValue(col arrow.Array, row int) string {
	d := col.(*array.Dictionary)
	return d.Dictionary().(*array.String).Value(d.GetValueIndex(row))
}
