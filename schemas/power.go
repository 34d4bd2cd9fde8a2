package schemas

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// PowerVersion is the version of the power contract this build writes and
// the only one it reads.
const PowerVersion = 1

// SchemaPower is the HeaderSchema value of power messages (tk.power).
const SchemaPower = "power"

// Row kinds of the power contract (the `row` column).
const (
	// PowerRowDevice is one device over one window: measured input power
	// (when the device reports it), the model's total, energy and the
	// residual score.
	PowerRowDevice = "device"
	// PowerRowChassis is the model's fixed part of a device (chassis,
	// fans, supervisor): the fitted base coefficient.
	PowerRowChassis = "chassis"
	// PowerRowPort is the model's attribution to one port: its static
	// power by speed and state plus its traffic-proportional part.
	PowerRowPort = "port"
	// PowerRowSaving is one savings opportunity: modelled_w is the
	// estimated power saved, reason says what to do.
	PowerRowSaving = "saving"
)

// Reasons of saving rows (the `reason` column).
const (
	// SavingAdminUpOperDown: a port is administratively up but has no
	// link; shutting it down saves its PHY and optic power.
	SavingAdminUpOperDown = "admin_up_oper_down"
	// SavingOpticUnusedPort: a transceiver sits in an administratively down
	// port; removing it saves its idle power.
	SavingOpticUnusedPort = "optic_in_unused_port"
	// SavingUnderutilisedParallel: a member of a link bundle is below the
	// utilisation threshold and its traffic fits on the other members;
	// shutting it down saves its port power.
	SavingUnderutilisedParallel = "underutilised_parallel_link"
)

// Column positions in the power schema.
const (
	PowerColWindowStart = iota
	PowerColWindowEnd
	PowerColDevice
	PowerColModel
	PowerColRow
	PowerColComponent
	PowerColMeasuredW
	PowerColModelledW
	PowerColEnergyWh
	PowerColUtilisation
	PowerColSpeedBps
	PowerColReason
	PowerColResidualZ
	PowerColSamples
	PowerColFitPoints
	PowerColDetail
	numPowerCols
)

var powerSchema = arrow.NewSchema([]arrow.Field{
	{Name: "window_start", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
	{Name: "window_end", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
	{Name: "device", Type: dictString},
	{Name: "model", Type: dictString},
	{Name: "row", Type: dictString},
	{Name: "component", Type: dictString},
	{Name: "measured_w", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "modelled_w", Type: arrow.PrimitiveTypes.Float64},
	{Name: "energy_wh", Type: arrow.PrimitiveTypes.Float64},
	{Name: "utilisation", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "speed_bps", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "reason", Type: dictString, Nullable: true},
	{Name: "residual_z", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "samples", Type: arrow.PrimitiveTypes.Uint32},
	{Name: "fit_points", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "detail", Type: arrow.BinaryTypes.String, Nullable: true},
}, func() *arrow.Metadata {
	m := arrow.NewMetadata([]string{"telekernel.schema", "telekernel.version"}, []string{SchemaPower, fmt.Sprint(PowerVersion)})
	return &m
}())

// PowerSchema returns the Arrow schema of power rows, version PowerVersion.
// The returned schema is shared and must not be modified.
//
// One tk.power message (key = device) holds the rows of one device and one
// window: one PowerRowDevice row, one PowerRowChassis row, one PowerRowPort
// row per port, and one PowerRowSaving row per savings opportunity. Columns:
//
//   - window_start, window_end: timestamp[ns, UTC], the window [start, end)
//     in device time.
//   - device: the device name.
//   - model: the device model whose coefficients were used.
//   - row: device, chassis, port or saving.
//   - component: the port's list keys, e.g. "name=Ethernet1" (port and
//     saving rows); "" on device and chassis rows.
//   - measured_w: mean measured PSU input power (W) over the window, device
//     rows only; null when the device reports none.
//   - modelled_w: W. Device: the model's total; chassis: the base; port:
//     the port's attribution; saving: the estimated power saved.
//   - energy_wh: energy over the window (Wh). Device: from measured power
//     when reported, else modelled; chassis and port: modelled; saving: the
//     energy the opportunity would have saved over the window.
//   - utilisation: port rows: mean of (in+out)/(2·speed) in [0,1]; null
//     otherwise.
//   - speed_bps: port and saving rows: the port speed in bit/s; null when
//     unknown or on other rows.
//   - reason: saving rows: one of the Saving* constants; null otherwise.
//   - residual_z: device rows with measurements: robust z-score of the
//     window's mean residual (measured − modelled) against the device's
//     recent residuals; null otherwise.
//   - samples: device rows: measurements in the window; 0 otherwise.
//   - fit_points: measurements the model of this device model has been
//     fitted on so far (0 means the priors alone).
//   - detail: saving rows: a sentence for people; null otherwise.
func PowerSchema() *arrow.Schema { return powerSchema }

// PowerRow is one row of the power contract. NaN in a nullable float field
// (MeasuredW, Utilisation, ResidualZ) and 0 in SpeedBps are written as null;
// an empty Reason or Detail is written as null.
type PowerRow struct {
	WindowStart int64 // Unix ns, UTC
	WindowEnd   int64 // Unix ns, UTC
	Device      string
	Model       string
	Row         string // PowerRowDevice, PowerRowChassis, PowerRowPort or PowerRowSaving
	Component   string
	MeasuredW   float64
	ModelledW   float64
	EnergyWh    float64
	Utilisation float64
	SpeedBps    uint64
	Reason      string
	ResidualZ   float64
	Samples     uint32
	FitPoints   uint64
	Detail      string
}

// PowerHeaders returns the headers of every power message. The slice is
// freshly allocated.
func PowerHeaders() []Header {
	return []Header{
		{Key: HeaderContentType, Value: []byte(ContentTypeArrowStream)},
		{Key: HeaderSchema, Value: []byte(SchemaPower)},
		{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(PowerVersion))},
	}
}

// NewPowerRecord builds one record of the power schema from rows, allocated
// from mem. The caller must Release it.
func NewPowerRecord(mem memory.Allocator, rows []PowerRow) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, powerSchema)
	defer b.Release()
	f64 := func(col int, v float64, nullable bool) {
		fb := b.Field(col).(*array.Float64Builder)
		if nullable && math.IsNaN(v) {
			fb.AppendNull()
			return
		}
		fb.Append(v)
	}
	str := func(col int, v string, nullable bool) {
		db := b.Field(col).(*array.BinaryDictionaryBuilder)
		if nullable && v == "" {
			db.AppendNull()
			return
		}
		_ = db.AppendString(v)
	}
	for i := range rows {
		r := &rows[i]
		b.Field(PowerColWindowStart).(*array.TimestampBuilder).Append(arrow.Timestamp(r.WindowStart))
		b.Field(PowerColWindowEnd).(*array.TimestampBuilder).Append(arrow.Timestamp(r.WindowEnd))
		str(PowerColDevice, r.Device, false)
		str(PowerColModel, r.Model, false)
		str(PowerColRow, r.Row, false)
		str(PowerColComponent, r.Component, false)
		f64(PowerColMeasuredW, r.MeasuredW, true)
		f64(PowerColModelledW, r.ModelledW, false)
		f64(PowerColEnergyWh, r.EnergyWh, false)
		f64(PowerColUtilisation, r.Utilisation, true)
		if sb := b.Field(PowerColSpeedBps).(*array.Uint64Builder); r.SpeedBps == 0 {
			sb.AppendNull()
		} else {
			sb.Append(r.SpeedBps)
		}
		str(PowerColReason, r.Reason, true)
		f64(PowerColResidualZ, r.ResidualZ, true)
		b.Field(PowerColSamples).(*array.Uint32Builder).Append(r.Samples)
		b.Field(PowerColFitPoints).(*array.Uint64Builder).Append(r.FitPoints)
		if db := b.Field(PowerColDetail).(*array.StringBuilder); r.Detail == "" {
			db.AppendNull()
		} else {
			db.Append(r.Detail)
		}
	}
	return b.NewRecordBatch()
}

// EncodePower appends rows as one Arrow IPC stream (one record batch) to dst
// and returns the extended buffer.
func EncodePower(dst []byte, rows []PowerRow) ([]byte, error) {
	for i := range rows {
		if err := rows[i].Validate(); err != nil {
			return dst, fmt.Errorf("cannot encode power row %d: %w", i, err)
		}
	}
	rec := NewPowerRecord(memory.DefaultAllocator, rows)
	defer rec.Release()
	return encodeIPC(dst, powerSchema, rec, "power")
}

// Validate reports the first field that breaks the contract.
func (r *PowerRow) Validate() error {
	switch r.Row {
	case PowerRowDevice, PowerRowChassis, PowerRowPort, PowerRowSaving:
	default:
		return fmt.Errorf("power: row %q is not device, chassis, port or saving", r.Row)
	}
	switch {
	case r.Device == "":
		return fmt.Errorf("power: device is empty")
	case r.WindowEnd < r.WindowStart:
		return fmt.Errorf("power: window_end %d is before window_start %d", r.WindowEnd, r.WindowStart)
	case math.IsNaN(r.ModelledW) || math.IsInf(r.ModelledW, 0):
		return fmt.Errorf("power: modelled_w %v is not finite", r.ModelledW)
	case math.IsNaN(r.EnergyWh) || math.IsInf(r.EnergyWh, 0):
		return fmt.Errorf("power: energy_wh %v is not finite", r.EnergyWh)
	case r.Row == PowerRowSaving && r.Reason == "":
		return fmt.Errorf("power: saving row of %s has no reason", r.Component)
	}
	return nil
}

// DecodePower checks the headers and decodes one power message into rows.
// Errors wrap ErrContentType, ErrUnknownVersion or ErrMalformed.
func DecodePower(headers []Header, value []byte) (rows []PowerRow, err error) {
	ct, ok := HeaderValue(headers, HeaderContentType)
	if !ok || string(ct) != ContentTypeArrowStream {
		return nil, fmt.Errorf("%w: power message content type %s, want %q", ErrContentType, printable(ct), ContentTypeArrowStream)
	}
	if s, ok := HeaderValue(headers, HeaderSchema); ok && string(s) != SchemaPower {
		return nil, fmt.Errorf("%w: %s %s, want %q", ErrContentType, HeaderSchema, printable(s), SchemaPower)
	}
	v, ok := HeaderValue(headers, HeaderSchemaVersion)
	if !ok {
		return nil, fmt.Errorf("%w: no %q header", ErrUnknownVersion, HeaderSchemaVersion)
	}
	if err := checkVersion(SchemaPower, string(v), PowerVersion); err != nil {
		return nil, err
	}
	if len(value) > maxMessageBytes {
		return nil, fmt.Errorf("%w: power message of %d bytes exceeds %d", ErrMalformed, len(value), maxMessageBytes)
	}
	// As DecodeSamplesValue: bounded allocation, and a panic of the IPC
	// reader on corrupt data becomes an error.
	alloc := newDecodeAllocator(memory.DefaultAllocator)
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("%w: power stream: %v", ErrMalformed, p)
		}
		alloc.finish(err == nil)
	}()
	rd, src, err := openStream(value, alloc)
	if err != nil {
		return nil, err
	}
	defer rd.Release()
	if got := rd.Schema(); len(got.Fields()) != numPowerCols {
		return nil, fmt.Errorf("%w: power schema has %d columns, want %d", ErrMalformed, len(got.Fields()), numPowerCols)
	}
	for i, f := range rd.Schema().Fields() {
		w := powerSchema.Field(i)
		if f.Name != w.Name || !arrow.TypeEqual(f.Type, w.Type) {
			return nil, fmt.Errorf("%w: power column %d is %s %s, want %s %s", ErrMalformed, i, printable([]byte(f.Name)), f.Type, w.Name, w.Type)
		}
	}
	var out []PowerRow
	for rd.Next() {
		rec := rd.RecordBatch()
		rows, err := powerRows(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("%w: power stream: %v", ErrMalformed, err)
	}
	// As for samples, a value cut short or with bytes after its end is
	// refused, not read in part.
	if err := src.checkEnd(); err != nil {
		return nil, err
	}
	return out, nil
}

func powerRows(rec arrow.RecordBatch) (rows []PowerRow, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: power record: %v", ErrMalformed, p)
		}
	}()
	dict := func(col int, i int) string {
		d := rec.Column(col).(*array.Dictionary)
		if d.IsNull(i) {
			return ""
		}
		return d.Dictionary().(*array.String).Value(d.GetValueIndex(i))
	}
	f64 := func(col, i int) float64 {
		a := rec.Column(col).(*array.Float64)
		if a.IsNull(i) {
			return math.NaN()
		}
		return a.Value(i)
	}
	n := int(rec.NumRows())
	rows = make([]PowerRow, n)
	for i := 0; i < n; i++ {
		r := &rows[i]
		r.WindowStart = int64(rec.Column(PowerColWindowStart).(*array.Timestamp).Value(i))
		r.WindowEnd = int64(rec.Column(PowerColWindowEnd).(*array.Timestamp).Value(i))
		r.Device = dict(PowerColDevice, i)
		r.Model = dict(PowerColModel, i)
		r.Row = dict(PowerColRow, i)
		r.Component = dict(PowerColComponent, i)
		r.MeasuredW = f64(PowerColMeasuredW, i)
		r.ModelledW = f64(PowerColModelledW, i)
		r.EnergyWh = f64(PowerColEnergyWh, i)
		r.Utilisation = f64(PowerColUtilisation, i)
		if s := rec.Column(PowerColSpeedBps).(*array.Uint64); !s.IsNull(i) {
			r.SpeedBps = s.Value(i)
		}
		r.Reason = dict(PowerColReason, i)
		r.ResidualZ = f64(PowerColResidualZ, i)
		r.Samples = rec.Column(PowerColSamples).(*array.Uint32).Value(i)
		r.FitPoints = rec.Column(PowerColFitPoints).(*array.Uint64).Value(i)
		if d := rec.Column(PowerColDetail).(*array.String); !d.IsNull(i) {
			r.Detail = d.Value(i)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("%w: row %d: %v", ErrMalformed, i, err)
		}
	}
	return rows, nil
}
