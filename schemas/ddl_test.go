package schemas

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The package's -update flag rewrites golden files. Another test file of the
// package may declare it already; declare it here only if not, so either file
// works alone. Package-level variables are initialised before init runs.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

// updateGolden reports whether the test binary runs with -update.
func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestClickHouseDDLGolden compares the generated DDL of both layouts with
// testdata/ddl/*.sql. Run `go test ./schemas -run Golden -update` after an
// intended change and review the diff.
func TestClickHouseDDLGolden(t *testing.T) {
	f := func(name, version string, opts DDLOptions) {
		t.Helper()
		v, err := ParseServerVersion(version)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(ClickHouseDDL("telekernel", v, opts), ";\n\n") + ";\n"
		path := filepath.Join("testdata", "ddl", name+".sql")
		if updateGolden() {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s: generated DDL differs from %s (run with -update if intended):\n%s", name, path, got)
		}
	}
	f("legacy_18.16", "18.16.1", DDLOptions{})
	f("modern_24.8", "24.8.2.3", DDLOptions{})
	f("modern_ttl7_detections90", "24.8.2.3", DDLOptions{TTLDays: 7, DetectionsTTLDays: 90})
	f("modern_rollups_forever_400", "24.8.2.3", DDLOptions{MinuteRollupTTLDays: -1, HourRollupTTLDays: 400})
	f("legacy_18.16_cluster", "18.16.1", DDLOptions{Cluster: "tk_2s1r"})
	f("modern_24.8_cluster_path", "24.8.2.3", DDLOptions{Cluster: "tk_1s2r", ReplicaPath: "/clickhouse/tables/tk_1s2r/1"})
}

func TestParseServerVersion(t *testing.T) {
	f := func(in string, want ServerVersion) {
		t.Helper()
		got, err := ParseServerVersion(in)
		if err != nil {
			t.Fatalf("ParseServerVersion(%q): %v", in, err)
		}
		if got != want {
			t.Errorf("ParseServerVersion(%q) = %v, want %v", in, got, want)
		}
	}
	f("18.16.1", ServerVersion{18, 16, 1})
	f("24.8.2.3", ServerVersion{24, 8, 2})
	f("v24.8.2.3-lts", ServerVersion{24, 8, 2})
	f("21.8", ServerVersion{21, 8, 0})
	f(" 26.9.2.1 ", ServerVersion{26, 9, 2})
	f("23.3.1.2823-stable", ServerVersion{23, 3, 1})

	for _, bad := range []string{"", "18", "x.y.z", "ClickHouse", "-1.2.3"} {
		if _, err := ParseServerVersion(bad); err == nil {
			t.Errorf("ParseServerVersion(%q): no error", bad)
		}
	}
}

func TestChooseLayout(t *testing.T) {
	f := func(v ServerVersion, want Layout) {
		t.Helper()
		if got := ChooseLayout(v); got != want {
			t.Errorf("ChooseLayout(%v) = %v, want %v", v, got, want)
		}
	}
	f(ServerVersion{18, 16, 1}, LayoutLegacy)
	f(ServerVersion{20, 3, 0}, LayoutLegacy)
	f(ServerVersion{21, 7, 9}, LayoutLegacy)
	f(ServerVersion{21, 8, 0}, LayoutModern)
	f(ServerVersion{22, 1, 0}, LayoutModern)
	f(ServerVersion{24, 8, 2}, LayoutModern)
	f(ServerVersion{26, 9, 2}, LayoutModern)
}

func TestClickHouseDDLLayoutOverride(t *testing.T) {
	// A forced legacy layout on a modern server uses no modern feature.
	for _, s := range ClickHouseDDL("telekernel", ServerVersion{24, 8, 0}, DDLOptions{Layout: LayoutLegacy}) {
		for _, modern := range []string{"DateTime64", "LowCardinality", "CODEC", "TTL"} {
			if strings.Contains(s, modern) {
				t.Errorf("legacy DDL uses %s:\n%s", modern, s)
			}
		}
	}
	// A negative TTL disables it, for the table it is about.
	for _, s := range ClickHouseDDL("telekernel", ServerVersion{24, 8, 0}, DDLOptions{TTLDays: -1, MinuteRollupTTLDays: -1}) {
		if strings.Contains(s, "\nTTL ") {
			t.Errorf("TTLDays -1 and MinuteRollupTTLDays -1 still have a TTL:\n%s", s)
		}
	}
	// Every table and view has a statement, in dependency order.
	var order []string
	for _, s := range ClickHouseDDL("telekernel", ServerVersion{18, 16, 1}, DDLOptions{}) {
		for _, name := range []string{TableSamples, TableDetections, TableSchemaVersion, TablePower, TableMaintenance, TableSamples1m, ViewSamples1m, TableSamples1h, ViewSamples1h} {
			if strings.Contains(s, "IF NOT EXISTS telekernel."+name+"\n") || strings.Contains(s, "IF NOT EXISTS telekernel."+name+" TO") {
				order = append(order, name)
			}
		}
	}
	if got := strings.Join(order, ","); got != "samples,detections,schema_version,power,maintenance,samples_1m,samples_1m_mv,samples_1h,samples_1h_mv" {
		t.Errorf("statement order %s", got)
	}
}

func TestClickHouseColumns(t *testing.T) {
	f := func(table string, l Layout, want string) {
		t.Helper()
		got := strings.Join(ClickHouseColumns(table, l), ",")
		if got != want {
			t.Errorf("ClickHouseColumns(%q, %v) = %s, want %s", table, l, got, want)
		}
	}
	f(TableSamples, LayoutModern, "ts,device,metric,keys,kind,value_u64,value_f64,value_str,source")
	f(TableSamples, LayoutLegacy, "ts,ts_frac,device,metric,keys,kind,value_u64,value_f64,value_str,source")
	f(TableDetections, LayoutModern, "id,version,event_time,detected_at,state,device,metric,keys,detector,detectors,score,severity,observed,expected,band_lower,band_upper,starts_at,ends_at,fingerprint,labels,annotations")
	f(TableDetections, LayoutLegacy, "id,version,event_time,event_time_frac,detected_at,detected_at_frac,state,device,metric,keys,detector,detectors,score,severity,observed,expected,band_lower,band_upper,starts_at,starts_at_frac,ends_at,ends_at_frac,fingerprint,labels,annotations")
	f(TableSchemaVersion, LayoutLegacy, "table_name,version,layout,applied_at")
	if got := ClickHouseColumns("nope", LayoutModern); got != nil {
		t.Errorf("unknown table: %v", got)
	}
	f(TablePower, LayoutModern, "window_start,window_end,device,model,row,component,measured_w,modelled_w,energy_wh,utilisation,speed_bps,reason,residual_z,samples,fit_points,detail")
	f(TableMaintenance, LayoutLegacy, "id,version,key,state,event_time,event_time_frac,detected_at,detected_at_frac,opened_at,opened_at_frac,closed_at,closed_at_frac,close_reason,device,component,metric,signal,unit,value,slope_per_hour,threshold,threshold_source,direction,predicted_failure,interval_earliest,interval_latest,confidence,lead_time_seconds,severity,summary")
	// Every column of the power Arrow contract is in both layouts.
	for _, l := range []Layout{LayoutModern, LayoutLegacy} {
		cols := strings.Join(ClickHouseColumns(TablePower, l), ",") + ","
		for _, f := range PowerSchema().Fields() {
			if !strings.Contains(cols, f.Name+",") {
				t.Errorf("%v power table lacks Arrow column %s", l, f.Name)
			}
		}
	}
	// Every samples column of the Arrow contract is in both layouts.
	for _, l := range []Layout{LayoutModern, LayoutLegacy} {
		cols := ClickHouseColumns(TableSamples, l)
		for _, f := range SamplesSchema().Fields() {
			found := false
			for _, c := range cols {
				found = found || c == f.Name
			}
			if !found {
				t.Errorf("%v samples table lacks Arrow column %s", l, f.Name)
			}
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
	f("telekernel", "telekernel")
	f("tk_test_01", "tk_test_01")
	f("my-db", "`my-db`")
	f("a`b", "`a\\`b`")
	f("1db", "`1db`")
}

func TestParseLayout(t *testing.T) {
	for _, l := range []Layout{LayoutAuto, LayoutModern, LayoutLegacy} {
		got, err := ParseLayout(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLayout(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLayout("new"); err == nil {
		t.Error("ParseLayout(new): no error")
	}
	if got := reflect.TypeOf(DDLOptions{}).NumField(); got != 7 {
		t.Errorf("DDLOptions has %d fields; update the golden cases", got)
	}
}
