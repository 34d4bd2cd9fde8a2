// Package yamlfile decodes telekernel's YAML files strictly, with errors
// that name the file, the line and the field at fault.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode decodes data (named name in errors) into v: unknown fields are
// errors, and an empty document leaves v as it is. Then it calls check
// (apply defaults, validate). An error of check that starts with a field
// path ("gnmi.targets[2].address: ...") is returned as
// "NAME:LINE: path: ...", LINE being that of the deepest node along the path
// present in the document (a field left to its default points at its
// parent).
func Decode(name string, data []byte, v any, check func() error) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %s", name, oneLine(err))
	}
	if err := check(); err != nil {
		path, _, _ := strings.Cut(err.Error(), ":")
		if line := lineOf(&root, path); line > 0 {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// oneLine turns "yaml: unmarshal errors:\n  line 3: field x not found in
// type config.Sim" into "line 3: field x not found".
func oneLine(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
		if j := strings.Index(lines[i], " in type "); j > 0 {
			lines[i] = lines[i][:j]
		}
	}
	return strings.Join(lines, "; ")
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
