package yamlfile

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// reParse matches the problems of yaml.v3's scanner and parser, which come
// with a line unless the problem is on line 1 (other errors, such as an
// unknown anchor, never have one).
var reParse = regexp.MustCompile(`^(did not find|could not find|found |mapping |block sequence entries|exceeded max depth)`)

// parserProblems are the problems of yaml.v3's parser (not its scanner).
// It numbers their lines from 0, and gives the line where the enclosing
// collection starts when that is not the first line (the problem's line
// when it is); the value names the collection for a flow one.
var parserProblems = map[string]string{
	"did not find expected ',' or '}'":       "flow mapping {…}",
	"did not find expected ',' or ']'":       "flow list […]",
	"did not find expected '-' indicator":    "",
	"did not find expected key":              "",
	"did not find expected node content":     "",
	"did not find expected <document start>": "",
	"found undefined tag handle":             "",
	"found duplicate %YAML directive":        "",
	"found duplicate %TAG directive":         "",
	"found incompatible YAML document":       "",
}

// tabProblems are the scanner's problems when a line is indented with a
// tab; "cannot start any token" also has other causes.
var tabProblems = map[string]bool{
	"found a tab character that violates indentation":              true,
	"found a tab character where an indentation space is expected": true,
	"found character that cannot start any token":                  true,
}

// syntaxError turns a syntax error of yaml.v3 about data (named name) into
// one line "NAME:LINE: problem", with the line corrected where yaml.v3's is
// off by one and a tab in the indentation named as such.
func syntaxError(name string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if sm := reLine.FindStringSubmatch(msg); sm != nil {
		line, _ = strconv.Atoi(sm[1])
		msg = sm[2]
	}
	if !reParse.MatchString(msg) {
		if line > 0 {
			return fmt.Errorf("%s:%d: %s", name, line, oneLine(msg))
		}
		return fmt.Errorf("%s: %s", name, oneLine(msg))
	}
	if coll, ok := parserProblems[msg]; ok {
		line++
		if coll != "" {
			msg = flowProblem(data, line, msg, coll)
		}
	}
	line = max(line, 1)
	if last := bytes.Count(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) + 1; line > last {
		// The end of the file, after its last line break.
		line, msg = last, msg+" at the end of the file"
	}
	if tabProblems[msg] {
		// The scanner may give the line of the value before the tab's.
		if t := tabLine(data, line); t == line || t > 0 && !strings.Contains(msg, "cannot start") {
			line, msg = t, "tabs are not allowed for indentation (indent with spaces)"
		}
	}
	return fmt.Errorf("%s:%d: %s", name, line, oneLine(msg))
}

// flowProblem says where the flow collection coll that lacks a ',' or its
// closing bracket starts: yaml.v3 gives its line, unless it starts on the
// first line (then the line of the problem), which is so when the first
// line alone does not parse.
func flowProblem(data []byte, line int, msg, coll string) string {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	var n yaml.Node
	if line > 1 && yaml.Unmarshal(first, &n) != nil {
		return fmt.Sprintf("%s in the %s that starts at line 1", msg, coll)
	}
	return fmt.Sprintf("%s in the %s that starts on this line", msg, coll)
}

// tabLine returns the first line from line on (counting from 1) whose
// indentation holds a tab, or 0.
func tabLine(data []byte, line int) int {
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 >= line && strings.Contains(l[:len(l)-len(strings.TrimLeft(l, " \t"))], "\t") {
			return i + 1
		}
	}
	return 0
}
