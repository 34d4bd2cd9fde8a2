package clickhouse

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// TestBadSchemaErrorOneLine hands InsertSamples' check a record of
// another schema: the ErrBadInput it returns is one line (it is logged and
// dead-lettered as is; the schema's own text spans a line per field).
func TestBadSchemaErrorOneLine(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64}, {Name: "device", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).(*array.StringBuilder).Append("edge1")
	rec := b.NewRecordBatch()
	defer rec.Release()
	_, err := checkSamples([]arrow.RecordBatch{rec})
	if !errors.Is(err, ErrBadInput) {
		t.Fatalf("checkSamples = %v, want ErrBadInput", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error spans %d lines: %q", strings.Count(err.Error(), "\n")+1, err.Error())
	}
}

// TestDetectionTimesOutsideTheLayouts converts detections whose times
// (valid RFC 3339, accepted by the contract) are beyond what the columns
// hold, 2300 and 1600, as InsertDetections does, and reads the modern
// layout's back as the server would: both layouts refuse them with
// ErrBadInput (the stage dead-letters the message), or the time is kept;
// never is another one sent (the driver's UnixNano wraps past 2262).
func TestDetectionTimesOutsideTheLayouts(t *testing.T) {
	for _, year := range []int{2300, 1600} {
		d := testDetections(1)[0]
		at := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
		d.EventTime, d.DetectedAt, d.StartsAt = at, at, at
		if err := d.Validate(); err != nil {
			t.Fatalf("the detection breaks the contract: %v", err)
		}
		if _, err := detectionColumns([]schemas.Detection{d}, schemas.LayoutLegacy); !errors.Is(err, ErrBadInput) {
			t.Errorf("year %d: legacy layout: %v, want ErrBadInput", year, err)
		}
		dc, err := detectionColumns([]schemas.Detection{d}, schemas.LayoutModern)
		if errors.Is(err, ErrBadInput) {
			continue // refused: fine
		}
		if err != nil {
			t.Fatal(err)
		}
		b, names := newTestBlock(t, schemas.TableDetections, schemas.LayoutModern)
		if err := dc.appendTo(b, names, schemas.TableDetections); err != nil {
			continue // refused by the driver: the stage would stop, but nothing wrong is stored
		}
		b = b.wireRoundTrip(t)
		for i, n := range names {
			if n != "event_time" {
				continue
			}
			var got time.Time
			b.scan(t, i, 0, &got)
			if !got.Equal(at) {
				t.Errorf("modern layout: event_time %s accepted and sent as %s", at.Format(time.RFC3339), got.UTC().Format(time.RFC3339Nano))
			}
		}
	}
}

// TestForcedModernBelowFloor forces the modern layout on a server below
// its floor (deploy/local's is 18.16): Apply fails, and its error, which
// the process logs and exits with, is one line (the server's exception
// quotes the statement, line breaks and all) saying what to set.
func TestForcedModernBelowFloor(t *testing.T) {
	s := newTestSink(t, func(c *Config) { c.Layout = "modern" })
	v, _ := s.ServerVersion()
	if schemas.ChooseLayout(v) == schemas.LayoutModern {
		t.Skipf("server %v takes the modern layout", v)
	}
	err := s.EnsureTables(context.Background())
	if err == nil {
		t.Fatal("EnsureTables succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "below its floor") || !strings.Contains(msg, "set layout auto or legacy") {
		t.Errorf("error %q: want one line saying the server is below the modern layout's floor", msg)
	}
}
