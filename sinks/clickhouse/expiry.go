package clickhouse

import (
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
// are already older than its retention (Config.TTLDays, on the modern
// layout): ClickHouse deletes them at a later merge, so they are queryable
// for a while and then gone, with nothing in any log. That happens to a
// replayed capture recorded before the retention, and to a device whose
// clock is that far behind (the gNMI collector accepts timestamps up to
// 20 years old). The first such insert logs one WARN line at once, naming
// the oldest row; later ones add up and log again at most every
// expiryEvery.
type expiry struct {
	mu     sync.Mutex
	logged time.Time // the last line; zero before the first
	rows   uint64    // rows past the retention since that line
	total  uint64    // since the sink started
}

// ttlDays returns how many days the samples table keeps a row by its ts,
// as the sink's configuration gives it, or 0 for ever: the legacy layout
// has no TTL, and ttl_days -1 sets none. The tables' own TTL is what Config
// held when they were created (schema apply does not change it later).
func (s *Sink) ttlDays(l schemas.Layout) int {
	switch {
	case l != schemas.LayoutModern || s.cfg.TTLDays < 0:
		return 0
	case s.cfg.TTLDays == 0:
		return schemas.DefaultTTLDays
	}
	return s.cfg.TTLDays
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
	s.log.Warn("stored samples older than the samples table's retention: ClickHouse deletes them at a later merge",
		"rows", rows, "rows_total", total, "ttl_days", days,
		"oldest", time.Unix(0, int64(r.Column(schemas.ColTS).(*array.Timestamp).Value(row))).UTC().Format(time.RFC3339),
		"device", dictValue(r.Column(schemas.ColDevice), row), "metric", dictValue(r.Column(schemas.ColMetric), row),
		"hint", "a replayed capture or a device clock that is behind; to keep such rows, create the tables with clickhouse.ttl_days: -1 or run ALTER TABLE "+s.cfg.Database+"."+schemas.TableSamples+" REMOVE TTL")
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
