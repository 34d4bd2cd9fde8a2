package schemas

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// InventoryProblem is one problem of an operator's inventory file: the
// file, the line and what is wrong. Error returns "FILE:LINE: problem".
type InventoryProblem struct {
	File    string
	Line    int
	Problem string
}

// Error returns the problem as one line naming the file and line.
func (p InventoryProblem) Error() string {
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Problem)
}

// Fields of each section of an inventory file.
var (
	inventorySections = []string{"version", "devices", "links", "sessions"}
	deviceFields      = []string{"name", "site", "role", "vendor", "model", "tags"}
	linkFields        = []string{"a", "b"}
	portFields        = []string{"device", "interface"}
	sessionFields     = []string{"device", "protocol", "neighbor", "interface", "peer_device"}
)

// ParseInventoryYAML parses an operator's inventory file (YAML; file names
// it in problems, data is its content) and returns every entry it could
// load and the problems it met, one per entry or field:
//
//	version: 1                       # optional
//	devices:
//	  - {name: leaf1, site: fra1, role: leaf, vendor: arista, model: 7050X3, tags: [prod]}
//	links:
//	  - {a: {device: spine1, interface: Ethernet3}, b: {device: leaf1, interface: Ethernet1}}
//	sessions:
//	  - {device: leaf1, protocol: bgp, neighbor: 10.0.0.0, interface: Ethernet1, peer_device: spine1}
//
// An unknown field is reported and ignored (the entry loads without it); a
// device listed twice keeps its first entry; a link or session naming a
// device the file does not list, or an entry that does not decode, is
// reported and left out. The rest always loads. Only a file that is not
// YAML at all gives no inventory (nil) and its one problem.
func ParseInventoryYAML(file string, data []byte) (*Inventory, []InventoryProblem) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, []InventoryProblem{{File: file, Line: 1, Problem: "cannot parse inventory: " + err.Error()}}
	}
	p := &invParser{file: file, inv: &Inventory{Version: InventoryVersion}, known: map[string]bool{}}
	if len(root.Content) == 0 {
		return p.inv, nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		p.add(top, "cannot load inventory: the file is not a mapping with devices, links and sessions")
		return p.inv, p.problems
	}
	sections := map[string]*yaml.Node{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if !p.knownField(k, "inventory", inventorySections) {
			continue
		}
		sections[k.Value] = v
	}
	if v := sections["version"]; v != nil && v.Value != fmt.Sprint(InventoryVersion) {
		p.add(v, fmt.Sprintf("inventory version %s is not supported by this build (it reads version %d); read as version %d", v.Value, InventoryVersion, InventoryVersion))
	}
	// Devices first, so links and sessions can name devices listed after them.
	p.each(sections["devices"], "devices", p.device)
	p.each(sections["links"], "links", p.link)
	p.each(sections["sessions"], "sessions", p.session)
	return p.inv, p.problems
}

type invParser struct {
	file     string
	inv      *Inventory
	known    map[string]bool
	problems []InventoryProblem
}

func (p *invParser) add(n *yaml.Node, msg string) {
	p.problems = append(p.problems, InventoryProblem{File: p.file, Line: n.Line, Problem: msg})
}

// knownField reports whether key k is one of fields, and reports it if not.
func (p *invParser) knownField(k *yaml.Node, where string, fields []string) bool {
	for _, f := range fields {
		if k.Value == f {
			return true
		}
	}
	p.add(k, fmt.Sprintf("%s: unknown field %q (known: %v); ignored", where, k.Value, fields))
	return false
}

// fields reports the unknown fields of mapping n, and whether n is a mapping.
func (p *invParser) fields(n *yaml.Node, where string, fields []string) bool {
	if n.Kind != yaml.MappingNode {
		p.add(n, where+": not a mapping; skipped")
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		p.knownField(n.Content[i], where, fields)
	}
	return true
}

func (p *invParser) each(seq *yaml.Node, name string, f func(n *yaml.Node, where string)) {
	if seq == nil {
		return
	}
	if seq.Kind != yaml.SequenceNode {
		p.add(seq, name+": not a list; skipped")
		return
	}
	for i, n := range seq.Content {
		f(n, fmt.Sprintf("%s[%d]", name, i))
	}
}

func (p *invParser) decode(n *yaml.Node, where string, v any) bool {
	err := n.Decode(v)
	if err == nil {
		return true
	}
	msg := err.Error()
	// yaml.v3 puts each of a TypeError's errors on a line of its own under
	// a heading; a problem is one line.
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msg = strings.Join(te.Errors, "; ")
	}
	p.add(n, fmt.Sprintf("%s: cannot decode: %s; skipped", where, msg))
	return false
}

// checked decodes n into v and then runs check (which reads v): false,
// with the problem noted and the entry skipped, when either fails.
func (p *invParser) checked(n *yaml.Node, where string, v any, check func() error) bool {
	if !p.decode(n, where, v) {
		return false
	}
	if err := check(); err != nil {
		p.add(n, fmt.Sprintf("%s: %v; skipped", where, err))
		return false
	}
	return true
}

func (p *invParser) device(n *yaml.Node, where string) {
	var d Device
	if !p.fields(n, where, deviceFields) || !p.checked(n, where, &d, func() error { return checkDevice(d, p.known) }) {
		return
	}
	p.known[d.Name] = true
	p.inv.Devices = append(p.inv.Devices, d)
}

func (p *invParser) link(n *yaml.Node, where string) {
	var l InvLink
	if !p.fields(n, where, linkFields) {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; v.Kind == yaml.MappingNode {
			p.fields(v, where+"."+n.Content[i].Value, portFields)
		}
	}
	if !p.checked(n, where, &l, func() error { return checkLink(l, p.known) }) {
		return
	}
	p.inv.Links = append(p.inv.Links, l)
}

func (p *invParser) session(n *yaml.Node, where string) {
	var s Session
	if !p.fields(n, where, sessionFields) || !p.checked(n, where, &s, func() error { return checkSession(s, p.known) }) {
		return
	}
	p.inv.Sessions = append(p.inv.Sessions, s)
}
