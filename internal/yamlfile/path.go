package yamlfile

import (
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// What pathAt looks for.
const (
	findKey        = iota // a mapping key named text
	findScalar            // a scalar value equal to text
	findCollection        // a list or mapping value
)

// pathAt returns the field path ("kafka.tls.ca_file", "sim.faults[0].kind")
// of the node on line that find describes; the deepest such node wins, so a
// flow mapping on one line resolves to the inner field. It returns "" when
// no node matches.
func pathAt(root *yaml.Node, line int, text string, find int) string {
	best, bestDepth := "", -1
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, depth)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, val := n.Content[i], n.Content[i+1]
				p := join(path, k.Value)
				var hit bool
				switch find {
				case findKey:
					hit = k.Line == line && k.Value == text
				case findScalar:
					hit = val.Kind == yaml.ScalarNode && val.Line == line && val.Value == text
				case findCollection:
					hit = val.Kind != yaml.ScalarNode && val.Line == line
				}
				if hit && depth > bestDepth {
					best, bestDepth = p, depth
				}
				walk(val, p, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				if find == findScalar && c.Kind == yaml.ScalarNode && c.Line == line && c.Value == text && depth > bestDepth {
					best, bestDepth = p, depth
				}
				walk(c, p, depth+1)
			}
		}
	}
	walk(root, "", 0)
	return best
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldsAt returns the YAML field names of the struct that the path leads to
// from v, or nil when the path does not lead to a struct.
func fieldsAt(v any, path string) []string {
	t := reflect.TypeOf(v)
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "[")
		t = field(deref(t), name)
		if t == nil {
			return nil
		}
		if strings.Contains(part, "[") {
			t = deref(t)
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array && t.Kind() != reflect.Map {
				return nil
			}
			t = t.Elem()
		}
	}
	var names []string
	collect(deref(t), &names)
	return names
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// yamlName returns the field's YAML name and whether it is inlined.
func yamlName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(opts, "inline") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

// field returns the type of t's field named name in YAML, looking into
// inlined structs.
func field(t reflect.Type, name string) reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("yaml") == "-" {
			continue
		}
		n, inline := yamlName(f)
		if inline {
			if ft := field(deref(f.Type), name); ft != nil {
				return ft
			}
		} else if n == name {
			return f.Type
		}
	}
	return nil
}

func collect(t reflect.Type, names *[]string) {
	if t == nil || t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("yaml") == "-" {
			continue
		}
		if n, inline := yamlName(f); inline {
			collect(deref(f.Type), names)
		} else {
			*names = append(*names, n)
		}
	}
}

// suggest returns the name in names closest to s (edit distance at most 2,
// or one being a prefix of the other), or "".
func suggest(names []string, s string) string {
	best, bestD := "", 3
	for _, n := range names {
		d := distance(n, s)
		if (strings.HasPrefix(n, s) || strings.HasPrefix(s, n)) && d > 2 {
			d = 2
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
