package expiry

import (
	"testing"
	"time"
)

// TestBehindLaterRecord: samples behind that span StepConfirm inside one
// input record do not confirm a step; the device's next record does,
// whatever samples newer than the first behind its first record held
// (RecordDone takes them as the count's reference), unless a key of the
// device was sampled newer after that record (a second source's batches
// behind the device's own, alternating): then the count starts again,
// and a count restored from the device's record is confirmed by the next
// record the stage takes. Before, a minute of samples behind confirmed
// the step inside one record: a late source's batch, or a target move's
// batched duplicates, took the device's series back.
func TestBehindLaterRecord(t *testing.T) {
	const s, h = int64(time.Second), int64(time.Hour)
	ds := Devices{Tol: Tolerance(24 * time.Hour)}
	d := ds.Get("r1")
	latest := 100 * h
	newest := func() int64 { return latest }
	done := func(name string) int64 {
		if name != "r1" {
			t.Fatalf("RecordDone read the newest of %q, want r1", name)
		}
		return latest
	}
	behind := func(ts int64) bool {
		t.Helper()
		_, stepped := ds.Behind(d, "r1", ts, newest)
		return stepped
	}

	// One record: ten minutes behind, and newer samples in it too (the
	// record straddles the step, or its stage took them out of order).
	for i := range int64(60) {
		if behind(97*h + i*10*s) {
			t.Fatalf("stepped inside the record the count began in, at sample %d", i)
		}
	}
	latest += 10 * s
	ds.RecordDone(done)
	if d.stepFrom != latest || d.stepNew {
		t.Fatalf("after its record: count from %d (new %v), want from %d, the record's newest", d.stepFrom, d.stepNew, latest)
	}
	if len(ds.begun) != 0 {
		t.Fatalf("RecordDone left %v begun", ds.begun)
	}

	// The next record, still behind, nothing newer: stepped.
	if !behind(97*h + 600*s) {
		t.Fatal("the next record behind did not confirm the step")
	}
	ds.Stepped(&Clock{Newest: latest}, d, "r1", 97*h+600*s, false)

	// A second source's batches behind, the device's own between them.
	latest = 110 * h
	for r := range int64(3) {
		for i := range int64(60) {
			if behind(108*h + r*600*s + i*10*s) {
				t.Fatalf("batch %d behind, sample %d: stepped, though the device sent newer between the batches", r, i)
			}
		}
		ds.RecordDone(done)
		latest += 600 * s // the device's own next batch
	}

	// A count restored is of an earlier record: the next confirms it.
	var took []byte
	ds.TakeChanged(func(name string, value []byte) { took = value })
	var r Devices
	if err := r.RestoreOffset("r1", took); err != nil {
		t.Fatal(err)
	}
	rd := r.Lookup("r1")
	latest = rd.stepFrom // nothing newer since
	if _, stepped := r.Behind(rd, "r1", rd.stepFirst+int64(StepConfirm), newest); !stepped {
		t.Fatalf("a count restored (from %d, first %d, new %v) was not confirmed by the next record", rd.stepFrom, rd.stepFirst, rd.stepNew)
	}
}
