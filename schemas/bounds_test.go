package schemas

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSamplesDictionaryBound: SeriesIndex packs three dictionary indices
// in 21 bits each, so a record with a dictionary of more than 2^21
// entries is refused; DecodeSamples accepted it, and two series of it
// (metric 1 with keys 0, metric 0 with keys 2^21) shared one index: the
// detect stage would have put one's samples in the other's state.
func TestSamplesDictionaryBound(t *testing.T) {
	mem := memory.DefaultAllocator
	const big = 1 << 21
	dict := func(vals ...string) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	idx := func(v ...int32) arrow.Array {
		b := array.NewInt32Builder(mem)
		defer b.Release()
		b.AppendValues(v, nil)
		return b.NewArray()
	}
	dcol := func(ix, d arrow.Array) arrow.Array {
		return array.NewDictionaryArray(dictString, ix, d)
	}
	keys := make([]string, big+1)
	for i := range keys {
		keys[i] = "name=e" + strings.Repeat("x", i%3) + string(rune('a'+i%26))
	}
	keys[0], keys[big] = "name=A", "name=B"
	tsb := array.NewTimestampBuilder(mem, samplesSchema.Field(ColTS).Type.(*arrow.TimestampType))
	tsb.AppendValues([]arrow.Timestamp{1e18, 1e18}, nil)
	kb := array.NewUint8Builder(mem)
	kb.AppendValues([]uint8{2, 2}, nil)
	u := array.NewUint64Builder(mem)
	u.AppendNull()
	u.AppendNull()
	f := array.NewFloat64Builder(mem)
	f.AppendValues([]float64{1, 2}, nil)
	s := array.NewStringBuilder(mem)
	s.AppendNull()
	s.AppendNull()
	cols := []arrow.Array{
		tsb.NewArray(),
		dcol(idx(0, 0), dict("dev")),
		dcol(idx(1, 0), dict("m0", "m1")),
		dcol(idx(0, big), dict(keys...)),
		kb.NewArray(), u.NewArray(), f.NewArray(), s.NewArray(),
		dcol(idx(0, 0), dict("sim")),
	}
	rec := array.NewRecordBatch(samplesSchema, cols, 2)
	b, err := EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSamples(mem, SamplesHeaders(), b)
	if err == nil {
		got.Release()
	}
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "column keys dictionary has 2097153 entries") {
		t.Errorf("a keys dictionary of 2^21+1 entries: %v, want ErrMalformed naming it", err)
	}
}

// TestDecodePowerErrorOneLine: a column name taken from the message is
// quoted in the error, which stays one line (it was put in as it was, and
// a name holding a line break made a dead letter's reason span two).
func TestDecodePowerErrorOneLine(t *testing.T) {
	rec := NewPowerRecord(memory.DefaultAllocator, examplePowerRows())
	defer rec.Release()
	fields := append([]arrow.Field(nil), powerSchema.Fields()...)
	fields[PowerColModel].Name = "model\nFATAL: injected line"
	md := powerSchema.Metadata()
	schema := arrow.NewSchema(fields, &md)
	r2 := array.NewRecordBatch(schema, rec.Columns(), rec.NumRows())
	defer r2.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(r2); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, err := DecodePower(PowerHeaders(), buf.Bytes())
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans several lines: %q", err.Error())
	}
}

// TestDecodePowerWhole: a power value without its end-of-stream marker,
// or with bytes after it, is refused as samples values are, not read in
// part.
func TestDecodePowerWhole(t *testing.T) {
	b, err := EncodePower(nil, examplePowerRows())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodePower(PowerHeaders(), b); err != nil {
		t.Fatalf("the whole value: %v", err)
	}
	if _, err := DecodePower(PowerHeaders(), b[:len(b)-8]); !errors.Is(err, ErrMalformed) {
		t.Errorf("a power value without its end-of-stream marker: %v, want ErrMalformed", err)
	}
	if _, err := DecodePower(PowerHeaders(), append(append([]byte(nil), b...), "garbage"...)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a power value with bytes after it: %v, want ErrMalformed", err)
	}
}

// TestInventoryCSVByteOrderMark: a device list saved with a UTF-8
// byte-order mark (a spreadsheet's "CSV UTF-8") loads; its first column
// was read as "\ufeffname", so nothing loaded.
func TestInventoryCSVByteOrderMark(t *testing.T) {
	in := "\ufeffname,site\nleaf1,fra1\n"
	inv, problems := ParseInventoryCSV("inv.csv", []byte(in))
	if len(inv.Devices) != 1 {
		t.Errorf("got %d devices, problems %v", len(inv.Devices), problems)
	}
}
