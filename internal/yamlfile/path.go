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
// and the node on line that find describes; the deepest such node wins, so a
// flow mapping on one line resolves to the inner field. Nodes in used are
// skipped (two values that look alike on one line are two errors), and the
// node found is added to used. It returns "", nil when no node matches.
//
// A scalar's text may be yaml.v3's shortening of it: a value over 10 bytes
// is quoted as its first 7 and "...", which then matches by prefix.
func pathAt(root *yaml.Node, line int, text string, find int, used map[*yaml.Node]bool) (string, *yaml.Node) {
	best, bestDepth := "", -1
	var bestNode *yaml.Node
	scalar := func(n *yaml.Node) bool {
		if n.Kind != yaml.ScalarNode || n.Line != line || used[n] {
			return false
		}
		if p, ok := strings.CutSuffix(text, "..."); ok && len(p) == 7 && len(n.Value) > 10 {
			return strings.HasPrefix(n.Value, p)
		}
		return n.Value == text
	}
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
				hit, node := false, val
				switch find {
				case findKey:
					hit, node = k.Line == line && k.Value == text && !used[k], k
				case findScalar:
					hit = scalar(val)
				case findCollection:
					hit = val.Kind != yaml.ScalarNode && val.Line == line && !used[val]
				}
				if hit && depth > bestDepth {
					best, bestDepth, bestNode = p, depth, node
				}
				walk(val, p, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				if find == findScalar && scalar(c) && depth > bestDepth {
					best, bestDepth, bestNode = p, depth, c
				}
				walk(c, p, depth+1)
			}
		}
	}
	walk(root, "", 0)
	if bestNode != nil {
		used[bestNode] = true
	}
	return best, bestNode
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
	t := typeAt(v, path)
	if t == nil {
		return nil
	}
	var names []string
	collect(deref(t), &names)
	return names
}

// typeAt returns the type of the field that the path leads to from v, or
// nil when there is none.
func typeAt(v any, path string) reflect.Type {
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
	return t
}

// pathOfType returns the path of a mapping's value on line, a scalar or a
// list, whose field has type want, "" when there is none: a value refused
// unread (a secret) is found by its field's type, since a flow mapping may
// hold several values on one line.
func pathOfType(root *yaml.Node, line int, v any, want reflect.Type) string {
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, path); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, val := n.Content[i], n.Content[i+1]
				p := join(path, k.Value)
				if val.Kind != yaml.MappingNode && val.Line == line && deref(typeAt(v, p)) == want {
					return p
				}
				if p := walk(val, p); p != "" {
					return p
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if p := walk(c, path+"["+strconv.Itoa(i)+"]"); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return walk(root, "")
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

// Suggest returns the name in names closest to s (edit distance at most
// 2, or one being a prefix of the other), or "": the "did you mean" of a
// misspelt field, or of a command's flag.
func Suggest(names []string, s string) string {
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
