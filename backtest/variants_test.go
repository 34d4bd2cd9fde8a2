package backtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// figures are a row of the table in detectors/README.md, "Robustness under
// cadence, loss and cold start".
type figures struct {
	Events    int // labelled events scored (for cold starts: each label in its own cut)
	Detected  int
	Within30s int
	StateOne  int           // state-based detections within one sample
	Median    time.Duration // latency of the detected events, to the second
	Max       time.Duration
	FalseAny  int // false incidents outside every event
	FalseOwn  int // outside the device's own events
	Firing    int
	// Scored and ScoredDetected are, for cold starts, every event the cuts
	// score (a cut holds the other labels of its experiment that overlap
	// it, each renamed with the cut's devices) and how many are detected.
	Scored, ScoredDetected int
}

// measure returns the figures of r; own, when not nil, picks the events
// the table's detection figures are about (the others count in Scored).
func measure(r *Report, own func(*EventResult) bool) figures {
	f := figures{FalseAny: r.FalseAny, FalseOwn: r.FalseOwn, Firing: r.Firing}
	var lat []time.Duration
	for i := range r.Events {
		e := &r.Events[i]
		if own != nil {
			f.Scored++
			if e.Detected {
				f.ScoredDetected++
			}
			if !own(e) {
				continue
			}
		}
		f.Events++
		if e.Detected {
			f.Detected++
			lat = append(lat, e.Latency)
			if e.Latency <= 30*time.Second {
				f.Within30s++
			}
		}
		if e.WithinOneSample {
			f.StateOne++
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		f.Median, f.Max = lat[(len(lat)-1)/2].Round(time.Second), lat[len(lat)-1].Round(time.Second)
	}
	return f
}

// slack is how far above the measured count of false incidents or firing
// detections a run may go: 10 %, at least 1.
func slack(n int) int { return n + max(1, n/10) }

// check compares got with the table's row want: the detection figures
// exactly, the false incidents and firing detections up to slack.
func (want figures) check(t *testing.T, got figures) {
	t.Helper()
	for _, m := range want.misses(got) {
		t.Error(m)
	}
}

// misses returns how got breaks the table's row want (see check).
func (want figures) misses(got figures) []string {
	var out []string
	exact := []struct {
		name      string
		got, want any
	}{
		{"events", got.Events, want.Events},
		{"detected", got.Detected, want.Detected},
		{"within 30 s", got.Within30s, want.Within30s},
		{"state-based within one sample", got.StateOne, want.StateOne},
		{"median latency", got.Median, want.Median},
		{"max latency", got.Max, want.Max},
		{"scored events", got.Scored, want.Scored},
		{"scored events detected", got.ScoredDetected, want.ScoredDetected},
	}
	for _, c := range exact {
		if c.got != c.want {
			out = append(out, fmt.Sprintf("%s: %v, the README says %v", c.name, c.got, c.want))
		}
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"false incidents outside every event", got.FalseAny, want.FalseAny},
		{"false incidents outside own events", got.FalseOwn, want.FalseOwn},
		{"firing detections", got.Firing, want.Firing},
	} {
		if c.got > slack(c.want) {
			out = append(out, fmt.Sprintf("%s: %d, the README says %d (ceiling %d)", c.name, c.got, c.want, slack(c.want)))
		}
	}
	return out
}

// row formats f as the README's table does.
func (f figures) row(r *Report) string {
	perHour := func(n int) string {
		if n == 0 {
			return "0"
		}
		return fmt.Sprintf("%.3g (%d)", float64(n)/r.DeviceHours, n)
	}
	return fmt.Sprintf("%d/%d | %d | %d | %s / %s | %s / %s | %d", f.Detected, f.Events, f.Within30s, f.StateOne,
		latency(f.Median), latency(f.Max), perHour(f.FalseAny), perHour(f.FalseOwn), f.Firing)
}

// latency formats d as the README does: "23 s", "5 m 50 s".
func latency(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%d m %d s", d/time.Minute, d%time.Minute/time.Second)
}

// bigdamaSet loads bigdama18's files whose names match glob (in data/) and
// the labels of their devices.
func bigdamaSet(t *testing.T, dir, glob string) (*Dataset, []Event) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "data", glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bigdama18 files %s: %v", glob, err)
	}
	ds, err := LoadDataset(FormatWide, files, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	all, err := ReadLabelFiles([]string{filepath.Join(dir, "labels")})
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	for _, e := range all {
		if ds.Devices[e.Device] {
			events = append(events, e)
		}
	}
	return ds, events
}

// loader prepares a variant: the data, its labels, and the labels whose
// detection the table's row is about (nil: all).
type loader func(t *testing.T, dir string) (*Dataset, []Event, func(*EventResult) bool)

// rows is bigdama18 (the files matching glob) with every group replayed
// through the row functions that each of newf returns, in order.
func rows(glob string, newf ...func() rowFunc) loader {
	return func(t *testing.T, dir string) (*Dataset, []Event, func(*EventResult) bool) {
		ds, events := bigdamaSet(t, dir, glob)
		for _, f := range newf {
			transform(ds, f)
		}
		return ds, events, nil
	}
}

// every keeps every k-th row of each file.
func every(k int) func() rowFunc { return func() rowFunc { return everyKth(k) } }

// noNeighbours leaves out the BGP established-neighbours counts (the
// state the BGP clears show first).
func noNeighbours() rowFunc { return without("established-neighbors") }

// lose drops each row with probability p, by a PCG seeded with seed: the
// same rows in every replay.
func lose(p float64, seed uint64) func() rowFunc {
	return func() rowFunc {
		rng := rand.New(rand.NewPCG(seed, 0))
		return func(_ int, b []schemas.Sample) []schemas.Sample {
			if rng.Float64() < p {
				return nil
			}
			return b
		}
	}
}

// jitter moves each row's time (all its samples together) by a draw
// uniform in [-d, d), by a PCG seeded with seed. bigdama18's rows are at
// least 4 s apart: a move of less than 2 s keeps each file in order.
func jitter(d time.Duration, seed uint64) func() rowFunc {
	return func() rowFunc {
		rng := rand.New(rand.NewPCG(seed, 0))
		return func(_ int, b []schemas.Sample) []schemas.Sample {
			off := int64((2*rng.Float64() - 1) * float64(d))
			for i := range b {
				b[i].TS += off
			}
			return b
		}
	}
}

// rowCache holds the rows of one group's replay (copied out of its
// source), the last group asked for, so that the cuts of one experiment,
// replayed one after another, read its files once.
type rowCache struct {
	name string
	rows [][]schemas.Sample
}

func (c *rowCache) get(g Group) ([][]schemas.Sample, error) {
	if c.name == g.Name {
		return c.rows, nil
	}
	c.name, c.rows = "", nil
	src, err := g.Open()
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var rows [][]schemas.Sample
	for {
		b, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, slices.Clone(b))
	}
	c.name, c.rows = g.Name, rows
	return rows, nil
}

// cut replays the rows with a time in [lo, hi] (Unix nanoseconds), each
// sample's device renamed prefix+device.
type cut struct {
	rows   [][]schemas.Sample
	lo, hi int64
	prefix string
	names  map[string]string
	buf    []schemas.Sample
}

func (c *cut) Next(context.Context) ([]schemas.Sample, error) {
	for len(c.rows) > 0 {
		b := c.rows[0]
		c.rows = c.rows[1:]
		if b[0].TS < c.lo || b[0].TS > c.hi {
			continue
		}
		c.buf = append(c.buf[:0], b...)
		for i := range c.buf {
			d := c.buf[i].Device
			name, ok := c.names[d]
			if !ok {
				name = c.prefix + d
				c.names[d] = name
			}
			c.buf[i].Device = name
		}
		return c.buf, nil
	}
	return nil, io.EOF
}

func (c *cut) Close() error { return nil }

// coldStarts cuts bigdama18 around each of its 23 labels, from the label's
// start − before to its end + after, at every k-th row of each file
// (counted from the file's first row, so the rows of the every-k-th-row
// variant: the cut comes after the thinning). Each cut is a replay of its
// own (a fresh detect stage: a cold start), with its devices renamed
// (cuta-leaf1 … cutw-spine3, the labels in file order) so that the cuts of
// one experiment share no series. Its events are the labels of its
// experiment that start within the cut, renamed so: 80 in the cuts from
// start − 5 min, 151 in those from start − 30 min. A label that started
// before its cut is not one of its events, as in the table's first
// measurement (with those, the cuts from start − 5 min score 101,
// measured once). own picks the 23 labels in their own cuts.
func coldStarts(k int, before, after time.Duration) loader {
	return func(t *testing.T, dir string) (*Dataset, []Event, func(*EventResult) bool) {
		ds, events := bigdamaSet(t, dir, "*.csv.gz")
		transform(ds, every(k))
		groups := map[string]Group{}
		for _, g := range ds.Groups {
			groups[g.Name] = g
		}
		cache := &rowCache{}
		cuts := &Dataset{Format: FormatWide, Devices: map[string]bool{}}
		var scored []Event
		own := map[string]bool{}
		for i, ev := range events {
			prefix := fmt.Sprintf("cut%c-", 'a'+i)
			exp := strings.TrimSuffix(filepath.Base(ev.File), ".csv")
			g, ok := groups[exp]
			if !ok {
				t.Fatalf("%s: no experiment %s in the data", ev.Where(), exp)
			}
			lo, hi := ev.Start.Add(-before).UnixNano(), ev.End.Add(after).UnixNano()
			cuts.Groups = append(cuts.Groups, Group{Name: prefix + exp, Open: func() (Source, error) {
				rows, err := cache.get(g)
				if err != nil {
					return nil, err
				}
				return &cut{rows: rows, lo: lo, hi: hi, prefix: prefix, names: map[string]string{}}, nil
			}})
			for d := range ds.Devices {
				cuts.Devices[prefix+d] = true
			}
			for _, e := range events {
				if e.File == ev.File && !e.Start.Before(ev.Start.Add(-before)) && !e.Start.After(ev.End.Add(after)) {
					e.Device = prefix + e.Device
					scored = append(scored, e)
				}
			}
			own[prefix+ev.Device+" "+ev.Where()] = true
		}
		return cuts, scored, func(e *EventResult) bool { return own[e.Device+" "+e.Where()] }
	}
}

// variants are the rows of the table in detectors/README.md, "Robustness
// under cadence, loss and cold start", with the figures measured on them.
// Those marked full replay about as many points as all of bigdama18 or
// more (15–45 s each) and run under TK_BACKTEST_FULL=1 only.
var variants = []struct {
	name string // as the README's table names it
	run  string // the subtest's name
	full bool
	load loader
	want figures
}{
	{name: "bigdama18 as recorded", run: "recorded", full: true, load: rows("*.csv.gz"),
		want: figures{Events: 23, Detected: 23, Within30s: 23, StateOne: 12, Median: time.Second, Max: 23 * time.Second,
			FalseAny: 0, FalseOwn: 117, Firing: 9727}},
	// At every other row (about 9 s) every event is detected within 30
	// s and false incidents outside every event stay below 1 per
	// device-hour, though there are none at 4.5 s: robust_z on 9-second
	// byte and packet rates of busy ports, whose spread is narrower than
	// at 4.5 s, where the device's counter refreshes alias (README).
	// (It was TestBacktestBigdamaHalfCadence.)
	{name: "every 2nd row", run: "every2", load: rows("*.csv.gz", every(2)),
		want: figures{Events: 23, Detected: 23, Within30s: 23, StateOne: 18, Median: 5 * time.Second, Max: 23 * time.Second,
			FalseAny: 8, FalseOwn: 89, Firing: 4876}},
	{name: "every 5th row", run: "every5", load: rows("*.csv.gz", every(5)),
		want: figures{Events: 23, Detected: 23, Within30s: 23, StateOne: 22, Median: 13 * time.Second, Max: 28 * time.Second,
			FalseAny: 0, FalseOwn: 77, Firing: 3171}},
	{name: "every 13th row", run: "every13", load: rows("*.csv.gz", every(13)),
		want: figures{Events: 23, Detected: 22, Within30s: 13, StateOne: 21, Median: 27 * time.Second, Max: time.Minute + 29*time.Second,
			FalseAny: 0, FalseOwn: 57, Firing: 167}},
	{name: "5 % of rows dropped", run: "lose5pc", full: true, load: rows("*.csv.gz", lose(0.05, 1)),
		want: figures{Events: 23, Detected: 23, Within30s: 23, StateOne: 14, Median: time.Second, Max: 23 * time.Second,
			FalseAny: 1, FalseOwn: 116, Firing: 9729}},
	{name: "timestamps ± 2 s", run: "jitter2s", full: true, load: rows("*.csv.gz", jitter(2*time.Second, 1)),
		want: figures{Events: 23, Detected: 23, Within30s: 23, StateOne: 13, Median: 2 * time.Second, Max: 23 * time.Second,
			FalseAny: 0, FalseOwn: 111, Firing: 8846}},
	{name: "one router (spine2)", run: "spine2", load: rows("spine2*.csv.gz"),
		want: figures{Events: 6, Detected: 6, Within30s: 6, StateOne: 2, Median: time.Second, Max: 10 * time.Second,
			FalseAny: 7, FalseOwn: 7, Firing: 1437}},
	{name: "cold start: start − 5 min to end + 5 min", run: "cold5m", full: true, load: coldStarts(1, 5*time.Minute, 5*time.Minute),
		want: figures{Events: 23, Detected: 23, Within30s: 23, StateOne: 12, Median: time.Second, Max: 23 * time.Second,
			FalseAny: 0, FalseOwn: 307, Firing: 12819, Scored: 80, ScoredDetected: 80}},
	{name: "cold start at every 5th row: from start − 30 min", run: "cold30m-every5", load: coldStarts(5, 30*time.Minute, 5*time.Minute),
		want: figures{Events: 23, Detected: 23, Within30s: 23, StateOne: 21, Median: 13 * time.Second, Max: 28 * time.Second,
			FalseAny: 0, FalseOwn: 583, Firing: 22317, Scored: 151, ScoredDetected: 151}},
	// All of the 151 events the cuts score are detected but spine1's
	// 17:02:01 clear in leaf2's and leaf6's cuts, which end at 17:05:35,
	// before a sample shows it (README).
	{name: "cold start at every 13th row: from start − 30 min", run: "cold30m-every13", load: coldStarts(13, 30*time.Minute, 5*time.Minute),
		want: figures{Events: 23, Detected: 22, Within30s: 13, StateOne: 21, Median: 27 * time.Second, Max: time.Minute + 29*time.Second,
			FalseAny: 0, FalseOwn: 418, Firing: 1058, Scored: 151, ScoredDetected: 144}},
	{name: "without the BGP neighbour counts", run: "noBGP", full: true, load: rows("*.csv.gz", noNeighbours),
		want: figures{Events: 23, Detected: 23, Within30s: 22, StateOne: 0, Median: 4 * time.Second, Max: 39 * time.Second,
			FalseAny: 0, FalseOwn: 114, Firing: 9616}},
	{name: "the same, every 2nd row", run: "noBGP-every2", load: rows("*.csv.gz", every(2), noNeighbours),
		want: figures{Events: 23, Detected: 23, Within30s: 19, StateOne: 0, Median: 13 * time.Second, Max: 56 * time.Second,
			FalseAny: 8, FalseOwn: 90, Firing: 4765}},
	{name: "the same, every 5th row", run: "noBGP-every5", load: rows("*.csv.gz", every(5), noNeighbours),
		want: figures{Events: 23, Detected: 23, Within30s: 5, StateOne: 0, Median: 35 * time.Second, Max: time.Minute + 23*time.Second,
			FalseAny: 0, FalseOwn: 68, Firing: 3066}},
	{name: "the same, every 13th row", run: "noBGP-every13", load: rows("*.csv.gz", every(13), noNeighbours),
		want: figures{Events: 23, Detected: 5, Within30s: 0, StateOne: 0, Median: 2*time.Minute + 39*time.Second, Max: 6*time.Minute + 19*time.Second,
			FalseAny: 0, FalseOwn: 11, Firing: 84}},
}

// TestBigdamaVariants replays the variants of bigdama18 of the README's
// table "Robustness under cadence, loss and cold start" (other cadences,
// lost rows, jittered clocks, one router, cold starts, without the BGP
// neighbour counts) with the default configuration and checks each row's
// figures: events detected, within 30 s, state-based within one sample
// and the median and max latency exactly, false incidents and firing
// detections up to 10 % (at least 1) above the table's. The cheap rows
// run under TK_INTEGRATION=1 (make test) or TK_BACKTEST_FULL=1; the rows
// that replay as much as all of bigdama18 or more (as recorded, rows
// dropped, jitter, without the neighbour counts at full cadence, the cold
// starts at full cadence) under TK_BACKTEST_FULL=1 only.
func TestBigdamaVariants(t *testing.T) {
	full := os.Getenv("TK_BACKTEST_FULL") != ""
	if os.Getenv("TK_INTEGRATION") == "" && !full {
		t.Skip("set TK_INTEGRATION=1 (the cheap rows) or TK_BACKTEST_FULL=1 (all rows) to replay bigdama18's variants")
	}
	dir := bigdama(t)
	reports := map[string]*Report{}
	for _, v := range variants {
		t.Run(v.run, func(t *testing.T) {
			if v.full && !full {
				t.Skip("set TK_BACKTEST_FULL=1: replays as many points as all of bigdama18 or more")
			}
			ds, events, own := v.load(t, dir)
			res, err := Evaluate(t.Context(), v.run, detect.Config{}, ds, events, quiet)
			if err != nil {
				t.Fatal(err)
			}
			got := measure(res.Report, own)
			t.Logf("| %s | %s | (%d points in %v; %.2f device-hours; %d of %d scored events detected; dropped %+v)", v.name, got.row(res.Report),
				res.Stats.Points, res.Stats.Elapsed.Round(time.Millisecond), res.Report.DeviceHours, got.ScoredDetected, got.Scored, res.Stats.Dropped)
			v.want.check(t, got)
			reports[v.run] = res.Report
		})
	}
	// The stage keeps every device apart: spine2 alone is detected as in
	// the whole data set (README: the same firing and "own" incidents).
	if all, one := reports["recorded"], reports["spine2"]; all != nil && one != nil {
		find := func(r *Report) DeviceResult {
			i := slices.IndexFunc(r.Devices, func(d DeviceResult) bool { return d.Device == "spine2" })
			if i < 0 {
				t.Fatalf("no spine2 in the report")
			}
			return r.Devices[i]
		}
		if a, o := find(all), find(one); a.Firing != o.Firing || a.FalseOwn != o.FalseOwn {
			t.Errorf("spine2: %d firing, %d false incidents outside its own events in all of bigdama18, %d and %d alone", a.Firing, a.FalseOwn, o.Firing, o.FalseOwn)
		}
	}
}
