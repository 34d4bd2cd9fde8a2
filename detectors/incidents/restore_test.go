package incidents

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// incidentRecords returns the state records of n incidents, every third
// resolved, in the order a compacted changelog may hold them: by the time
// each was last written, not by Seq (here, the reverse).
func incidentRecords(t testing.TB, n int) []Record {
	t.Helper()
	recs := make([]Record, 0, n)
	for seq := uint64(n); seq > 0; seq-- {
		at := int64(seq) * 1e9
		in := &incident{Seq: seq, ID: fmt.Sprint("inc-", seq), Opened: at, Updated: at, Firing: map[string]bool{"fp": true},
			Members: []member{{Time: at, ID: fmt.Sprint("d", seq), Fingerprint: "fp", Firing: true, Device: "leaf1", Metric: "m"}}}
		if seq%3 == 0 {
			in.Resolved, in.Firing = at+1, map[string]bool{}
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, Record{Key: IncidentKeyPrefix + strconv.FormatUint(seq, 10), Value: append(enc.AppendHeader(nil, tagIncident, incidentVersion), b...)})
	}
	return recs
}

// TestRestoreCountsOpenOnce: the correlate stage refreshes its open
// incidents gauge (OpenCount) after every record it restores. OpenCount
// went over every incident held, so restoring n incidents took n²/2 steps
// (20 000 incidents: 2·10⁸, 0.65 s instead of 0.22 s on the shared 2-core
// machine; 40 000: four times that; BenchmarkRestoreRecords); RestoreRecord
// now keeps the count, and OpenCount counts again only after an Add or a
// whole-engine restore. The count stays right through replacements and
// tombstones. Records out of Seq order, as here, were each inserted in
// their place, another n²/4 pointer moves (40 000 incidents restored at
// 19.5 MB/s, 10 000 at 47 MB/s); they are now appended and sorted once.
func TestRestoreCountsOpenOnce(t *testing.T) {
	const n = 20000
	recs := incidentRecords(t, n)
	e, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := e.RestoreRecord(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
		_ = e.OpenCount()
	}
	want := n - n/3
	if got := e.OpenCount(); got != want {
		t.Errorf("%d open after the restore, want %d", got, want)
	}
	if e.recounts > 1 {
		t.Errorf("OpenCount went over the incidents %d times while %d were restored, want at most once", e.recounts, n)
	}
	// Incident 3 (resolved) restored open, incident 1 (open) deleted, 2
	// (open) written again as it was.
	var in incident
	if err := decodeRecord(recs[n-3].Value, tagIncident, incidentVersion, &in); err != nil {
		t.Fatal(err)
	}
	in.Resolved = 0
	b, _ := json.Marshal(&in)
	for _, r := range []Record{
		{Key: IncidentKeyPrefix + "3", Value: append(enc.AppendHeader(nil, tagIncident, incidentVersion), b...)},
		{Key: IncidentKeyPrefix + "1"},
		recs[n-2],
	} {
		if err := e.RestoreRecord(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.OpenCount(); got != want {
		t.Errorf("%d open after reopening one and deleting another, want %d", got, want)
	}
	e.openOK = false
	if got := e.OpenCount(); got != want {
		t.Errorf("%d open counted again, want %d", got, want)
	}
	// Restored out of order, the incidents are held in Seq order again
	// (bySeq), as Open, Changes and Add need them.
	open := e.Open()
	if len(open) != n-1 || open[0].ID != "inc-2" || open[1].ID != "inc-3" || open[n-2].ID != fmt.Sprint("inc-", n) {
		t.Errorf("%d incidents held after the restore, first %s, %s, want %d from inc-2 in order", len(open), open[0].ID, open[1].ID, n-1)
	}
	for i := 1; i < len(e.incs); i++ {
		if e.incs[i-1].Seq >= e.incs[i].Seq {
			t.Fatalf("incidents out of Seq order after the restore: %d then %d", e.incs[i-1].Seq, e.incs[i].Seq)
		}
	}
}
