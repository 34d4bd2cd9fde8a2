package schemas

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func examplePowerRows() []PowerRow {
	nan := math.NaN()
	w0, w1 := int64(1795406400000000000), int64(1795407300000000000)
	return []PowerRow{
		{WindowStart: w0, WindowEnd: w1, Device: "edge-1", Model: "tk-sim-1", Row: PowerRowDevice, MeasuredW: 231.5, ModelledW: 229.8, EnergyWh: 57.9, Utilisation: nan, ResidualZ: 0.4, Samples: 90, FitPoints: 12000},
		{WindowStart: w0, WindowEnd: w1, Device: "edge-1", Model: "tk-sim-1", Row: PowerRowChassis, MeasuredW: nan, ModelledW: 132, EnergyWh: 33, Utilisation: nan, ResidualZ: nan, FitPoints: 12000},
		{WindowStart: w0, WindowEnd: w1, Device: "edge-1", Model: "tk-sim-1", Row: PowerRowPort, Component: "name=Ethernet1", MeasuredW: nan, ModelledW: 6.8, EnergyWh: 1.7, Utilisation: 0.31, SpeedBps: 100e9, ResidualZ: nan, FitPoints: 12000},
		{WindowStart: w0, WindowEnd: w1, Device: "edge-1", Model: "tk-sim-1", Row: PowerRowSaving, Component: "name=Ethernet4", MeasuredW: nan, ModelledW: 6.5, EnergyWh: 1.6, Utilisation: nan, SpeedBps: 100e9, Reason: SavingAdminUpOperDown, ResidualZ: nan, FitPoints: 12000, Detail: "Ethernet4 is admin up without link: shut it down"},
	}
}

func TestPowerRoundTrip(t *testing.T) {
	rows := examplePowerRows()
	b, err := EncodePower(nil, rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePower(PowerHeaders(), b)
	if err != nil {
		t.Fatal(err)
	}
	// NaN != NaN: compare with NaNs replaced.
	norm := func(rs []PowerRow) []PowerRow {
		out := append([]PowerRow(nil), rs...)
		for i := range out {
			for _, p := range []*float64{&out[i].MeasuredW, &out[i].Utilisation, &out[i].ResidualZ} {
				if math.IsNaN(*p) {
					*p = -999
				}
			}
		}
		return out
	}
	if !reflect.DeepEqual(norm(got), norm(rows)) {
		t.Fatalf("round trip:\n%+v\n%+v", got, rows)
	}
	if _, err := DecodePower([]Header{{Key: HeaderContentType, Value: []byte(ContentTypeArrowStream)}, {Key: HeaderSchemaVersion, Value: []byte("2")}}, b); !errors.Is(err, ErrUnknownVersion) {
		t.Fatalf("version 2: %v", err)
	}
	if _, err := DecodePower(PowerHeaders(), b[:len(b)/2]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := DecodePower(SamplesHeaders(), b); !errors.Is(err, ErrContentType) {
		t.Fatalf("samples headers: %v", err)
	}
	bad := examplePowerRows()
	bad[3].Reason = ""
	if _, err := EncodePower(nil, bad); err == nil {
		t.Fatal("a saving row without a reason was encoded")
	}
}

func TestPowerRecordNoLeak(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := NewPowerRecord(mem, examplePowerRows())
	if rec.NumRows() != 4 || rec.NumCols() != int64(numPowerCols) {
		t.Fatalf("%d rows %d cols", rec.NumRows(), rec.NumCols())
	}
	rec.Release()
}

// TestPowerSchemaGolden pins the power contract: any change to the Arrow
// schema shows up as a diff of testdata/power.v1.schema.txt in review.
// Rewrite it with go test ./schemas -run TestPowerSchemaGolden -update.
func TestPowerSchemaGolden(t *testing.T) {
	path := filepath.Join("testdata", "power.v1.schema.txt")
	got := PowerSchema().String() + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("PowerSchema() changed; if intended, bump PowerVersion or rerun with -update.\n got:\n%s\nwant:\n%s", got, want)
	}
}

// TestDecodePowerCorrupt flips bytes of a good power message: every result
// is rows or an error wrapping ErrMalformed, and no corrupt length makes the
// decoder allocate without bound (before the guards, one did: out of
// memory, which no recover catches).
func TestDecodePowerCorrupt(t *testing.T) {
	good, err := EncodePower(nil, examplePowerRows())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		b := append([]byte(nil), good...)
		for range 1 + r.IntN(4) {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		if _, err := DecodePower(PowerHeaders(), b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	}
}
