package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// InsertInventory writes inv's devices to the inventory table and its
// links, one row per end, to inventory_links, all with loaded_at (whole
// seconds, UTC), and returns the number of rows written. Both tables are
// ReplacingMergeTree(loaded_at) on the device (and interface), so a later
// load replaces a device's attributes; a device or link the later load no
// longer has keeps its old row, which queries leave out by joining on the
// latest load (see docs/analysts.md). Writing the same load twice is
// harmless. nil inv writes nothing.
func (s *Sink) InsertInventory(ctx context.Context, inv *schemas.Inventory, loadedAt time.Time) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if inv == nil {
		return 0, nil
	}
	if err := inv.Validate(); err != nil {
		return 0, fmt.Errorf("%w: inventory: %v", ErrBadInput, err)
	}
	at := schemas.InventoryLoadTime(loadedAt)
	type D = schemas.Device
	devs := inv.Devices
	dc := cols{
		"device":    colOf(devs, func(d *D) string { return d.Name }),
		"site":      colOf(devs, func(d *D) string { return d.Site }),
		"role":      colOf(devs, func(d *D) string { return d.Role }),
		"vendor":    colOf(devs, func(d *D) string { return d.Vendor }),
		"model":     colOf(devs, func(d *D) string { return d.Model }),
		"tags":      colOf(devs, func(d *D) []string { return nonNilSlice(d.Tags) }),
		"loaded_at": colOf(devs, func(*D) time.Time { return at }),
	}
	ends := make([][2]schemas.Port, 0, 2*len(inv.Links))
	for _, l := range inv.Links {
		ends = append(ends, [2]schemas.Port{l.A, l.B}, [2]schemas.Port{l.B, l.A})
	}
	type E = [2]schemas.Port
	lc := cols{
		"device":         colOf(ends, func(e *E) string { return e[0].Device }),
		"interface":      colOf(ends, func(e *E) string { return e[0].Interface }),
		"peer_device":    colOf(ends, func(e *E) string { return e[1].Device }),
		"peer_interface": colOf(ends, func(e *E) string { return e[1].Interface }),
		"loaded_at":      colOf(ends, func(*E) time.Time { return at }),
	}
	n := 0
	for _, t := range []struct {
		table string
		rows  int
		c     cols
	}{{schemas.TableInventory, len(devs), dc}, {schemas.TableInventoryLinks, len(ends), lc}} {
		if t.rows == 0 {
			continue
		}
		if err := s.sendCols(ctx, t.table, t.rows, schemas.ClickHouseColumns(t.table, schemas.LayoutModern), t.c); err != nil {
			return n, err
		}
		n += t.rows
	}
	return n, nil
}
