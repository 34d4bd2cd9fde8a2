package share

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telekernel/telekernel/kafka"
)

// memberEnv, when set, makes the test binary a group member alone (see
// TestMain): "BROKER GROUP-AND-TOPIC BUCKETS SESSION".
const memberEnv = "TK_SHARE_MEMBER"

// TestMain runs the tests or, with memberEnv set, one group member for
// the tests that kill or pause a process (runMember).
func TestMain(m *testing.M) {
	if spec := os.Getenv(memberEnv); spec != "" {
		runMember(spec)
		return
	}
	os.Exit(m.Run())
}

// runMember joins the group the spec names and prints "owned B,B,…" on
// every change until it is killed.
func runMember(spec string) {
	f := strings.Fields(spec)
	n, _ := strconv.Atoi(f[2])
	session, _ := time.ParseDuration(f[3])
	cfg := Config{Enabled: true, Name: f[1], Topic: f[1], Buckets: int32(n), SessionTimeout: session}
	var mu sync.Mutex
	_, err := Join(context.Background(), kafka.Config{Brokers: []string{f[0]}}, cfg, "test", func(c Change) {
		mu.Lock()
		defer mu.Unlock()
		var bs []string
		for _, b := range c.Owned.Buckets() {
			bs = append(bs, strconv.Itoa(int(b)))
		}
		fmt.Printf("owned %s\n", strings.Join(bs, ","))
	}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	select {}
}

// process is a member in another process, killed with SIGKILL.
type process struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	own map[int32]bool
}

func startMember(t *testing.T, spec string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(os.Args[0], "-test.run=^$"), own: map[int32]bool{}}
	p.cmd.Env = append(os.Environ(), memberEnv+"="+spec)
	p.cmd.Stderr = os.Stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	go p.read(out)
	return p
}

func (p *process) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "owned ")
		if !ok {
			continue
		}
		own := map[int32]bool{}
		for _, s := range strings.Split(rest, ",") {
			if b, err := strconv.Atoi(s); err == nil {
				own[int32(b)] = true
			}
		}
		p.mu.Lock()
		p.own = own
		p.mu.Unlock()
	}
}

func (p *process) buckets() map[int32]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.own
}
