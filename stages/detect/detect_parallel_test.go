package detect

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// runWorkers runs recs through a stage of cfg with workers workers,
// spreading every record of at least minRows rows over them, checkpointing
// after every tenth record and the last (with hold, it holds its outputs
// and is flushed before each checkpoint, as the TransactRunner does), and
// returns everything it wrote: the outputs (key, headers, value, in
// order), the changelog records and the final series states.
func runWorkers(t *testing.T, cfg Config, workers, minRows int, hold bool, recs []*kgo.Record) (out, changelog []byte, states map[string][]byte) {
	t.Helper()
	cfg.Workers = workers
	d := newTestDetect(t, cfg)
	d.minRows = minRows
	if hold {
		d.HoldOutputs()
	}
	d.det.Now = fixedNow
	var o, c bytes.Buffer
	emit := emitTo(&o)
	for i, r := range recs {
		if err := d.Process(context.Background(), r, emit); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 || i == len(recs)-1 {
			if err := d.Flush(emit); err != nil {
				t.Fatal(err)
			}
			d.Checkpoint(func(p int32, key, value []byte) { fmt.Fprintf(&c, "%d %x %x\n", p, key, value) })
		}
	}
	states = map[string][]byte{}
	for k, v := range d.SeriesStates() {
		states[k.String()] = v
	}
	return o.Bytes(), c.Bytes(), states
}

// fixedNow is the wall clock of the stages whose outputs these tests
// compare: the detections carry it.
func fixedNow() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }

// emitTo returns an emit that writes each output to o: its key, headers
// and value, a line each.
func emitTo(o *bytes.Buffer) func(*kgo.Record) {
	return func(r *kgo.Record) {
		o.Write(r.Key)
		for _, h := range r.Headers {
			o.WriteString(" " + h.Key + "=" + string(h.Value))
		}
		o.WriteString(" " + string(r.Value) + "\n")
	}
}

// TestDetectWorkersSameOutput: a stage that scores its records' ensembles
// on 2, 3 or 8 workers (every record spread over them, however small)
// writes the same bytes as the serial one (workers 1): the same
// detections in the same order among the state and multivariate ones,
// with the same descriptions (the interface state that explains a
// detection is the one at its row, though the record's later state
// samples are applied before the ensembles run), the same changelog
// records in the same order, and the same final state. The inputs have
// ensemble, multivariate and state alerts, traffic alerts explained by a
// carrier-transitions change in the same record, and a record of state
// samples only.
func TestDetectWorkersSameOutput(t *testing.T) {
	m := time.Minute
	sims, _, _ := simMessages(t, 4, 720, []sim.Fault{
		{Device: "sim-01", Interface: "Ethernet1", Kind: sim.FaultTrafficSpike, After: 45 * m, Duration: 10 * m},
		{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultTrafficDrop, After: 80 * m, Duration: 20 * m},
		{Device: "sim-00", Interface: "Ethernet3", Kind: sim.FaultLinkFlap, After: 35 * m, Duration: 5 * m},
		{Device: "sim-03", Interface: "Ethernet1", Kind: sim.FaultLinkFlap, After: 95 * m, Duration: 4 * m},
	})
	ticks := traffic(600, func(i int) bool { return i >= 400 && i < 460 }, func(int) bool { return false })
	for i := range ticks {
		ticks[i].oper, ticks[i].admin, ticks[i].carrier = "", "", 5
		switch {
		case i >= 410: // in the record of the traffic alert, after it
			ticks[i].carrier = 7
		case i >= 400:
			ticks[i].carrier = 6
		}
	}
	carrier := records(t, ticks, 60)
	// A record of state samples only: nothing for the workers.
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := range 300 {
		status := "UP"
		if i >= 150 {
			status = "DOWN"
		}
		sb.Append(&schemas.Sample{TS: t0.Add(time.Duration(i/10) * 10 * time.Second).UnixNano(), Device: dev, Kind: schemas.KindState,
			Metric: stateevents.MetricOperStatus, Keys: fmt.Sprintf("name=Et%d", i%10), Str: status, Source: schemas.SourceSim})
	}
	statesOnly := []*kgo.Record{recordOf(t, sb)}
	cases := []struct {
		name    string
		cfg     Config
		recs    []*kgo.Record
		explain string // a description every run must contain (the check has teeth)
	}{
		{"sim", multivarConfig(), sims, `"mahalanobis"`},
		{"carrier", Config{}, carrier, "carrier-transitions 6 at 2026-11-01T01:06:40Z"},
		{"states only", Config{}, statesOnly, "link_down"},
	}
	for _, c := range cases {
		out, log, states := runWorkers(t, c.cfg, 1, 1, false, c.recs)
		if !bytes.Contains(out, []byte(c.explain)) || len(log) == 0 || len(states) == 0 {
			t.Fatalf("%s: serial run: %d output bytes without %q, or %d changelog bytes, %d series", c.name, len(out), c.explain, len(log), len(states))
		}
		for _, w := range []int{2, 3, 8} {
			for _, hold := range []bool{false, true} {
				pout, plog, pstates := runWorkers(t, c.cfg, w, 1, hold, c.recs)
				if !bytes.Equal(pout, out) {
					t.Errorf("%s, %d workers, hold %t: outputs differ from the serial run's (%d bytes, want %d):\n%s", c.name, w, hold, len(pout), len(out), firstDiff(pout, out))
				}
				if !bytes.Equal(plog, log) {
					t.Errorf("%s, %d workers, hold %t: changelog differs from the serial run's:\n%s", c.name, w, hold, firstDiff(plog, log))
				}
				if !maps.EqualFunc(pstates, states, bytes.Equal) {
					t.Errorf("%s, %d workers, hold %t: final state of %d series differs from the serial run's %d", c.name, w, hold, len(pstates), len(states))
				}
			}
		}
	}
}

// firstDiff returns the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range max(len(g), len(w)) {
		if i >= len(g) || i >= len(w) || !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("line %d:\ngot  %.300q\nwant %.300q", i, at(toStrings(g), i), at(toStrings(w), i))
		}
	}
	return ""
}

func toStrings(b [][]byte) []string {
	s := make([]string, len(b))
	for i, l := range b {
		s[i] = string(l)
	}
	return s
}

// TestDetectWorkersConfig: detect.workers decodes, defaults to 1
// and rejects a negative count, or one above MaxWorkers (a typo would
// exhaust memory at the first large record), naming the field.
func TestDetectWorkersConfig(t *testing.T) {
	f := func(src string, want int, wantErr string) {
		t.Helper()
		var c Config
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		err := c.WithDefaults().Validate()
		if wantErr != "" {
			if err == nil || err.Error() != wantErr {
				t.Errorf("%q: error %v, want %q", src, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if d := newTestDetect(t, c); d.workers != want {
			t.Errorf("%q: %d workers, want %d", src, d.workers, want)
		}
	}
	f("workers: 3", 3, "")
	f("workers: 1", 1, "")
	f("source: x", 1, "")
	f("workers: -1", 0, "workers: -1 must be between 0 and 256")
	f("workers: 256", 256, "")
	f("workers: 1000000000", 0, "workers: 1000000000 must be between 0 and 256") // a typo: refused at the check, not out of memory at the first record
}

// TestDetectWorkersShareSeries: with the default threshold, a record of
// the simulator (34 series per device, 60 ticks: about 2 000 rows) is
// scored in parallel, its series spread over at least 8 of the lanes the
// workers claim, while a one-tick record (34 rows) is scored on the calling
// goroutine; the scratch holds nothing after a record (no series, no
// job, no output).
func TestDetectWorkersShareSeries(t *testing.T) {
	for _, c := range []struct {
		ticks    int
		parallel int
	}{{60, 1}, {1, 0}} {
		recs, _, _ := simMessages(t, 1, c.ticks, []sim.Fault{})
		d := newTestDetect(t, Config{Workers: 3})
		process(t, d, recs)
		lanes := map[int]int{}
		for _, ps := range d.parts {
			for _, st := range ps.series {
				if st.e != nil {
					lanes[int(laneOf(st)%laneCount)]++
				}
			}
		}
		left := len(d.par.held) + len(d.par.heldAt) + len(d.par.views) + len(d.par.series) + int(d.par.seq)
		for i := range d.par.lanes {
			left += int(d.par.counts[i] + d.par.lanes[i].pub.Load() + d.par.lanes[i].done.Load())
			for _, b := range d.par.lanes[i].blocks {
				for k := range b {
					if b != nil && b[k].e != nil {
						left++
					}
				}
			}
		}
		for i := range d.par.runners {
			left += len(d.par.runners[i].fired) + d.par.runners[i].ran
		}
		if d.par.records != c.parallel || c.parallel > 0 && len(lanes) < 8 || left != 0 {
			t.Errorf("%d ticks per record: %d records in parallel, want %d; series per lane %v, want some on at least 8; scratch left %d",
				c.ticks, d.par.records, c.parallel, lanes, left)
		}
	}
}

// TestDetectHoldOutputs: with HoldOutputs, Process returns from a record
// scored in parallel with its outputs held (pending); a checkpoint waits
// for its updates (every lane run) and keeps the outputs held; the next
// record or Flush emits them, and the serial path's record count of
// outputs is reached only then. TestDetectWorkersSameOutput compares the
// bytes.
func TestDetectHoldOutputs(t *testing.T) {
	recs, _, _ := simMessages(t, 1, 120, []sim.Fault{{Device: "sim-00", Interface: "Ethernet1", Kind: sim.FaultLinkFlap, After: 15 * time.Minute, Duration: 3 * time.Minute}})
	want := len(process(t, newTestDetect(t, Config{}), recs))
	d := newTestDetect(t, Config{Workers: 2})
	d.HoldOutputs()
	n := 0
	emit := func(*kgo.Record) { n++ }
	for _, r := range recs {
		if err := d.Process(context.Background(), r, emit); err != nil {
			t.Fatal(err)
		}
		if !d.par.pending {
			t.Fatalf("record of %d bytes: not left running", len(r.Value))
		}
	}
	d.Checkpoint(func(int32, []byte, []byte) {})
	run := true
	for i := range d.par.lanes {
		run = run && d.par.lanes[i].done.Load() == d.par.lanes[i].pub.Load()
	}
	if !d.par.pending || !run {
		t.Errorf("after a checkpoint: pending %t, every lane run %t; want the outputs held and the updates done", d.par.pending, run)
	}
	before := n
	if err := d.Flush(emit); err != nil {
		t.Fatal(err)
	}
	if d.par.pending || n != want || before >= want || want == 0 {
		t.Errorf("%d outputs before Flush, %d after (pending %t), want %d after only", before, n, d.par.pending, want)
	}
}

// TestDetectWorkersOutliveRecords: a worker runs from record to record
// while records come, sleeps when none has come for spinFor and is woken
// by the next, and ends once none has come for idleFor (a stage without
// input holds no goroutine); records after it has ended start it again.
// The outputs are the serial path's whichever of these happened between
// two held records.
func TestDetectWorkersOutliveRecords(t *testing.T) {
	recs, _, _ := simMessages(t, 1, 1200, []sim.Fault{{Device: "sim-00", Interface: "Ethernet1", Kind: sim.FaultLinkFlap, After: 15 * time.Minute, Duration: 3 * time.Minute}})
	want, _, _ := runWorkers(t, Config{}, 1, parallelMinRows, false, recs)
	// within reports whether every worker came to ok within 5 s.
	within := func(d *Stage, ok func(r *runner) bool) bool {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
			if ok(&d.par.runners[1]) && ok(&d.par.runners[2]) {
				return true
			}
		}
		return false
	}
	ended := func(r *runner) bool { return !r.alive.Load() }
	asleep := func(r *runner) bool { return r.sleep.Load() || !r.alive.Load() }
	for _, gap := range []string{"none", "sleep", "end"} {
		d := newTestDetect(t, Config{Workers: 3})
		d.det.Now = fixedNow
		d.HoldOutputs()
		var got bytes.Buffer
		emit := emitTo(&got)
		slept := 0
		for i, r := range recs {
			if err := d.Process(context.Background(), r, emit); err != nil {
				t.Fatal(err)
			}
			switch {
			case i%2 == 1 || gap == "none":
			case gap == "sleep":
				if !within(d, asleep) {
					t.Fatalf("a worker neither sleeps nor has ended 5 s after record %d", i)
				}
				if d.par.runners[1].alive.Load() && d.par.runners[2].alive.Load() {
					slept++
				}
			case !within(d, ended):
				t.Fatalf("a worker still runs 5 s after record %d", i)
			}
		}
		if err := d.Flush(emit); err != nil {
			t.Fatal(err)
		}
		if !within(d, ended) {
			t.Errorf("gap %s: a worker still runs 5 s after the last record", gap)
		}
		if gap == "sleep" && slept == 0 {
			t.Errorf("gap sleep: no gap found both workers asleep rather than ended")
		}
		if d.par.records != len(recs) || !bytes.Equal(got.Bytes(), want) || len(want) == 0 {
			t.Errorf("gap %s: %d records in parallel of %d; outputs equal to the serial path's: %t (%d bytes)",
				gap, d.par.records, len(recs), bytes.Equal(got.Bytes(), want), len(want))
		}
	}
}
