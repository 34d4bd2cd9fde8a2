package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// linkDownConfig writes a config running detect and correlate on a real
// Kafka with topics and groups of their own: a fabric of 2 spines and 4
// leaves for 3 simulated hours, as fast as the pipeline takes, with one
// link failure (sim-02 Ethernet1, 5 minutes, at 1 h).
func linkDownConfig(t *testing.T, broker string) (path, prefix string) {
	t.Helper()
	return correlateRunConfig(t, broker, "3h", "{}", `
    - {device: sim-02, interface: Ethernet1, kind: link_down, after: 1h, duration: 5m}`)
}

// correlateRunConfig writes a config running detect and correlate on a
// real Kafka with topics and groups of their own (3 partitions): a fabric
// of 2 spines and 4 leaves simulated for span, as fast as the pipeline
// takes, with the sim options opts (a YAML flow mapping merged in, which
// may set another fleet) and the YAML list of faults. The whole span is a
// backfill at full speed, in which one detections partition may run any
// amount of event time ahead of another, so the engine's lateness is the
// span (docs/how-it-works.md, "Incidents").
func correlateRunConfig(t *testing.T, broker, span, opts, faults string) (path, prefix string) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix = "it-correlate-" + hex.EncodeToString(b)
	cfg := fmt.Sprintf(`stages: [detect, correlate]
kafka: {brokers: [%q]}
topics: {samples: %[2]s.samples, detections: %[2]s.detections, dead_letters: %[2]s.dlq, group_prefix: %[2]s, partitions: 3}
correlate: {topic: %[2]s.incidents, input: %[2]s.incidents.input, engine: {lateness: %[3]s}}
inventory: {topic: %[2]s.inventory}
sim:
  <<: [%[5]s, {devices: 6, interfaces: 4, topology: {spines: 2}}]
  speed: .inf
  backfill: %[3]s
  span: %[3]s
  faults:%[4]s
parquet: {enabled: false}
http: {listen: "off"}
log: {level: warn}
`, broker, prefix, span, faults, opts)
	path = filepath.Join(t.TempDir(), "correlate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, prefix
}

// scenarioFaults is backtest/incidenteval's 11-hour scenario (TestSimIncidents).
const scenarioFaults = `
    - {device: sim-02, interface: Ethernet1, kind: link_down, after: 1h, duration: 5m}
    - {device: sim-03, interface: Ethernet2, kind: link_flap, after: 1h40m, duration: 10m, flaps: 5}
    - {device: sim-04, interface: Ethernet1, kind: bgp_reset, after: 2h20m}
    - {device: sim-05, interface: Ethernet2, kind: reroute, after: 3h, duration: 20m}
    - {device: sim-02, interface: Ethernet3, kind: traffic_spike, after: 3h40m, duration: 10m}
    - {device: sim-03, interface: Ethernet4, kind: traffic_drop, after: 4h20m, duration: 30m}
    - {device: sim-04, interface: Ethernet3, kind: rx_errors, after: 5h, duration: 1h}
    - {device: sim-05, interface: Ethernet4, kind: counter_reset, after: 6h20m}
    - {device: sim-04, interface: Ethernet4, kind: link_flap, after: 7h, duration: 4m}
    - {device: sim-02, interface: Ethernet4, kind: optic_degradation, after: 6h40m, duration: 2h}
    - {device: sim-02, component: Fan1, kind: fan_failure, after: 8h, duration: 1h, precursor: 2h}
    - {device: sim-03, component: PSU2, kind: psu_degradation, after: 8h30m, duration: 1h, precursor: 2h}
    - {device: sim-01, kind: bgp_reset, after: 9h30m}
    - {device: sim-05, interface: Ethernet3, kind: traffic_spike, after: 10h, duration: 10m}
    - {device: sim-05, interface: Ethernet4, kind: traffic_spike, after: 10h, duration: 10m}`

// TestIncidentsScenarioStream runs the 11-hour scenario of
// backtest/incidenteval (every fault kind, a 2-port surge, a BGP clear of
// a spine) through detect and correlate on real Kafka, the simulator at
// full speed, so detections of one instant reach the engine from 3
// detections partitions in any order and partitions drift apart: the
// incidents not merged into another are the 13 of the offline evaluation
// in event-time order (4 link, 2 session, 3 traffic, 3 hardware: the
// optic's drift, the fan and the PSU, 1 surge), and the summary counts 13.
func TestIncidentsScenarioStream(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	path, _ := correlateRunConfig(t, broker, "11h", "{power: true, transceivers: true}", scenarioFaults)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	if code := execute(ctx, []string{"run", "-c", path, "--no-tui"}, &out, &errs); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out.String(), tail(errs.String(), 20))
	}
	if !strings.Contains(out.String(), " 13 incidents (") {
		t.Errorf("the summary does not count 13 incidents: %s", out.String())
	}
	rules := map[string]int{}
	incs := listIncidents(ctx, t, path, "--all")
	for _, in := range incs {
		rules[in.Rule]++
	}
	want := map[string]int{schemas.RuleLink: 4, schemas.RuleSession: 2, schemas.RuleTraffic: 3, schemas.RuleHardware: 3, schemas.RuleSurge: 1}
	if len(incs) != 13 || !maps.Equal(rules, want) {
		for _, in := range incs {
			t.Logf("%s %s [%s] %s (%d evidence)", in.ID, in.OpenedAt.Format(time.TimeOnly), in.Rule, in.Cause, len(in.Evidence))
		}
		t.Errorf("%d incidents %v, want 13 %v", len(incs), rules, want)
	}
}

// TestIncidentsLinkDown runs a simulated link failure through detect and
// correlate (`telekernel run`) on real Kafka, then lists the incidents
// (`telekernel incidents --all --json`): exactly one incident, the link's,
// its cause naming both ends of the link (from the simulated fleet's
// inventory), the faulted interface among its entities, resolved; the open
// list (the link came back) does not show it. Detections of the failure's
// instant reach the engine from several detections partitions in any
// order; one that arrives before the link state (a device's
// established-neighbors count) opens an incident that the link incident
// absorbs: listed with --merged only, naming the link incident.
func TestIncidentsLinkDown(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	path, _ := linkDownConfig(t, broker)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	if code := execute(ctx, []string{"run", "-c", path, "--no-tui"}, &out, &errs); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out.String(), tail(errs.String(), 20))
	}
	if !strings.Contains(out.String(), "incidents (") {
		t.Errorf("the summary does not count incidents: %s", out.String())
	}
	incs := listIncidents(ctx, t, path, "--all", "--merged")
	fleet, err := sim.New(sim.Config{Devices: 6, Interfaces: 4, Topology: sim.Topology{Spines: 2}, Start: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	peer, ok := fleet.Inventory().Index().Peer(schemas.Port{Device: "sim-02", Interface: "Ethernet1"})
	if !ok {
		t.Fatal("sim-02 Ethernet1 has no link in the simulated fleet")
	}
	var kept []*schemas.Incident
	for _, in := range incs {
		t.Logf("%s %s [%s] %s (%d evidence) merged into %q", in.ID, in.State, in.Rule, in.Cause, len(in.Evidence), in.MergedInto)
		if in.MergedInto == "" {
			kept = append(kept, in)
		}
	}
	if len(kept) != 1 || kept[0].Rule != schemas.RuleLink {
		for _, in := range kept {
			for _, ev := range in.Evidence {
				t.Logf("  %s: %s %s %s %s %s %s %s", in.ID, ev.Time.Format(time.TimeOnly), ev.Role, ev.State, ev.Device, ev.Metric, ev.Keys, ev.Detector)
			}
		}
		t.Fatalf("%d incidents not merged, want exactly 1, the link's", len(kept))
	}
	in := kept[0]
	for _, m := range incs {
		if m.MergedInto != "" && (m.MergedInto != in.ID || m.State != schemas.IncidentResolved) {
			t.Errorf("incident %s merged into %s (%s), want into the link incident %s, resolved", m.ID, m.MergedInto, m.State, in.ID)
		}
	}
	if shown := listIncidents(ctx, t, path, "--all"); len(shown) != 1 || shown[0].ID != in.ID {
		t.Errorf("incidents --all lists %d, want only the link incident", len(shown))
	}
	if !strings.Contains(in.Cause, "sim-02:Ethernet1") || !strings.Contains(in.Cause, peer.String()) || in.State != schemas.IncidentResolved {
		t.Errorf("cause %q state %s, want the link sim-02:Ethernet1 — %s, resolved", in.Cause, in.State, peer)
	}
	found := false
	for _, e := range in.Entities {
		found = found || e.Kind == schemas.EntityInterface && e.Device == "sim-02" && e.Name == "Ethernet1"
	}
	if !found {
		t.Errorf("entities %+v lack sim-02 Ethernet1", in.Entities)
	}
	out.Reset()
	errs.Reset()
	if code := execute(ctx, []string{"incidents", "-c", path}, &out, &errs); code != 0 || strings.Contains(out.String(), in.ID) {
		t.Errorf("open incidents (exit %d) list the resolved link incident:\n%s", code, out.String())
	}
}

// listIncidents runs `telekernel incidents -c path --json` with args and
// decodes its output.
func listIncidents(ctx context.Context, t *testing.T, path string, args ...string) []*schemas.Incident {
	t.Helper()
	var out, errs bytes.Buffer
	if code := execute(ctx, append([]string{"incidents", "-c", path, "--json"}, args...), &out, &errs); code != 0 {
		t.Fatalf("incidents: exit %d\n%s", code, errs.String())
	}
	var incs []*schemas.Incident
	if err := json.Unmarshal(out.Bytes(), &incs); err != nil {
		t.Fatalf("incidents --json: %v\n%s", err, out.String())
	}
	return incs
}

// TestIncidentsCommand lists incidents from a Kafka-protocol broker: the
// latest update of each id, open ones only unless --all, merged ones only
// with --merged, and a record that is not an incident skipped with one
// line on stderr.
func TestIncidentsCommand(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "inc"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kafka.Connect(ctx, kafka.Config{Brokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	inc := func(id, state string, at time.Time) *kgo.Record {
		in := &schemas.Incident{Version: schemas.IncidentVersion, ID: id, State: state, OpenedAt: t0, UpdatedAt: at,
			Severity: schemas.SeverityCritical, Rule: schemas.RuleLink, Cause: "link " + id + " down", Confidence: 0.9,
			Evidence: []schemas.Evidence{{Time: t0, Role: schemas.EvidenceMember, State: schemas.StateFiring, Severity: schemas.SeverityCritical}}}
		if state == schemas.IncidentResolved {
			in.ResolvedAt = &at
		}
		b, err := schemas.MarshalIncident(in)
		if err != nil {
			t.Fatal(err)
		}
		return &kgo.Record{Topic: "inc", Key: []byte(id), Value: b}
	}
	merged := inc("cccc", schemas.IncidentResolved, t0.Add(2*time.Second))
	var mi schemas.Incident
	_ = json.Unmarshal(merged.Value, &mi)
	mi.MergedInto = "bbbb"
	merged.Value, _ = schemas.MarshalIncident(&mi)
	recs := []*kgo.Record{inc("aaaa", schemas.IncidentOpen, t0), inc("bbbb", schemas.IncidentOpen, t0.Add(time.Second)),
		{Topic: "inc", Key: []byte("x"), Value: []byte("not json")}, inc("aaaa", schemas.IncidentResolved, t0.Add(time.Minute)),
		inc("cccc", schemas.IncidentOpen, t0), merged}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string) {
		t.Helper()
		var out, errs bytes.Buffer
		if code := execute(ctx, append([]string{"incidents", "--kafka", cluster.ListenAddrs()[0], "--topic", "inc"}, args...), &out, &errs); code != 0 {
			t.Fatalf("incidents %v: exit %d: %s", args, code, errs.String())
		}
		return out.String(), errs.String()
	}
	out, errs := run()
	if !strings.Contains(out, "bbbb") || strings.Contains(out, "aaaa") || !strings.Contains(errs, "skipped 1 records") {
		t.Errorf("open incidents:\n%s\nstderr: %s", out, errs)
	}
	out, _ = run("--all", "--json")
	var incs []*schemas.Incident
	if err := json.Unmarshal([]byte(out), &incs); err != nil {
		t.Fatal(err)
	}
	if len(incs) != 2 || incs[0].ID != "aaaa" || incs[0].State != schemas.IncidentResolved || incs[1].ID != "bbbb" {
		t.Errorf("--all --json (the merged cccc hidden): %s", out)
	}
	if out, _ = run("--all", "--merged"); !strings.Contains(out, "cccc") {
		t.Errorf("--all --merged lacks the merged incident:\n%s", out)
	}
}
