// Package yamlfile decodes telekernel's YAML files strictly, with errors
// that name the file, the line and the field at fault.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/internal/oneline"
	"github.com/telekernel/telekernel/internal/secret"
)

// Decode decodes data (named name in errors) into v: unknown fields are
// errors, and an empty document leaves v as it is. Then it calls check
// (apply defaults, validate). Every error names the file, the line and the
// field: a decode error (unknown field, wrong type) is returned as
// "NAME:LINE: path: problem" with a suggestion where one helps (a near field
// name, a duration unit), and an error of check that starts with a field
// path ("gnmi.targets[2].address: ...") as "NAME:LINE: path: ...", LINE
// being that of the deepest node along the path present in the document (a
// field left to its default points at its parent).
func Decode(name string, data []byte, v any, check func() error) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return syntaxError(name, data, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return decodeError(name, &root, v, te.Errors)
		}
		return syntaxError(name, data, err)
	}
	for {
		// Only the first document is read: a file of several (joined
		// with "---", as Kubernetes manifests are) would lose the rest.
		// An empty one (a trailing "---") holds nothing to lose.
		var next yaml.Node
		if err := dec.Decode(&next); err != nil {
			break
		}
		if !emptyDoc(&next) {
			return fmt.Errorf("%s:%d: a second YAML document; a config file holds one (merge them, or split the file)", name, docLine(data, &next))
		}
	}
	if err := check(); err != nil {
		path, _, _ := strings.Cut(err.Error(), ":")
		if line := lineOf(&root, path); line > 0 {
			return fmt.Errorf("%s:%d: %w", name, line, oneline.Error{Err: err})
		}
		return fmt.Errorf("%s: %w", name, oneline.Error{Err: err})
	}
	return nil
}

// emptyDoc reports whether document n holds nothing but null.
func emptyDoc(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || c.Tag != "!!null" {
			return false
		}
	}
	return true
}

// docLine returns the line of the "---" that starts document n of data,
// or n's first line if none is found before it.
func docLine(data []byte, n *yaml.Node) int {
	line := n.Line
	if len(n.Content) > 0 {
		line = n.Content[0].Line
	}
	lines := strings.Split(string(data), "\n")
	for l := min(line, len(lines)); l >= 1; l-- {
		if strings.HasPrefix(lines[l-1], "---") {
			return l
		}
	}
	return line
}

var (
	reLine    = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	reUnknown = regexp.MustCompile(`(?s)^field (.+?) not found in type `)
	reType    = regexp.MustCompile("(?s)^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")
)

// decodeError turns yaml.v3's "line 3: field x not found in type config.Sim"
// messages into "NAME:3: sim.x: unknown field (did you mean y?)", all on one
// line.
func decodeError(name string, root *yaml.Node, v any, msgs []string) error {
	out := make([]string, 0, len(msgs))
	used := map[*yaml.Node]bool{}
	for _, m := range msgs {
		sm := reLine.FindStringSubmatch(m)
		if sm == nil {
			out = append(out, name+": "+oneLine(m))
			continue
		}
		line, _ := strconv.Atoi(sm[1])
		msg := sm[2]
		if um := reUnknown.FindStringSubmatch(msg); um != nil {
			path, _ := pathAt(root, line, um[1], findKey, used)
			msg = "unknown field"
			if s := Suggest(fieldsAt(v, parentOf(path)), um[1]); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			out = append(out, at(name, line, path, msg))
			continue
		}
		if tm := reType.FindStringSubmatch(msg); tm != nil {
			find := findScalar
			if tm[1] == "seq" || tm[1] == "map" {
				find = findCollection
			}
			path, node := pathAt(root, line, tm[2], find, used)
			value := tm[2]
			if node != nil && find == findScalar {
				value = node.Value // yaml.v3 shortens a long one
			}
			out = append(out, at(name, line, path, typeProblem(tm[1], value, tm[3])))
			continue
		}
		if strings.HasPrefix(msg, secret.PlainRefused) || strings.HasPrefix(msg, secret.WantSource) {
			// The field, found without reading the value it refused.
			path := pathOfType(root, line, v, reflect.TypeOf(secret.Source{}))
			out = append(out, at(name, line, path, msg))
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s", name, line, oneLine(msg)))
	}
	return errors.New(strings.Join(out, "; "))
}

// oneLine writes the line breaks of a message that quotes the file (a
// multi-line value) as \n, so an error stays on one line.
func oneLine(msg string) string { return strings.ReplaceAll(msg, "\n", `\n`) }

// at formats "NAME:LINE: path: msg", without the path when it is unknown,
// on one line (a map key in the path may span several).
func at(name string, line int, path, msg string) string {
	if path == "" {
		return oneLine(fmt.Sprintf("%s:%d: %s", name, line, msg))
	}
	return oneLine(fmt.Sprintf("%s:%d: %s: %s", name, line, path, msg))
}

// typeProblem says why a value of YAML tag tag cannot be a goType, naming
// the type in the words of the README rather than Go's.
func typeProblem(tag, value, goType string) string {
	want := typeName(goType)
	shown := strconv.Quote(value)
	if strings.Contains(value, "@") || strings.Contains(value, "://") {
		// user:password@host, or a URL that may carry one: not repeated
		// into logs, as kafka.brokers and alertmanager.url are not.
		shown = "a value that may hold a password (not shown)"
	}
	switch {
	case tag == "seq":
		return fmt.Sprintf("a list where %s belongs", want)
	case tag == "map":
		return fmt.Sprintf("a section where %s belongs", want)
	case goType == "time.Duration" && tag == "int":
		return fmt.Sprintf("%s is not a duration: give a unit, e.g. %ss (or %sms, %sm)", value, value, value, value)
	case goType == "time.Duration":
		return fmt.Sprintf("%s is not a duration like 10s, 1m30s or 500ms", shown)
	case goType == "time.Time":
		return fmt.Sprintf("%s is not a time like 2026-11-23T10:00:00Z", shown)
	case strings.HasPrefix(goType, "[]"):
		return fmt.Sprintf("%s is not a list (write [a, b] or one \"- item\" per line)", shown)
	case want == "a section":
		return fmt.Sprintf("%s is not a section (write its fields indented below it)", shown)
	case goType == "bool":
		return fmt.Sprintf("%s is not true or false", shown)
	case tag == "int" && strings.HasPrefix(want, "an integer"):
		// An integer yaml.v3 could not fit: too large, or negative
		// where only 0 and up are allowed.
		return fmt.Sprintf("%s is out of range for %s", value, want)
	}
	return fmt.Sprintf("%s is not %s", shown, want)
}

// typeName names a Go type of a config field the way a user writing the
// file thinks of it: "an integer", "a number", "a list".
func typeName(goType string) string {
	switch goType {
	case "int", "int8", "int16", "int32", "int64":
		return "an integer"
	case "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer of 0 or more"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "time.Duration":
		return "a duration"
	case "time.Time":
		return "a time"
	}
	if strings.HasPrefix(goType, "[]") {
		return "a list"
	}
	if strings.HasPrefix(goType, "map[") || strings.Contains(goType, ".") {
		return "a section"
	}
	return "a " + goType
}

// parentOf returns the path without its last element.
func parentOf(path string) string {
	if i := strings.LastIndexAny(path, ".["); i > 0 {
		if path[i] == '[' {
			return parentOf(path[:i])
		}
		return path[:i]
	}
	return ""
}

// lineOf returns the line of the deepest node along a path like
// "gnmi.targets[2].address" that exists in the document, or 0.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i > 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		if n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, next = n.Content[i].Line, n.Content[i+1]
			}
		}
		if next == nil {
			break
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				break
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}
