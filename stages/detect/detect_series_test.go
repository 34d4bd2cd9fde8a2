package detect

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// TestSeriesOfPeriodGuess: seriesOf, which first tries the series of the
// row one period back, gives every row its own series when the record
// keeps one tick's series order, breaks it (a tick in another order, a
// series that appears, one that is missing) and comes back to it; and
// the guess is taken (the period is learned).
func TestSeriesOfPeriodGuess(t *testing.T) {
	d := newTestDetect(t, Config{})
	names := []string{"name=Ethernet1", "name=Ethernet2", "name=Ethernet3", "name=Ethernet4"}
	order := [][]int{{0, 1, 2}, {0, 1, 2}, {0, 1, 2}, {2, 0, 1}, {0, 1, 2, 3}, {0, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}, {3, 3, 0}}
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var want []string
	t0 := time.Now().UnixNano()
	for tick, o := range order {
		for _, k := range o {
			metric := "/interfaces/interface/state/counters/in-octets"
			if k == 3 {
				metric = "/interfaces/interface/state/counters/out-octets" // another metric too
			}
			sb.Append(&schemas.Sample{TS: t0 + int64(tick)*1e9, Device: "r1", Metric: metric, Keys: names[k],
				Kind: schemas.KindCounter, U64: uint64(tick * 1000), Source: "test"})
			want = append(want, metric+" "+names[k])
		}
	}
	sr, release, err := d.ReadSamples(recordOf(t, sb))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if sr.Len() != len(want) {
		t.Fatalf("%d rows read, want %d", sr.Len(), len(want))
	}
	ps := d.part(0)
	d.inRec = map[uint64]int32{}
	rows := make([]*seriesState, sr.Len())
	for i := range rows {
		if rows[i], err = d.seriesOf(ps, sr, rows, i); err != nil {
			t.Fatal(err)
		}
		if rows[i] == nil {
			t.Fatalf("row %d: no series", i)
		}
		if got := rows[i].key.Metric + " " + rows[i].key.Keys; got != want[i] || rows[i].key.Device != "r1" {
			t.Fatalf("row %d: series %s %s, want r1 %s", i, rows[i].key.Device, got, want[i])
		}
	}
	if d.period == 0 {
		t.Fatal("no period learned: the guess was never tried")
	}
	if n := len(ps.series); n != 4 {
		t.Fatalf("%d series made, want 4", n)
	}
}
