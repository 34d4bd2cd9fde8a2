package backtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// WideSourceName is the source column of samples imported from wide CSV.
const WideSourceName = "wide-csv"

// wideSource replays wide CSV files one after the other, one batch per row.
type wideSource struct {
	m     *Mapping
	paths []string
	next  int

	f    *os.File
	r    *csv.Reader
	path string
	line int
	// skipLines are the lines before the header that the CSV reader
	// does not see (an Excel sep= line).
	skipLines int
	device    string
	timeCol   int
	// clockCol is the column of the time of day when the time column
	// holds dates alone (a spreadsheet's Date and Time), -1 otherwise.
	clockCol int
	// timeCols are the columns named as a time column, in header order;
	// the first row picks timeCol (and clockCol) among them.
	timeCols []int
	// timeUnit is the time column's epoch unit (unitSecond…), textTime
	// for date-times, 0 before the first row.
	timeUnit int64
	cols     []wideColumn // mapped columns
	// split is true when the open file's columns hold the series of
	// several devices (Prometheus instances): each row is then one batch
	// per device, rest the row's batches not returned yet.
	split   bool
	batch   []schemas.Sample
	rest    []schemas.Sample
	skipped int64 // cells skipped as missing values
}

var _ SkipCounter = (*wideSource)(nil)

// wideColumn is a mapped column of the open file.
type wideColumn struct {
	Column
	instance string // a Prometheus series' instance label, "" else
	device   string // the file's device, or the instance's
	csv      int    // index of the CSV field
	// guess is true while the kind is a guess (a leaf not listed) that the
	// column's first value has yet to settle.
	guess bool
}

// OpenWide returns a Source over wide CSV files (gzip when the name ends in
// .gz): a header row naming the columns, a time column, an optional index
// column (unnamed, or pandas' "Unnamed: 0"), and one column per feature
// mapped by m (a counter, gauge or state column: see Mapping). The time
// column is one named time, timestamp, ts, datetime or date (in any case;
// the others are not read): the first whose cell in the first row is a
// time, else a column of dates alone read with one of times of day
// (HH:MM:SS[.fff], a spreadsheet's Date and Time), else the first; its
// values are epoch seconds,
// milliseconds, microseconds or nanoseconds (fractions allowed), the unit
// decided per file by the magnitude of the first row's value (below 1e11
// seconds, below 1e14 milliseconds, below 1e17 microseconds, else
// nanoseconds), or date-times, RFC 3339 or "YYYY-MM-DD HH:MM:SS[.fff]"
// (UTC unless an offset is given), if the first row's is; every row must
// be in the first row's form. The device of a file is m.Device of its
// name (m.DeviceOf), but in a file whose columns are Prometheus series of
// several instances (a Grafana export of several targets), where each
// column's device is its instance's host (instanceDevice) and a column
// without one is the file's. When several columns map to one series of a
// device (IOS-XR's state and line-state are both an interface's
// oper-status), the first in the header is read and the others are not.
// Each row is one batch per device. Empty cells are skipped, not
// zeros; so are the missing-value tokens nan (signed too: C's printf
// writes -nan), NA, N/A, null, None and - (in any case), infinities and a
// spreadsheet's error values (#N/A,
// #DIV/0!, …), which the source counts (SkipCounter). A
// cell that is not a value of its column's kind is an error naming
// FILE:LINE and the column. Files are read one at a time in the order
// given.
func OpenWide(paths []string, m *Mapping) (Source, error) {
	if len(paths) == 0 {
		return nil, errors.New("cannot open wide CSV: no files")
	}
	return &wideSource{m: m, paths: paths}, nil
}

// WideDevice returns the device of a wide CSV file by m.
func WideDevice(path string, m *Mapping) string { return m.DeviceOf(wideBase(path)) }

// wideBase is the file name without folders and .csv/.tsv/.gz extensions.
func wideBase(path string) string {
	b := filepath.Base(path)
	b = strings.TrimSuffix(b, ".gz")
	return strings.TrimSuffix(strings.TrimSuffix(b, ".csv"), ".tsv")
}

// GroupWide groups wide CSV files by what their names hold besides the
// device ("leaf1bgpclear_first" and "spine2bgpclear_first" are both
// "bgpclear_first"): the recordings of one experiment, to be replayed
// together and apart from the other experiments. Groups and files are in
// name order.
func GroupWide(paths []string, m *Mapping) (names []string, groups [][]string) {
	by := map[string][]string{}
	for _, p := range paths {
		b := wideBase(p)
		g := strings.TrimPrefix(b, m.patternDevice(b))
		by[g] = append(by[g], p)
	}
	for g := range by {
		names = append(names, g)
	}
	slices.Sort(names)
	for _, g := range names {
		slices.Sort(by[g])
		groups = append(groups, by[g])
	}
	return names, groups
}

// Next implements Source.
func (s *wideSource) Next(ctx context.Context) ([]schemas.Sample, error) {
	if len(s.rest) > 0 {
		return s.nextDevice(), nil
	}
	for {
		if s.r == nil {
			if s.next >= len(s.paths) {
				return nil, io.EOF
			}
			if err := s.open(s.paths[s.next]); err != nil {
				return nil, err
			}
			s.next++
		}
		rec, err := s.r.Read()
		if errors.Is(err, io.EOF) {
			s.closeFile()
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", s.path, s.fileLines(err))
		}
		s.line, _ = s.r.FieldPos(0) // a quoted cell may span lines
		s.line += s.skipLines
		if err := s.row(rec); err != nil {
			return nil, err
		}
		if len(s.batch) > 0 && s.split {
			slices.SortStableFunc(s.batch, func(a, b schemas.Sample) int { return strings.Compare(a.Device, b.Device) })
			s.rest = s.batch
			return s.nextDevice(), nil
		}
		if len(s.batch) > 0 {
			return s.batch, nil
		}
	}
}

// nextDevice returns the samples of the first device in s.rest (a row of a
// split file, sorted by device) and keeps the others for the next call.
func (s *wideSource) nextDevice() []schemas.Sample {
	n := 1
	for n < len(s.rest) && s.rest[n].Device == s.rest[0].Device {
		n++
	}
	b := s.rest[:n]
	s.rest = s.rest[n:]
	return b
}

// WideDevices returns the devices of a wide CSV file, read from its
// header: its name's (WideDevice), or, in a file of Prometheus series of
// several instances, theirs (see OpenWide).
func WideDevices(path string, m *Mapping) ([]string, error) {
	s := &wideSource{m: m}
	if err := s.open(path); err != nil {
		return nil, err
	}
	defer s.closeFile()
	var out []string
	for _, c := range s.cols {
		if !slices.Contains(out, c.device) {
			out = append(out, c.device)
		}
	}
	if len(out) == 0 {
		out = append(out, s.device)
	}
	slices.Sort(out)
	return out, nil
}

// row fills s.batch from one CSV row.
func (s *wideSource) row(rec []string) error {
	s.batch = s.batch[:0]
	if s.timeCols[len(s.timeCols)-1] >= len(rec) {
		return fmt.Errorf("%s:%d: cannot read row: %d fields", s.path, s.line, len(rec))
	}
	if s.timeUnit == 0 {
		s.pickTime(rec)
	}
	cell := s.cell(rec, s.timeCol)
	if s.clockCol >= 0 {
		cell += " " + strings.TrimSpace(rec[s.clockCol])
	}
	ts, err := s.time(cell)
	if err != nil {
		return fmt.Errorf("%s:%d: cannot read time %q: %v", s.path, s.line, cell, err)
	}
	for i := range s.cols {
		col := &s.cols[i]
		if col.csv >= len(rec) {
			break
		}
		cell := s.cell(rec, col.csv)
		if cell == "" {
			continue
		}
		if missing(cell) {
			s.skipped++
			continue
		}
		if col.guess {
			col.settle(cell)
		}
		smp := schemas.Sample{TS: ts, Device: col.device, Metric: col.Metric, Keys: col.Keys, Kind: col.Kind, Source: WideSourceName}
		if why := parseCell(cell, &smp); why != "" {
			line, _ := s.r.FieldPos(col.csv)
			line += s.skipLines
			return fmt.Errorf("%s:%d: cannot read column %d %q: %q is %s", s.path, line, col.csv+1, col.Metric, cell, why)
		}
		s.batch = append(s.batch, smp)
	}
	return nil
}

// pickTime picks, from the first row rec of a file, the time column among
// the columns named as one: the first whose cell is an epoch time or a
// date-time with a time of day; else a column of dates alone with one
// whose cells are times of day (HH:MM:SS[.fff]), read together; else the
// first (whose cells are then dates alone, or an error).
func (s *wideSource) pickTime(rec []string) {
	s.timeCol, s.clockCol = s.timeCols[0], -1
	date, clock := -1, -1
	for _, i := range s.timeCols {
		cell := s.cell(rec, i)
		switch {
		case isDate(cell):
			if date < 0 {
				date = i
			}
		case isClock(cell):
			if clock < 0 {
				clock = i
			}
		case isTime(cell):
			s.timeCol = i
			return
		}
	}
	if date >= 0 && clock >= 0 {
		s.timeCol, s.clockCol = date, clock
	}
}

// cell returns the cell of rec's column i trimmed, and in a
// semicolon-separated file with its decimal comma as a point (a value's,
// or an epoch time's fraction, "1500000000,5").
func (s *wideSource) cell(rec []string, i int) string {
	cell := strings.TrimSpace(rec[i])
	if s.r.Comma == ';' {
		cell = decimalComma(cell)
	}
	return cell
}

// isTime reports whether cell is an epoch time or a date-time.
func isTime(cell string) bool {
	if _, ok := parseDateTime(cell); ok {
		return true
	}
	f, err := strconv.ParseFloat(cell, 64)
	return err == nil && f >= 0
}

// isDate reports whether cell is a date alone (YYYY-MM-DD).
func isDate(cell string) bool {
	_, err := time.Parse(time.DateOnly, cell)
	return err == nil
}

// isClock reports whether cell is a time of day alone (HH:MM:SS[.fff]).
func isClock(cell string) bool {
	_, err := time.Parse(time.TimeOnly, cell)
	return err == nil
}

// textTime is the time unit of a file whose times are date-times.
const textTime = -1

// time reads a time cell in Unix nanoseconds: the first row of a file
// decides between epoch times (and their unit, by magnitude) and
// date-times, which the other rows must follow.
func (s *wideSource) time(cell string) (int64, error) {
	f, err := strconv.ParseFloat(cell, 64)
	isEpoch := err == nil && f >= 0 // not NaN, not negative
	if s.timeUnit == 0 {
		if _, ok := parseDateTime(cell); ok {
			s.timeUnit = textTime
		} else if isEpoch {
			s.timeUnit = epochUnit(f)
		} else {
			return 0, errors.New("want epoch seconds, milliseconds, microseconds or nanoseconds, " + dateTimeForms)
		}
	}
	if s.timeUnit == textTime {
		t, ok := parseDateTime(cell)
		if !ok {
			return 0, errors.New("want " + dateTimeForms + ", as in the first row")
		}
		return t.UnixNano(), nil
	}
	if !isEpoch || epochUnit(f) != s.timeUnit {
		return 0, fmt.Errorf("want epoch %s, as in the first row", unitName(s.timeUnit))
	}
	ns, ok := epochNanos(cell, f, s.timeUnit)
	if !ok {
		return 0, fmt.Errorf("out of range (epoch %s after 2262)", unitName(s.timeUnit))
	}
	return ns, nil
}

// timeNames are the names of the time column, in any case, with an
// exporter's "_" or "@" in front (InfluxDB's _time, Elasticsearch's
// @timestamp) and a unit or zone after ("timestamp_ms", "Time (UTC)"):
// the first of them in the header is the time, the others are not read.
// The unit of epoch times comes from their size, whatever the name says.
var timeNames = [...]string{"time", "timestamp", "ts", "datetime", "date"}

// timeNameSuffixes are the units and zones a time column's name may end
// in.
var timeNameSuffixes = [...]string{"_ms", "_us", "_ns", "_s", "_sec", "_utc", "-ms", "-utc"}

func isTimeName(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.IndexByte(n, '('); i > 0 {
		n = strings.TrimSpace(n[:i])
	}
	n = strings.TrimLeft(n, "_@")
	for _, s := range timeNameSuffixes {
		if t, ok := strings.CutSuffix(n, s); ok {
			n = t
			break
		}
	}
	return slices.Contains(timeNames[:], n)
}

// isIndexName reports whether a column is a row index: unnamed, or
// pandas' "Unnamed: 0" (an unnamed index read and written again).
func isIndexName(name string) bool {
	return name == "" || strings.HasPrefix(name, "Unnamed: ")
}

// Skipped implements SkipCounter: the cells skipped as missing values so
// far.
func (s *wideSource) Skipped() int64 { return s.skipped }

// missingTokens are the cells that exporters write for a missing value
// (pandas, R, SQL, Python, spreadsheets; C's printf and awk sign a NaN,
// "-nan"), matched in any case, the infinities (a float's overflow, a
// division by zero) and a spreadsheet's error values (#N/A, #DIV/0!, …):
// no measurement. Without "-nan" here, a guessed column whose first cell
// is one would settle as a state column.
var missingTokens = [...]string{"nan", "+nan", "-nan", "na", "n/a", "null", "none", "-",
	"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
	"#n/a", "#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!"}

// missing reports whether a non-empty cell holds no value (missingTokens).
func missing(cell string) bool {
	if c := cell[0]; c >= '0' && c <= '9' || len(cell) > len("+infinity") {
		return false // the common case: a number
	}
	for _, t := range missingTokens {
		if strings.EqualFold(cell, t) {
			return true
		}
	}
	return false
}

// settle decides the kind of a column whose kind is a guess from its first
// value: text makes it a state column, and a number that no counter holds
// (negative, fractional, 2^64 or more) a guessed counter a gauge.
func (c *wideColumn) settle(cell string) {
	c.guess = false
	f, err := strconv.ParseFloat(cell, 64)
	switch {
	case err != nil:
		c.Kind = schemas.KindState
	case c.Kind == schemas.KindCounter && !isCounterValue(f):
		c.Kind = schemas.KindGauge
	}
}

// isCounterValue reports whether f is a counter's value: a whole number
// from 0 to 2^64-1.
func isCounterValue(f float64) bool { return f >= 0 && f < math.MaxUint64 && f == math.Trunc(f) }

// Why a cell is not read.
const (
	notNumber  = "not a number"
	notCounter = "not a counter value (a whole number from 0 to 2^64-1)"
)

// parseCell sets smp's value from cell, which is not missing: a state's
// text as it is, counters at full uint64 precision when written as
// integers, else through float64 (exports that print counters as
// "99648733.0" or "1.8e3"). It returns why the cell is not a value of
// smp's kind, "" when it is.
func parseCell(cell string, smp *schemas.Sample) string {
	if smp.Kind == schemas.KindState {
		smp.Str = cell
		return ""
	}
	if smp.Kind == schemas.KindCounter {
		if u, err := strconv.ParseUint(cell, 10, 64); err == nil {
			smp.U64 = u
			return ""
		}
	}
	f, err := strconv.ParseFloat(cell, 64)
	switch {
	case err != nil:
		return notNumber
	case smp.Kind != schemas.KindCounter:
		smp.F64 = f
	case !isCounterValue(f):
		return notCounter
	default:
		smp.U64 = uint64(f)
	}
	return ""
}

// open opens path and maps its header.
func (s *wideSource) open(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot open wide CSV: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return fmt.Errorf("cannot read %s: %w", path, err)
		}
		br = bufio.NewReaderSize(gz, 1<<16)
	}
	// A byte order mark goes before the CSV reader sees it: before a
	// quoted header name it would be a bare quote.
	if b, err := br.Peek(len(bom)); err == nil && string(b) == bom {
		br.Discard(len(bom))
	}
	r := io.Reader(br)
	s.f, s.path, s.line, s.device = f, path, 1, WideDevice(path, s.m)
	comma, skip := excelSep(br)
	s.r, s.skipLines = csv.NewReader(r), skip
	if comma == 0 {
		comma = delimiter(br)
	}
	s.r.Comma = comma
	// TSV has no quoting: a name may hold quotes as written
	// (ifOperStatus{ifName="Eth1"}).
	s.r.LazyQuotes = s.r.Comma == '\t'
	s.r.ReuseRecord = true
	head, err := s.r.Read()
	if err != nil {
		s.closeFile()
		return fmt.Errorf("cannot read the header of %s: %w", path, s.fileLines(err))
	}
	s.timeCol, s.clockCol, s.timeCols, s.timeUnit, s.cols = -1, -1, s.timeCols[:0], 0, s.cols[:0]
	for i, name := range head {
		name = strings.TrimSpace(name)
		switch {
		case isTimeName(name):
			s.timeCols = append(s.timeCols, i)
		case isIndexName(name):
		default:
			c, guess := s.m.column(name)
			s.cols = append(s.cols, wideColumn{Column: c, instance: promInstance(name), device: s.device, csv: i, guess: guess && c.Kind != schemas.KindState})
		}
	}
	s.splitDevices()
	if len(s.timeCols) == 0 {
		s.closeFile()
		return fmt.Errorf("cannot read %s: no time column in the header (want %s or %s)", path,
			strings.Join(timeNames[:len(timeNames)-1], ", "), timeNames[len(timeNames)-1])
	}
	return nil
}

// splitDevices gives each column of a file of Prometheus series of several
// instances its instance's device (a column without one keeps the file's)
// unless the mapping names the device of every file (Mapping.Device), then
// keeps the first column of each device's series.
func (s *wideSource) splitDevices() {
	var first string
	s.split = false
	for _, c := range s.cols {
		if s.m.Device != "" {
			break // one device for every file, as asked
		}
		if c.instance == "" {
			continue
		}
		if first == "" {
			first = c.instance
		} else if c.instance != first {
			s.split = true
			break
		}
	}
	if s.split {
		for i := range s.cols {
			if s.cols[i].instance != "" {
				s.cols[i].device = instanceDevice(s.cols[i].instance)
			}
		}
	}
	cols := s.cols[:0]
	for _, c := range s.cols {
		if !slices.ContainsFunc(cols, func(o wideColumn) bool { return o.device == c.device && o.Metric == c.Metric && o.Keys == c.Keys }) {
			cols = append(cols, c) // else the series of an earlier column: that one is read
		}
	}
	s.cols = cols
}

// fileLines returns err, a CSV parse error's lines counted from the top of
// the file (with the lines skipped before the header).
func (s *wideSource) fileLines(err error) error {
	if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
		pe.StartLine += s.skipLines
		pe.Line += s.skipLines
	}
	return err
}

// excelSep reads an export's first line when it names the separator for
// Excel ("sep=;", as Grafana's "Download for Excel" writes it): the
// separator, and 1 line skipped; else 0 and 0, nothing read.
func excelSep(br *bufio.Reader) (comma rune, skipped int) {
	b, _ := br.Peek(len("sep=;\r\n"))
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		return 0, 0
	}
	line := bytes.TrimSuffix(b[:n], []byte("\r"))
	if len(line) != len("sep=;") || !bytes.HasPrefix(line, []byte("sep=")) {
		return 0, 0
	}
	switch c := rune(line[4]); c {
	case ',', ';', '\t', '|':
		br.Discard(n + 1)
		return c, 1
	}
	return 0, 0
}

// delimiter returns the field separator of the file br reads, from its
// header line: a comma, or, when the header holds none, a tab or a
// semicolon (the spreadsheets of locales whose decimal mark is a comma).
// Only the separators between names count, not those inside a quoted name
// or within a name's braces or brackets (a Prometheus series' labels,
// ifHCInOctets{ifName="Ethernet1", job="snmp"}, a gNMI path's keys).
func delimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	var seen [3]bool // comma, tab, semicolon
	quoted, depth := false, 0
scan:
	for _, c := range head {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			break scan // the end of the header line
		case c == '{' || c == '[':
			depth++
		case (c == '}' || c == ']') && depth > 0:
			depth--
		case depth > 0:
		case c == ',':
			seen[0] = true
		case c == '\t':
			seen[1] = true
		case c == ';':
			seen[2] = true
		}
	}
	switch {
	case seen[0]:
		return ','
	case seen[1]:
		return '\t'
	case seen[2]:
		return ';'
	}
	return ','
}

// decimalComma returns cell with its decimal comma as a point when cell is
// a number written so ("12,5", "-0,25"; a semicolon-separated export
// writes them in the locales that use it), else cell unchanged.
func decimalComma(cell string) string {
	i := strings.IndexByte(cell, ',')
	if i < 0 || strings.IndexByte(cell, '.') >= 0 || strings.IndexByte(cell[i+1:], ',') >= 0 {
		return cell
	}
	p := cell[:i] + "." + cell[i+1:]
	if _, err := strconv.ParseFloat(p, 64); err != nil {
		return cell
	}
	return p
}

// bom is UTF-8's byte order mark, which spreadsheet exports write first.
const bom = "\ufeff"

func (s *wideSource) closeFile() {
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.r = nil, nil
}

// Close implements Source.
func (s *wideSource) Close() error {
	s.closeFile()
	s.next = len(s.paths)
	return nil
}
