package backtest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// Event is a labelled event: something happened on Device (optionally on
// the series with Keys) from Start to End.
type Event struct {
	Device string    `json:"device"`
	Keys   string    `json:"keys,omitempty"` // e.g. name=Ethernet1; empty: the whole device
	Kind   string    `json:"kind,omitempty"` // e.g. portflap, clearBGP, link_down
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	File   string    `json:"file"` // where the label was read
	Line   int       `json:"line"`
}

// Where returns FILE:LINE of the label.
func (e *Event) Where() string { return fmt.Sprintf("%s:%d", e.File, e.Line) }

// ReadLabels reads labelled events from path in one of three formats:
//   - JSON lines as the simulator writes labels.jsonl: device, metric,
//     keys, kind, start, end (RFC 3339), one JSON object per line; the rows
//     of one device with the same kind, start and end (the series of one
//     fault) are one event, with the first row's keys; rows of energy
//     savings (kind admin_up_oper_down and the other saving reasons) are
//     skipped;
//   - CSV with a header naming device (or node), start, end and optionally
//     interface, keys, and kind (or event); other columns (the bigdama18
//     layout's Host and Type) are ignored.
//
// Times (start, end) are epoch seconds, milliseconds, microseconds or
// nanoseconds, each value's unit told by its magnitude (below 1e11
// seconds, below 1e14 milliseconds, below 1e17 microseconds), or RFC 3339
// or "YYYY-MM-DD HH:MM:SS[.fff]" (UTC unless an offset is given).
//
// A malformed row is an error "FILE:LINE: problem".
func ReadLabels(path string) ([]Event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read labels: %w", err)
	}
	return parseLabels(path, b)
}

// parseLabels parses the labels b read from path, JSON lines or CSV,
// after a UTF-8 byte order mark if there is one.
func parseLabels(path string, b []byte) ([]Event, error) {
	b = bytes.TrimPrefix(b, []byte(bom))
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return parseJSONLabels(path, b)
	}
	return parseCSVLabels(path, b)
}

// savingKinds are the kinds of the ground-truth rows of energy savings
// (`telekernel run` writes them to labels.jsonl after the faults): they
// score the power stage, not the detectors, so ReadLabels skips them.
var savingKinds = map[string]bool{
	schemas.SavingAdminUpOperDown:       true,
	schemas.SavingOpticUnusedPort:       true,
	schemas.SavingUnderutilisedParallel: true,
}

// simLabel is a line of the simulator's labels.jsonl: a sim.Label whose
// effect_of (the fault a row of a topology fault is an effect of) is
// accepted as any JSON and not used. Each row is an event on its own
// device (the rows of one fault's series merge, parseJSONLabels). Start
// and end are read as the CSV times are (parseLabelTime), so that a bad
// time gets the same one-line message naming the field.
type simLabel struct {
	sim.Label
	EffectOf json.RawMessage `json:"effect_of"`
	Start    json.RawMessage `json:"start"`
	End      json.RawMessage `json:"end"`
}

// jsonLabelTime reads a JSON label time: a string (a date-time or an
// epoch time) or a number (an epoch time); absent or null is the zero time,
// which Event.check reports.
func jsonLabelTime(raw json.RawMessage) (time.Time, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return time.Time{}, nil
	}
	if s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, fmt.Errorf("%s is not a JSON string", raw)
		}
	}
	return parseLabelTime(s)
}

// parseJSONLabels parses labels.jsonl. The simulator writes a row per
// series a fault affects (a traffic_spike's in-octets and in-unicast-pkts,
// a link_down's counters and states at both ends), and an Event names no
// series, so the rows of one device with the same kind, start and end are
// one event, with the first row's keys and line: one event per device per
// fault, as SimGroundTruth makes them.
func parseJSONLabels(path string, b []byte) ([]Event, error) {
	var out []Event
	seen := map[jsonEventKey]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := bytes.TrimSpace(sc.Bytes())
		if len(t) == 0 {
			continue
		}
		var l simLabel
		d := json.NewDecoder(bytes.NewReader(t))
		d.DisallowUnknownFields()
		if err := d.Decode(&l); err != nil {
			return nil, fmt.Errorf("%s:%d: cannot parse label: %v", path, line, err)
		}
		if rest := string(bytes.TrimSpace(t[d.InputOffset():])); rest != "" {
			// A second label (a lost newline) or garbage: the row is malformed.
			if len(rest) > 40 {
				rest = rest[:40] + "…"
			}
			return nil, fmt.Errorf("%s:%d: cannot parse label: %q after the JSON object", path, line, rest)
		}
		if savingKinds[l.Kind] {
			continue // a saving is a state the power stage reports, not an event to detect
		}
		e := Event{Device: l.Device, Keys: l.Keys, Kind: l.Kind, File: path, Line: line}
		var err error
		if e.Start, err = jsonLabelTime(l.Start); err != nil {
			return nil, fmt.Errorf("%s:%d: start: %v", path, line, err)
		}
		if e.End, err = jsonLabelTime(l.End); err != nil {
			return nil, fmt.Errorf("%s:%d: end: %v", path, line, err)
		}
		if err := e.check(); err != nil {
			return nil, err
		}
		k := jsonEventKey{e.Device, e.Kind, e.Start.UnixNano(), e.End.UnixNano()}
		if seen[k] {
			continue // another series of a fault already read
		}
		seen[k] = true
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read labels %s: %w", path, err)
	}
	return out, nil
}

// jsonEventKey is what makes rows of labels.jsonl one event.
type jsonEventKey struct {
	device, kind string
	start, end   int64
}

// labelColumns are the accepted CSV header names of each field.
var labelColumns = map[string][]string{
	"device":    {"device", "node"},
	"interface": {"interface"},
	"keys":      {"keys"},
	"start":     {"start"},
	"end":       {"end"},
	"kind":      {"kind", "event"},
}

func parseCSVLabels(path string, b []byte) ([]Event, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: cannot read the header: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		for f, names := range labelColumns {
			if slices.Contains(names, h) {
				col[f] = i
			}
		}
	}
	for _, f := range []string{"device", "start", "end"} {
		if _, ok := col[f]; !ok {
			return nil, fmt.Errorf("%s:1: no %s column in the header (want %s)", path, f, strings.Join(labelColumns[f], " or "))
		}
	}
	var out []Event
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: cannot parse row: %v", path, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: cannot parse row: %v", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		e, err := csvEvent(rec, col, path, line)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

// csvEvent builds the event of one CSV row.
func csvEvent(rec []string, col map[string]int, path string, line int) (Event, error) {
	get := func(f string) string {
		if i, ok := col[f]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	e := Event{Device: get("device"), Keys: get("keys"), Kind: get("kind"), File: path, Line: line}
	if iface := get("interface"); iface != "" && e.Keys == "" {
		e.Keys = "name=" + iface
	}
	var err error
	if e.Start, err = parseLabelTime(get("start")); err != nil {
		return e, fmt.Errorf("%s:%d: start: %v", path, line, err)
	}
	if e.End, err = parseLabelTime(get("end")); err != nil {
		return e, fmt.Errorf("%s:%d: end: %v", path, line, err)
	}
	return e, e.check()
}

// parseLabelTime reads an epoch time in seconds, milliseconds,
// microseconds or nanoseconds, each value's unit told by its magnitude
// (epochUnit: below 1e11 seconds, below 1e14 milliseconds…), or a
// date-time, RFC 3339 or "YYYY-MM-DD HH:MM:SS[.fff]" (UTC unless an offset
// is given).
func parseLabelTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f >= 0 { // not NaN
			if ns, ok := epochNanos(s, f, epochUnit(f)); ok {
				return time.Unix(0, ns).UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is out of range for an epoch time", s)
	}
	t, ok := parseDateTime(s)
	if !ok {
		return time.Time{}, fmt.Errorf("%q is neither an epoch time (seconds, milliseconds…) nor %s", s, dateTimeForms)
	}
	return t, nil
}

// check reports a label without a device or with an end before its start.
func (e *Event) check() error {
	switch {
	case e.Device == "":
		return fmt.Errorf("%s: no device", e.Where())
	case e.Start.IsZero() || e.End.IsZero():
		return fmt.Errorf("%s: start and end are required", e.Where())
	case e.End.Before(e.Start):
		return fmt.Errorf("%s: end %s is before start %s", e.Where(), e.End.Format(time.RFC3339), e.Start.Format(time.RFC3339))
	}
	return nil
}

// CheckDevices reports the first event whose device is not in devices, as
// "FILE:LINE: unknown device ...".
func CheckDevices(events []Event, devices map[string]bool) error {
	for i := range events {
		if !devices[events[i].Device] {
			known := make([]string, 0, len(devices))
			for d := range devices {
				known = append(known, d)
			}
			slices.Sort(known)
			if len(known) > 8 {
				known = append(known[:8], "…")
			}
			return fmt.Errorf("%s: unknown device %q (the data has %s)", events[i].Where(), events[i].Device, strings.Join(known, ", "))
		}
	}
	return nil
}
