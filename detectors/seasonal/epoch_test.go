package seasonal

import (
	"math"
	"testing"
	"time"
)

// TestBinBeforeEpoch checks that a timestamp before 1970 (negative Unix
// ns) falls in its time of day's bin, as one after 1970 does: a reading at
// 00:02:30 is in the first five-minute bin whatever the day, so the bins
// of the day before the epoch are those of the day after it, and each bin
// is one bin wide. Before, the bin was the quotient truncated towards
// zero: every timestamp before 1970 fell one bin late (23:55–00:00 of
// 1969-12-31 shared bin 0 with 00:00–00:05 of 1970-01-01), so a series
// across the epoch, or restored from a record written on the other side,
// met the previous day's profile shifted by five minutes, and ForgetSince
// of a stretch across the epoch missed its first bin.
func TestBinBeforeEpoch(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	day := int64(24 * time.Hour)
	bin := int64(5 * time.Minute)
	for _, tod := range []int64{0, 1, bin / 2, bin - 1, bin, 3 * bin / 2, day - bin, day - bin/2, day - 1} {
		for _, k := range []int64{-3, -2, -1, 0, 1, 2} {
			ts := k*day + tod
			want := int(tod / bin)
			if got := d.bin(ts); got != want {
				t.Errorf("bin(%d days %v) = %d, want %d", k, time.Duration(tod), got, want)
			}
		}
	}
	// A value learned at 00:02:30 the day before the epoch is the offset
	// the same time of day after it expects.
	d.Add(-day+bin/2, 10)
	if off := d.Offset(bin / 2); math.IsNaN(off) {
		t.Errorf("the bin of 00:02:30 on 1970-01-01 has no offset after a value at 00:02:30 the day before")
	}

	// A stretch from just after 23:50 of 1969-12-31 to 00:05 of 1970-01-01 forgets
	// the bins of 23:50, 23:55, 00:00 and 00:05, and not 23:45's.
	for b := range d.season {
		d.season[b] = 1
	}
	d.ForgetSince(-2*bin+1, bin, d.level)
	for _, b := range []int{286, 287, 0, 1} {
		if !math.IsNaN(d.season[b]) {
			t.Errorf("ForgetSince(23:50, 00:05) kept bin %d", b)
		}
	}
	if math.IsNaN(d.season[285]) {
		t.Errorf("ForgetSince(23:50, 00:05) dropped bin 285 (23:45)")
	}
}
