package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
)

// stallProxy forwards TCP connections to a target until, once armed, more
// than limit bytes went from its clients to the target: it then stops
// reading from both sides, keeping the connections open, as a server that
// hangs (or a path that drops every packet) does. New connections stall
// too. Closing the proxy ends everything.
type stallProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	armed bool
	limit int64
	sent  int64
	stall chan struct{} // closed when the proxy stalls
	done  chan struct{} // closed when the proxy closes
	conns []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, stall: make(chan struct{}), done: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(128 << 10)
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go p.copy(s, c, true)
			go p.copy(c, s, false)
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) copy(dst, src net.Conn, fromClient bool) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-p.stall:
			<-p.done
			return
		default:
		}
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if fromClient && p.armed {
				p.sent += int64(n)
				if p.sent > p.limit && !p.stalled() {
					close(p.stall)
				}
			}
			p.mu.Unlock()
			if p.stalled() {
				<-p.done
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallProxy) stalled() bool {
	select {
	case <-p.stall:
		return true
	default:
		return false
	}
}

// stallAfter arms the proxy: it stalls once n more bytes went from its
// clients to the target.
func (p *stallProxy) stallAfter(n int64) {
	p.mu.Lock()
	p.armed, p.limit, p.sent = true, n, 0
	p.mu.Unlock()
}

func (p *stallProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestStageClickHouseStalledStopsOnSIGTERM runs `stage clickhouse` with the
// default timeouts (read_timeout 60 s) on the real Kafka and a ClickHouse
// reached through a proxy that stops forwarding in the middle of a
// multi-block INSERT (200,000 rows, batch_rows 20,000), and sends one
// SIGTERM: the process exits within the stage bound (also after a final
// flush that used all of its time), non-zero, with one line saying the
// rows were not flushed.
func TestStageClickHouseStalledStopsOnSIGTERM(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	chAddr := testenv.Service(t, "TK_CLICKHOUSE")
	chHTTP := testenv.Service(t, "TK_CLICKHOUSE_HTTP")
	bin := buildBinary(t)
	id := randomID()
	db := "tk_test_stall_" + id
	t.Cleanup(func() { chQuery(t, chHTTP, "DROP DATABASE IF EXISTS "+db) })
	proxy := newStallProxy(t, chAddr)
	cfg := clickhouseStageConfig(t, broker, "stall-"+id, proxy.ln.Addr().String(), db, "  batch_rows: 20000\n  compression: none\n  flush_rows: 200000\n  flush_interval: 1m\n")
	p := startProc(t, "stage", bin, "stage", "clickhouse", "-c", cfg)
	waitLog(t, p, 60*time.Second, "schema applied")
	proxy.stallAfter(3 << 20)
	for range 40 {
		produceSamples(t, broker, "stall-"+id+".samples", 5_000)
	}
	for deadline := time.Now().Add(60 * time.Second); !proxy.stalled(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not stall within 60s:\n%s", tail(p.log.String(), 20))
		}
	}
	time.Sleep(500 * time.Millisecond)
	// The final flush may take an idle connection to the stalled server
	// and wait on it for all of its time (the sink then closes it at the
	// deadline); its time ends 500 ms before the stage bound, which leaves
	// closing room.
	took, err := p.stopWithin(t, stageStopBound)
	t.Logf("exited in %v with %v; last lines:\n%s", took.Round(time.Millisecond), err, tail(p.log.String(), 3))
	if err == nil {
		t.Errorf("exit status 0 although rows were not flushed")
	}
	if !strings.Contains(p.log.String(), "clickhouse-samples: stopped without flushing 200000 rows") {
		t.Errorf("no line saying the 200000 rows were not flushed:\n%s", tail(p.log.String(), 5))
	}
}

// TestRunClickHouseStalledStopsWithinBound runs the embedded default with
// the simulator and a ClickHouse reached through a proxy that stops
// forwarding in the middle of an INSERT (default timeouts, batch_rows
// 2,000, so INSERTs have several blocks), and sends one SIGTERM: the drain
// waits for the ClickHouse stage at most its 2 minutes, the stage's final
// flush at most FinalFlushTimeout, and the process exits within the run
// bound, non-zero, saying what the ClickHouse stage did not flush. It runs
// in parallel: it spends its 2 minutes waiting, and shares nothing (its
// own database, data folder, embedded broker and proxy port).
func TestRunClickHouseStalledStopsWithinBound(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over 2 minutes; skipped in -short mode")
	}
	t.Parallel()
	chAddr := testenv.Service(t, "TK_CLICKHOUSE")
	chHTTP := testenv.Service(t, "TK_CLICKHOUSE_HTTP")
	bin := buildBinary(t)
	db := "tk_test_runstall_" + randomID()
	t.Cleanup(func() { chQuery(t, chHTTP, "DROP DATABASE IF EXISTS "+db) })
	proxy := newStallProxy(t, chAddr)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`clickhouse:
  addr: [%s]
  database: %s
  batch_rows: 2000
  compression: none
parquet:
  root: %s
sim:
  devices: 4
  labels_file: %s
http:
  listen: "off"
log:
  format: json
  level: info
`, proxy.ln.Addr(), db, filepath.Join(dir, "data"), filepath.Join(dir, "labels.jsonl"))), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "run", bin, "run", "-c", cfg, "--speed", "3000")
	waitLog(t, p, 90*time.Second, "schema applied")
	proxy.stallAfter(2 << 20)
	for deadline := time.Now().Add(90 * time.Second); !proxy.stalled(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not stall within 90s (no INSERT of 2 MB?):\n%s", tail(p.log.String(), 20))
		}
	}
	time.Sleep(500 * time.Millisecond)
	took, err := p.stopWithin(t, runStopBound)
	t.Logf("exited in %v with %v; last lines:\n%s", took.Round(time.Millisecond), err, tail(p.log.String(), 3))
	if err == nil {
		t.Errorf("exit status 0 although ClickHouse stalled")
	}
	// What the samples stage left undone is said either way: rows it held
	// and did not flush, or, when the stall caught another ClickHouse
	// stage's INSERT (the power sink's) while the samples stage's buffer
	// was empty, the records of tk.samples it did not drain (seen in a
	// make test of 2026-12-04 and of 2026-12-05).
	log := p.log.String()
	if !strings.Contains(log, "clickhouse-samples: stopped without flushing") && !strings.Contains(log, "stage clickhouse-samples did not drain tk.samples") {
		t.Errorf("no line saying what the ClickHouse samples stage did not flush or drain:\n%s", tail(log, 5))
	}
}
