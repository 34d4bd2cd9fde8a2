// Package kubernetes holds telekernel.yaml, the Kubernetes manifest. Its
// tests decode every document strictly with the Kubernetes API types and
// check the workloads against the capacity model in the README.
package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// manifestFile is the manifest under test, readmeFile the capacity model.
const (
	manifestFile = "telekernel.yaml"
	readmeFile   = "../../README.md"
)

// decoder returns a strict universal deserializer for the core and apps
// API groups: unknown or duplicated fields are errors.
func decoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := appsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}

// decodeAll splits a multi-document YAML stream and decodes each document
// strictly.
func decodeAll(t *testing.T, raw []byte) ([]runtime.Object, error) {
	t.Helper()
	dec := decoder(t)
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var objs []runtime.Object
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		objs = append(objs, obj)
	}
}

// stripComments drops whole-line YAML comments, so a document of comments
// alone counts as empty.
func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

// manifest decodes the manifest under test and fails the test on any error.
func manifest(t *testing.T) []runtime.Object {
	t.Helper()
	raw, err := os.ReadFile(manifestFile)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll(t, raw)
	if err != nil {
		t.Fatalf("cannot decode %s strictly: %v", manifestFile, err)
	}
	return objs
}

// workload is a Deployment or StatefulSet reduced to what the tests check.
type workload struct {
	kind, name string
	replicas   int32
	labels     map[string]string
	pod        corev1.PodTemplateSpec
}

// workloads returns the manifest's Deployments and StatefulSets by name.
func workloads(t *testing.T, objs []runtime.Object) map[string]workload {
	t.Helper()
	out := map[string]workload{}
	add := func(w workload, replicas *int32) {
		w.replicas = 1
		if replicas != nil {
			w.replicas = *replicas
		}
		if _, dup := out[w.name]; dup {
			t.Errorf("%s %s: defined twice", w.kind, w.name)
		}
		out[w.name] = w
	}
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.Deployment:
			add(workload{kind: "Deployment", name: v.Name, labels: v.Spec.Selector.MatchLabels, pod: v.Spec.Template}, v.Spec.Replicas)
		case *appsv1.StatefulSet:
			add(workload{kind: "StatefulSet", name: v.Name, labels: v.Spec.Selector.MatchLabels, pod: v.Spec.Template}, v.Spec.Replicas)
		}
	}
	return out
}

// configMap returns the manifest's one ConfigMap.
func configMap(t *testing.T, objs []runtime.Object) *corev1.ConfigMap {
	t.Helper()
	var cms []*corev1.ConfigMap
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok {
			cms = append(cms, cm)
		}
	}
	if len(cms) != 1 {
		t.Fatalf("%d ConfigMaps in the manifest, want 1", len(cms))
	}
	return cms[0]
}

// pipelineConfig is the part of the ConfigMap's pipeline.yaml the tests read.
type pipelineConfig struct {
	Stages []string `yaml:"stages"`
	Topics struct {
		Partitions int `yaml:"partitions"`
	} `yaml:"topics"`
}

// roles maps each role's workload name to the command line it must run:
// a stage per entry of the ConfigMap's pipeline.yaml `stages:`, and a
// collector per collector config the ConfigMap carries.
func roles(t *testing.T, cm *corev1.ConfigMap) (map[string][]string, pipelineConfig) {
	t.Helper()
	var pc pipelineConfig
	if err := yaml.Unmarshal([]byte(cm.Data["pipeline.yaml"]), &pc); err != nil || len(pc.Stages) == 0 {
		t.Fatalf("the ConfigMap's pipeline.yaml: stages %v, %v", pc.Stages, err)
	}
	out := map[string][]string{}
	for _, s := range pc.Stages {
		out["telekernel-"+s] = []string{"stage", s}
	}
	for _, kind := range []string{"gnmi", "snmp"} {
		if _, ok := cm.Data["collect-"+kind+".yaml"]; !ok {
			t.Errorf("the ConfigMap carries no collect-%s.yaml", kind)
		}
		out["telekernel-collect-"+kind] = []string{"collect", kind}
	}
	return out, pc
}

// TestManifestDecodesStrictly decodes every document of the manifest with
// the Kubernetes API types, unknown fields being errors, and checks that
// the same decoder rejects a misspelled field (so the check can fail).
func TestManifestDecodesStrictly(t *testing.T) {
	objs := manifest(t)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[fmt.Sprintf("%T", o)]++
	}
	t.Logf("%d documents: %v", len(objs), kinds)
	if kinds["*v1.Namespace"] != 1 || kinds["*v1.ConfigMap"] != 1 || kinds["*v1.PersistentVolumeClaim"] != 1 {
		t.Errorf("kinds %v: want one Namespace, ConfigMap and PersistentVolumeClaim", kinds)
	}
	bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	if _, err := decodeAll(t, []byte(bad)); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Errorf("a misspelled field decoded without the error naming it: %v", err)
	}
}

// TestManifestWorkloads checks one workload per role (each stage the
// pipeline config lists, each collector), running the right command on the
// ConfigMap's config, with /healthz and /readyz probes on the port it
// serves them on (--http 0.0.0.0:PORT) and Prometheus scraping that port.
func TestManifestWorkloads(t *testing.T) {
	objs := manifest(t)
	ws := workloads(t, objs)
	want, _ := roles(t, configMap(t, objs))
	for name, cmd := range want {
		w, ok := ws[name]
		if !ok {
			t.Errorf("no Deployment or StatefulSet %s", name)
			continue
		}
		checkWorkload(t, w, cmd)
	}
	for name := range ws {
		if _, ok := want[name]; !ok {
			t.Errorf("workload %s matches no role", name)
		}
	}
}

// httpPort matches the address the containers pass with --http.
var httpPort = regexp.MustCompile(`^0\.0\.0\.0:(\d+)$`)

// checkWorkload checks one workload's selector, command, port and probes.
func checkWorkload(t *testing.T, w workload, cmd []string) {
	t.Helper()
	for k, v := range w.labels {
		if w.pod.Labels[k] != v {
			t.Errorf("%s: the selector's %s=%s is not on the pod template", w.name, k, v)
		}
	}
	if len(w.pod.Spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", w.name, len(w.pod.Spec.Containers))
	}
	c := w.pod.Spec.Containers[0]
	if len(c.Args) < 6 || !slices.Equal(c.Args[:2], cmd) || c.Args[2] != "-c" {
		t.Errorf("%s: args %q, want %q -c FILE --http 0.0.0.0:PORT", w.name, c.Args, cmd)
		return
	}
	i := slices.Index(c.Args, "--http")
	if i < 0 || i+1 >= len(c.Args) || !httpPort.MatchString(c.Args[i+1]) {
		t.Errorf("%s: args %q: no --http 0.0.0.0:PORT", w.name, c.Args)
		return
	}
	port, _ := strconv.Atoi(httpPort.FindStringSubmatch(c.Args[i+1])[1])
	var portName string
	for _, p := range c.Ports {
		if int(p.ContainerPort) == port {
			portName = p.Name
		}
	}
	if portName == "" {
		t.Errorf("%s: no containerPort %d (the --http port)", w.name, port)
	}
	if got := w.pod.Annotations["prometheus.io/port"]; got != strconv.Itoa(port) {
		t.Errorf("%s: prometheus.io/port %q, want %d", w.name, got, port)
	}
	checkProbe(t, w.name, "readiness", c.ReadinessProbe, "/readyz", portName, port)
	checkProbe(t, w.name, "liveness", c.LivenessProbe, "/healthz", portName, port)
}

// checkProbe checks that a probe is an HTTP GET of path on the given port
// (by name or number).
func checkProbe(t *testing.T, name, what string, p *corev1.Probe, path, portName string, port int) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: no %s httpGet probe", name, what)
		return
	}
	g := p.HTTPGet
	onPort := (portName != "" && g.Port.String() == portName) || g.Port.IntValue() == port
	if g.Path != path || !onPort {
		t.Errorf("%s: %s probe GET %s on port %s, want %s on %d (%s)", name, what, g.Path, g.Port.String(), path, port, portName)
	}
}

// capacityRow is one row of the README's capacity table that names a
// Kubernetes workload.
type capacityRow struct {
	workload   string
	processes  int32
	cpu, mem   resource.Quantity
	partitions int
}

// capacityRows reads the tables under "### Capacity model" in the README
// (up to the next heading) that have a workload column: the rows whose
// workload cell names a `telekernel-…` workload.
func capacityRows(t *testing.T) []capacityRow {
	t.Helper()
	raw, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n### Capacity model")
	if !ok {
		t.Fatalf("%s: no \"### Capacity model\" section", readmeFile)
	}
	var header []string
	var rows []capacityRow
	for line := range strings.Lines(section) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			break
		}
		if !strings.HasPrefix(line, "|") {
			header = nil // a table ends at the first line that is not a row
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`*")
		}
		if header == nil {
			header = cells
			continue
		}
		if !slices.Contains(header, "workload") || strings.HasPrefix(cells[0], "---") {
			continue
		}
		col := func(name string) string {
			i := slices.Index(header, name)
			if i < 0 || i >= len(cells) {
				t.Fatalf("capacity table: no column %q in %q", name, header)
			}
			return cells[i]
		}
		if !strings.HasPrefix(col("workload"), "telekernel-") {
			continue
		}
		rows = append(rows, parseCapacityRow(t, col))
	}
	if len(rows) == 0 {
		t.Fatal("capacity table: no row names a telekernel- workload")
	}
	return rows
}

// parseCapacityRow parses the cells of one capacity table row.
func parseCapacityRow(t *testing.T, col func(string) string) capacityRow {
	t.Helper()
	r := capacityRow{workload: col("workload")}
	n, err := strconv.Atoi(col("processes"))
	if err != nil {
		t.Fatalf("capacity table %s: processes: %v", r.workload, err)
	}
	r.processes = int32(n)
	if r.cpu, err = resource.ParseQuantity(col("CPU each")); err != nil {
		t.Fatalf("capacity table %s: CPU each: %v", r.workload, err)
	}
	if r.mem, err = resource.ParseQuantity(col("memory each")); err != nil {
		t.Fatalf("capacity table %s: memory each: %v", r.workload, err)
	}
	if p := col("partitions"); p != "" && p != "–" {
		if r.partitions, err = strconv.Atoi(p); err != nil {
			t.Fatalf("capacity table %s: partitions: %v", r.workload, err)
		}
	}
	return r
}

// TestManifestMatchesCapacityModel checks each workload against its row of
// the README's capacity table: replicas = processes, CPU request = CPU
// each, memory request = memory limit = memory each, and a partition count
// equal to the ConfigMap's topics.partitions and at least the replicas of
// the workload that consumes them.
func TestManifestMatchesCapacityModel(t *testing.T) {
	objs := manifest(t)
	ws := workloads(t, objs)
	_, pc := roles(t, configMap(t, objs))
	rows := capacityRows(t)
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.workload] = true
		w, ok := ws[r.workload]
		if !ok {
			t.Errorf("capacity table names %s, which the manifest does not have", r.workload)
			continue
		}
		res := w.pod.Spec.Containers[0].Resources
		if w.replicas != r.processes {
			t.Errorf("%s: replicas %d, capacity table %d processes", r.workload, w.replicas, r.processes)
		}
		if got := res.Requests[corev1.ResourceCPU]; got.Cmp(r.cpu) != 0 {
			t.Errorf("%s: cpu request %s, capacity table %s", r.workload, got.String(), r.cpu.String())
		}
		for what, got := range map[string]resource.Quantity{"request": res.Requests[corev1.ResourceMemory], "limit": res.Limits[corev1.ResourceMemory]} {
			if got.Cmp(r.mem) != 0 {
				t.Errorf("%s: memory %s %s, capacity table %s", r.workload, what, got.String(), r.mem.String())
			}
		}
		if r.partitions != 0 && (r.partitions != pc.Topics.Partitions || int(w.replicas) > r.partitions) {
			t.Errorf("%s: capacity table %d partitions, pipeline.yaml topics.partitions %d, replicas %d",
				r.workload, r.partitions, pc.Topics.Partitions, w.replicas)
		}
	}
	for name := range ws {
		if !seen[name] {
			t.Errorf("workload %s has no row in the capacity table", name)
		}
	}
}
