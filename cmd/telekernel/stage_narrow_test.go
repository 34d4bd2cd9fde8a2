package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestStageNotRefusedForAnotherStagesFolder: README "Deploying": one YAML
// file, `telekernel stage NAME -c FILE` per process. The shipped
// Kubernetes manifest does exactly that: every pod reads one pipeline.yaml
// whose stages: list parquet with parquet.root /var/lib/telekernel/parquet,
// but only the parquet pod mounts that folder; the others run on a scratch
// image with readOnlyRootFilesystem. `stage detect` checks the file as the
// detect stage's alone and runs where the Parquet folder cannot be
// written. Before, loading the file checked parquet.root before `stage`
// narrowed the stages to NAME, and refused it with a "parquet.root: ..."
// error, though detect never writes there.
//
// Here the folder cannot be created because a file stands in its path
// (root would be refused the same way by a read-only file system, which a
// test running as root cannot reproduce with permissions).
func TestStageNotRefusedForAnotherStagesFolder(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "var")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "pipeline.yaml", "stages: [detect, power, parquet, alertstate]\n"+
		"kafka: {brokers: ["+cluster.ListenAddrs()[0]+"]}\n"+
		"sim: {enabled: false}\n"+
		"parquet: {root: "+filepath.Join(blocker, "lib", "telekernel", "parquet")+"}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := execute(ctx, []string{"stage", "detect", "-c", cfg, "--for", "500ms", "--http", "off"}, &out, &errb)
	if code != 0 {
		t.Errorf("stage detect: exit %d, %q; want it to run (detect does not write Parquet)", code, lastLine(errb.String()))
	}
	if strings.Contains(errb.String(), "parquet.root") {
		t.Errorf("stage detect was refused for the parquet stage's folder")
	}
}
