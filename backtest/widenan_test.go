package backtest

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestWideSignedNaN: "-nan" and "+nan" (C's printf of a negative NaN, and
// awk's) are missing values like nan, in every kind of column: skipped and
// counted, not an error in a counter or gauge column, a state "-nan" in a
// state column, or a guessed numeric column settled as a state column by
// its first cell (whose numbers then went to no detector).
func TestWideSignedNaN(t *testing.T) {
	path := writeWide(t, t.TempDir(), "r1.csv", "time,Eth1bytes-received,Eth1input-data-rate,Eth1tail-drops,Eth1oper-status\n"+
		"1500000000,-nan,-nan,-NaN,-nan\n"+
		"1500000005,+nan,+NAN,+nan,+nan\n"+
		"1500000010,10,2.5,3,UP\n")
	got, src, err := readWide(t, DefaultMapping(), path)
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{
		"1500000010000000000 r1 " + ifCounters + "in-octets{name=Eth1} counter=10",
		"1500000010000000000 r1 /native/input-data-rate{name=Eth1} gauge=2.5",
		"1500000010000000000 r1 /native/tail-drops{name=Eth1} counter=3",
		"1500000010000000000 r1 " + schemas.MetricOperStatus + "{name=Eth1} state=UP",
	})
	if n := src.(interface{ Skipped() int64 }).Skipped(); n != 8 {
		t.Errorf("%d cells skipped, want 8", n)
	}
}
