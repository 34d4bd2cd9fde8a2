package schemas

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ParseInventoryCSV parses an operator's device list as CSV (file names it
// in problems): a header naming some of the columns name, site, role,
// vendor, model and tags (tags separated by ";"), then one device a line:
//
//	name,site,role,vendor,model,tags
//	leaf1,fra1,leaf,arista,7050X3,prod;rack12
//
// Links and sessions need the YAML form (ParseInventoryYAML). As there, an
// unknown column is reported and ignored, a device listed twice keeps its
// first line, and a line that does not parse is reported and left out; the
// rest always loads.
func ParseInventoryCSV(file string, data []byte) (*Inventory, []InventoryProblem) {
	inv := &Inventory{Version: InventoryVersion}
	var problems []InventoryProblem
	add := func(line int, msg string) {
		problems = append(problems, InventoryProblem{File: file, Line: line, Problem: msg})
	}
	// A spreadsheet's "CSV UTF-8" starts with a byte-order mark, which
	// would be part of the first column's name.
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			add(1, "cannot parse inventory: "+err.Error())
		}
		return inv, problems
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(deviceFields, h) {
			add(1, fmt.Sprintf("header: unknown column %q (known: %v); ignored", h, deviceFields))
			continue
		}
		col[h] = i
	}
	if _, ok := col["name"]; !ok {
		add(1, "header: no name column; nothing loaded")
		return inv, problems
	}
	known := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			if pe, ok := err.(*csv.ParseError); ok {
				line = pe.StartLine
			}
			add(line, "cannot parse line: "+err.Error()+"; skipped")
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			add(line, fmt.Sprintf("%d fields, the header has %d; skipped", len(rec), len(header)))
			continue
		}
		get := func(f string) string {
			if i, ok := col[f]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		d := Device{Name: get("name"), Site: get("site"), Role: get("role"), Vendor: get("vendor"), Model: get("model")}
		for t := range strings.SplitSeq(get("tags"), ";") {
			if t = strings.TrimSpace(t); t != "" {
				d.Tags = append(d.Tags, t)
			}
		}
		if err := checkDevice(d, known); err != nil {
			add(line, fmt.Sprintf("%v; skipped", err))
			continue
		}
		known[d.Name] = true
		inv.Devices = append(inv.Devices, d)
	}
	return inv, problems
}
