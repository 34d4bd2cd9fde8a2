package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// amRecorder forwards Alertmanager API requests to the real Alertmanager
// and records the label sets of the alerts posted.
type amRecorder struct {
	mu     sync.Mutex
	posted []map[string]string
}

func (rec *amRecorder) handler(t *testing.T, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost {
			var as []struct{ Labels map[string]string }
			if err := json.Unmarshal(body, &as); err != nil {
				t.Errorf("alertmanager request: %v", err)
			}
			rec.mu.Lock()
			for _, a := range as {
				rec.posted = append(rec.posted, a.Labels)
			}
			rec.mu.Unlock()
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
}

// TestIncidentOutputsLinkDown runs `telekernel run --kafka … --clickhouse
// …` with Alertmanager configured (through a recording proxy) on the
// services of deploy/local, with a simulated link failure that lasts to
// the end of the run: exactly one link incident row in ClickHouse (FINAL),
// open, with its members; exactly one alert label set posted for it
// (although the incident opened as a session reset on sim-02 and became
// the link failure once sim-00's end joined), and Alertmanager shows
// exactly that one alert active, its fingerprint schemas.Fingerprint of
// the labels and its cause_kind annotation link; the inventory table
// holds the simulated fleet; and `telekernel report --incident ID` draws
// it.
func TestIncidentOutputsLinkDown(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	chAddr := testenv.Service(t, "TK_CLICKHOUSE")
	amURL := testenv.Service(t, "TK_ALERTMANAGER")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "it-incout-" + hex.EncodeToString(b)
	db := strings.ReplaceAll(prefix, "-", "_")
	rec := &amRecorder{}
	proxy := httptest.NewServer(rec.handler(t, amURL))
	defer proxy.Close()
	cfg := fmt.Sprintf(`stages: [detect, correlate, clickhouse, alertmanager]
kafka: {brokers: [%[4]q]}
topics: {samples: %[1]s.samples, detections: %[1]s.detections, dead_letters: %[1]s.dlq, alert_state: %[1]s.alerts, group_prefix: %[1]s, partitions: 3}
correlate: {topic: %[1]s.incidents, input: %[1]s.incidents.input}
inventory: {topic: %[1]s.inventory}
clickhouse: {database: %[2]s}
alertmanager: {url: %[3]q}
sim:
  devices: 6
  interfaces: 4
  topology: {spines: 2}
  speed: .inf
  backfill: 3h
  span: 3h
  faults:
    - {device: sim-02, interface: Ethernet1, kind: link_down, after: 1h, duration: 3h}
parquet: {enabled: false}
http: {listen: "off"}
log: {level: warn}
`, prefix, db, proxy.URL, broker)
	path := filepath.Join(t.TempDir(), "incout.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	if code := execute(ctx, []string{"run", "-c", path, "--kafka", broker, "--clickhouse", chAddr, "--no-tui"}, &out, &errs); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out.String(), tail(errs.String(), 20))
	}
	ch, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{chAddr}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if os.Getenv("TK_KEEP") == "" {
			_ = ch.DropDatabase(context.Background())
		}
		ch.Close()
	}()
	rows := chRows(t, fmt.Sprintf("SELECT id, state, rule, cause, members FROM %s.incidents FINAL ORDER BY opened_at, id", db))
	var links [][]any
	for _, r := range rows {
		t.Logf("incident row %v", r)
		if r[2] == schemas.RuleLink {
			links = append(links, r)
		}
	}
	if len(links) != 1 || links[0][1] != schemas.IncidentOpen || !strings.Contains(fmt.Sprint(links[0][3]), "sim-02:Ethernet1") {
		t.Fatalf("incidents FINAL: %d link rows %v, want exactly 1, open, naming sim-02:Ethernet1", len(links), links)
	}
	id := links[0][0].(string)
	if m, _ := strconv.Atoi(fmt.Sprint(links[0][4])); m < 5 {
		t.Errorf("the link incident has %d members, want at least 5 (both ends' oper-status, traffic, sessions)", m)
	}
	if m := chRows(t, fmt.Sprintf("SELECT count() FROM %s.incident_members FINAL WHERE incident_id = '%s'", db, id)); fmt.Sprint(m[0][0]) != fmt.Sprint(links[0][4]) {
		t.Errorf("incident_members holds %v rows of %s, incidents.members says %v", m[0][0], id, links[0][4])
	}
	if n, err := ch.Count(ctx, schemas.TableInventory); err != nil || n != 6 {
		t.Errorf("inventory holds %d devices (%v), want the 6 simulated", n, err)
	}

	// Its timeline, from the incidents topic.
	out.Reset()
	if code := execute(ctx, []string{"report", "--incident", id, "-c", path, "--out", t.TempDir()}, &out, &errs); code != 0 {
		t.Errorf("report --incident: exit %d\n%s", code, tail(errs.String(), 5))
	} else if f := strings.TrimSpace(out.String()); !strings.HasSuffix(f, "incident-"+id+".png") {
		t.Errorf("report --incident wrote %q", f)
	} else if st, err := os.Stat(f); err != nil || st.Size() < 10_000 {
		t.Errorf("report --incident: %s: %v, %v bytes", f, err, st)
	}

	// One label set posted for the incident, and Alertmanager shows one alert.
	rec.mu.Lock()
	sets := map[string]map[string]string{}
	for _, l := range rec.posted {
		if l["incident_id"] == id {
			sets[schemas.Fingerprint(l)] = l
		}
		if l["alertname"] != alertmanager.IncidentAlertName {
			t.Errorf("posted a non-incident alert %v (source is incidents by default with correlate on)", l)
		}
	}
	rec.mu.Unlock()
	if len(sets) != 1 {
		t.Fatalf("posted %d label sets for incident %s, want 1: %v", len(sets), id, sets)
	}
	q := url.Values{"filter": {`incident_id="` + id + `"`}}
	resp, err := http.Get(amURL + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var active []struct {
		Fingerprint string
		Annotations map[string]string
	}
	if err := json.NewDecoder(resp.Body).Decode(&active); err != nil {
		t.Fatal(err)
	}
	for fp := range sets {
		if len(active) != 1 || active[0].Fingerprint != fp || active[0].Annotations["cause_kind"] != schemas.RuleLink {
			t.Errorf("Alertmanager's alerts of incident %s: %+v, want exactly one with fingerprint %s, its current cause kind link", id, active, fp)
		}
	}
}

// chRows runs query on the test server's HTTP interface and returns its
// rows.
func chRows(t *testing.T, query string) [][]any {
	t.Helper()
	base := os.Getenv("TK_CLICKHOUSE_HTTP")
	if base == "" {
		base = "http://127.0.0.1:8123"
	}
	body := chQuery(t, base, query+" FORMAT JSONCompact")
	var res struct{ Data [][]any }
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("clickhouse: %v\n%s", err, body)
	}
	return res.Data
}
