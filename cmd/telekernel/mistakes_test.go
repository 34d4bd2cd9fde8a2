package main

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestReportKafkaNeedsBrokers: report --kafka without brokers (no -c, or
// a file without kafka.brokers) says what to give, as report --incident
// does; it tried franz-go's default seed and failed with "kafka : ...".
func TestReportKafkaNeedsBrokers(t *testing.T) {
	code, _, errs := tk(t, "report", "--device", "sim-00", "--kafka", "--out", t.TempDir())
	if code == 0 || errs != "telekernel: report: --kafka reads the samples topic: give -c FILE with kafka.brokers\n" {
		t.Fatalf("exit %d, stderr %q: want one line saying to give kafka.brokers", code, errs)
	}
}

// TestSimFailedStartPrintsNoSummary: sim --kafka that cannot start prints
// its error and no summary of a run that never ran, as run and stage do.
func TestSimFailedStartPrintsNoSummary(t *testing.T) {
	code, out, errs := tk(t, "sim", "--kafka", "127.0.0.1:1", "--http", "off")
	if code == 0 || strings.Contains(out, "samples in") || !strings.Contains(errs, "cannot connect") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want the error and no summary", code, out, errs)
	}
}

// TestSimKafkaIgnoresSimEnabled: sim --kafka with a file whose
// sim.enabled is false (a pipeline's file, used for its kafka section)
// publishes the fleet, as --print and --serve do; it sat idle for --for
// and exited 0 with 0 samples.
func TestSimKafkaIgnoresSimEnabled(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cfg := writeFile(t, "tk.yaml", "kafka:\n  brokers: ["+strings.Join(cluster.ListenAddrs(), ", ")+"]\nsim:\n  enabled: false\n  devices: 2\n")
	code, out, errs := tk(t, "sim", "-c", cfg, "--for", "3s", "--http", "off")
	if code != 0 || !strings.Contains(out, "samples in") || strings.Contains(out, "telekernel: 0 samples") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want the fleet published", code, out, errs)
	}
}

// TestEvalEmptyLabels: --labels that hold no event stop eval with one
// line saying so. The simulator's eval scored its own ground truth
// instead, and wide-csv printed its table unscored, exit 0, both silent.
func TestEvalEmptyLabels(t *testing.T) {
	empty := writeFile(t, "empty.csv", "device,start,end\n")
	for _, args := range [][]string{
		{"eval", "--format", "sim", "--span", "2h", "--devices", "2", "--labels", empty},
		{"eval", "--format", "wide-csv", "--data", stepCSV(t), "--labels", empty},
	} {
		code, _, errs := tk(t, args...)
		if code == 0 || !strings.Contains(errs, "empty.csv hold no event") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q: want one line saying the labels hold no event", args[:3], code, errs)
		}
	}
}
