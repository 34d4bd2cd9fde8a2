package prometheus

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// PromQL's keywords, which read like identifiers; functions are told by
// the parenthesis after them.
var promqlKeywords = []string{"and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}

var (
	quoted    = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	braced    = regexp.MustCompile(`\{[^{}]*\}|\[[^\[\]]*\]`)
	grouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	variables = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	token     = regexp.MustCompile(`[0-9][0-9.eE+]*[a-zA-Z]*|[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// metricNames returns the metric names a PromQL expression selects: its
// identifiers once strings, label matchers, ranges, grouping clauses and
// Grafana variables are taken out, less keywords, numbers, durations and
// function names (an identifier followed by a parenthesis). A misspelt
// function is taken for a function too; promtool's check rejects it.
func metricNames(expr string) []string {
	e := quoted.ReplaceAllString(expr, `""`)
	e = variables.ReplaceAllString(e, " ")
	for prev := ""; prev != e; {
		prev, e = e, braced.ReplaceAllString(e, " ")
	}
	e = grouping.ReplaceAllString(e, " ")
	var names []string
	for _, m := range token.FindAllStringSubmatch(e, -1) {
		tok := m[0]
		switch {
		case m[1] != "", tok[0] >= '0' && tok[0] <= '9':
		case slices.Contains(promqlKeywords, strings.ToLower(tok)):
		default:
			if !slices.Contains(names, tok) {
				names = append(names, tok)
			}
		}
	}
	return names
}

func TestMetricNames(t *testing.T) {
	f := func(expr string, want ...string) {
		t.Helper()
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %q, want %q", expr, got, want)
		}
	}
	f(`up{job=~"telekernel.*"} == 0`, "up")
	f(`sum by (stage, le) (rate(a_bucket{job=~"$job", x="b{c}"}[$__rate_interval]))`, "a_bucket")
	f(`a / clamp_min(rate(b[5m]), 1) > 3e2`, "a", "b")
	f(`increase(a[10m]) > 0 or (a unless a offset 10m)`, "a")
	f(`sum without (result) (rate(x{result="error"}[10m])) / on(job) group_left() y`, "x", "y")
	f(`histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > bool 4`, "h_bucket")
	f(`rat(a[5m])`, "a") // rat is taken for a function: promtool rejects the typo
	f(`telekernl_stage_lag_records > 1`, "telekernl_stage_lag_records")
}
