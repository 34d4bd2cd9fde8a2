package prometheus

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dashboardFile is the Grafana dashboard on the Prometheus data source.
const dashboardFile = "../grafana/telekernel-pipeline.json"

// dsVar is the data source every panel and query must use: the
// dashboard's `datasource` variable.
const dsVar = "${datasource}"

type dataSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *dataSource `json:"datasource"`
	Targets    []struct {
		Datasource *dataSource `json:"datasource"`
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *dataSource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// query is one PromQL expression of the dashboard, named for messages.
type query struct{ where, expr string }

// queries returns the dashboard's PromQL: every panel query and the
// selector inside each query variable's label_values(...).
func (d dashboard) queries() []query {
	var qs []query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				qs = append(qs, query{fmt.Sprintf("panel %d %q query %s", p.ID, p.Title, tg.RefID), tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*\w+\)$`)
	for _, v := range d.Templating.List {
		if m := labelValues.FindStringSubmatch(v.Definition); v.Type == "query" && m != nil {
			qs = append(qs, query{"variable " + v.Name, m[1]})
		}
	}
	return qs
}

// TestDashboard: the dashboard parses, panel ids are unique, every panel
// but a row, and every query, uses the datasource variable (a Prometheus
// data source variable), and every query has an expression.
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	isVar := func(ds *dataSource) bool { return ds != nil && ds.Type == "prometheus" && ds.UID == dsVar }
	ids := map[int]string{}
	n := 0
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, dup := ids[p.ID]; dup {
				t.Errorf("panel id %d is used by %q and %q", p.ID, prev, p.Title)
			}
			ids[p.ID] = p.Title
			walk(p.Panels)
			if p.Type == "row" { // a row has no queries of its own
				continue
			}
			n++
			if !isVar(p.Datasource) {
				t.Errorf("panel %d %q: datasource %+v, want {prometheus %s}", p.ID, p.Title, p.Datasource, dsVar)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %d %q has no query", p.ID, p.Title)
			}
			for _, tg := range p.Targets {
				if !isVar(tg.Datasource) || strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %d %q query %s: datasource %+v, expr %q; want {prometheus %s} and an expr", p.ID, p.Title, tg.RefID, tg.Datasource, tg.Expr, dsVar)
				}
			}
		}
	}
	walk(d.Panels)
	if n == 0 {
		t.Fatal("the dashboard has no panels")
	}
	found := false
	for _, v := range d.Templating.List {
		switch {
		case v.Name == "datasource":
			found = v.Type == "datasource" && string(v.Query) == `"prometheus"`
		case v.Type == "query" && !isVar(v.Datasource):
			t.Errorf("variable %s: datasource %+v, want {prometheus %s}", v.Name, v.Datasource, dsVar)
		}
	}
	if !found {
		t.Error("no variable `datasource` of type datasource for prometheus")
	}
}

// TestDashboardQueriesParse has promtool check every dashboard query, with
// Grafana's variables expanded, as the expression of a recording rule.
func TestDashboardQueriesParse(t *testing.T) {
	qs := loadDashboard(t).queries()
	expand := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "${job}", "telekernel.*", "$job", "telekernel.*")
	type rec struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rec
	for i, q := range qs {
		if e := expand.Replace(q.expr); !strings.Contains(e, "$") {
			rules = append(rules, rec{fmt.Sprintf("dashboard:query_%d", i), e})
		} else {
			t.Errorf("%s: a variable the test does not expand: %s", q.where, q.expr)
		}
	}
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard.yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := runPromtool(t, dir, "check", "rules", "dashboard.yaml"); err != nil {
		t.Fatalf("promtool finds invalid dashboard queries (dashboard:query_N is the Nth of %v): %v\n%s", qs, err, res)
	}
}
