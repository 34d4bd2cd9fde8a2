package collectors

import (
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestREADMEMetrics checks README.md's "Documented metrics" table against
// the metric vocabulary (schemas.Metrics): every name a row gives exists
// with the kind the row says, and every name the collectors publish with a
// fixed kind has a row.
func TestREADMEMetrics(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "### Documented metrics")
	if i < 0 {
		t.Fatal("README.md: no Documented metrics section")
	}
	vocab := schemas.Metrics()
	seen := map[string]bool{}
	rows := 0
	for _, line := range strings.Split(doc[i:], "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 2 {
			if rows > 0 && !strings.HasPrefix(line, "|") {
				break // the end of the table
			}
			continue
		}
		rows++
		kind := strings.TrimSpace(cells[1])
		for _, name := range readmeNames(t, strings.TrimPrefix(cells[0], "| "), vocab) {
			m, ok := schemas.LookupMetric(name)
			if !ok {
				t.Errorf("README.md: %s is not in the vocabulary (schemas/metrics.go)", name)
				continue
			}
			if m.Kind.String() != kind {
				t.Errorf("README.md: %s is a %s, the vocabulary says %v", name, kind, m.Kind)
			}
			seen[m.Name] = true
		}
	}
	if rows < 10 {
		t.Fatalf("README.md: read %d rows of the metric table", rows)
	}
	for _, m := range vocab {
		if (m.Fixed || m.Name == schemas.MetricPSUInPower) && !seen[m.Name] {
			t.Errorf("README.md: the collectors publish %s (%v) but the table has no row for it", m.Name, m.Kind)
		}
	}
}

var backticked = regexp.MustCompile("`([^`]+)`")

// readmeNames expands the names of a table cell: `/a/b/{x,y}-z` (braces),
// `…/b/c` (the vocabulary name ending so) and a bare `d` (beside the
// previous name: /a/b/d).
func readmeNames(t *testing.T, cell string, vocab []schemas.MetricInfo) []string {
	t.Helper()
	var out []string
	dir := ""
	for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
		for _, item := range expandBraces(m[1]) {
			name := item
			switch {
			case strings.HasPrefix(item, "/") || strings.HasPrefix(item, "snmp:/"):
			case strings.HasPrefix(item, "…/"):
				name = ""
				for _, v := range vocab {
					if strings.HasSuffix(v.Name, item[len("…"):]) {
						if name != "" {
							t.Errorf("README.md: %s is ambiguous (%s, %s)", item, name, v.Name)
						}
						name = v.Name
					}
				}
				if name == "" {
					t.Errorf("README.md: no vocabulary name ends in %s", item)
					continue
				}
			case dir != "":
				name = dir + "/" + item
			default:
				t.Errorf("README.md: %s has no path before it", item)
				continue
			}
			dir = path.Dir(name)
			out = append(out, name)
		}
	}
	return out
}

// expandBraces expands every {a,b} group of s.
func expandBraces(s string) []string {
	i := strings.IndexByte(s, '{')
	j := strings.IndexByte(s, '}')
	if i < 0 || j < i {
		return []string{s}
	}
	var out []string
	for _, alt := range strings.Split(s[i+1:j], ",") {
		out = append(out, expandBraces(s[:i]+alt+s[j+1:])...)
	}
	return out
}
