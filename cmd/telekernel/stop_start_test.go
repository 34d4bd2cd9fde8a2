package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentBroker listens on a local port and accepts connections but never
// answers: a Kafka that hangs. Once ctx is done it closes them, so a
// client that waits on them returns at once rather than after its own
// timeouts. connected is closed at the first connection.
func silentBroker(t *testing.T, ctx context.Context) (addr string, connected <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		once  sync.Once
	)
	first := make(chan struct{})
	closeAll := func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
	t.Cleanup(closeAll)
	context.AfterFunc(ctx, closeAll)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			once.Do(func() { close(first) })
		}
	}()
	return ln.Addr().String(), first
}

// stopAtConnect returns a silent broker's address and a ctx that ends (the
// stop signal) when something first connects to it, or after 5 s.
func stopAtConnect(t *testing.T) (context.Context, string) {
	t.Helper()
	ctx, signal := context.WithCancel(context.Background())
	t.Cleanup(signal)
	addr, connected := silentBroker(t, ctx)
	go func() {
		select {
		case <-connected:
		case <-time.After(5 * time.Second):
		}
		signal()
	}()
	return ctx, addr
}

// TestStopWhileStartingExitsClean sends the stop (the ctx main's
// signal.NotifyContext cancels on SIGINT or SIGTERM) to each command that
// runs until stopped while it is still connecting to a Kafka that does not
// answer: it exits 0, as after a stop once running, with no summary and
// one line saying it stopped while starting. Before, it failed (exit 1)
// with "kafka ADDR: cannot connect: ... operation was canceled (is Kafka
// running there, and are TLS/SASL settings right?)".
func TestStopWhileStartingExitsClean(t *testing.T) {
	f := func(args ...string) {
		t.Helper()
		ctx, addr := stopAtConnect(t)
		cfg := writeFile(t, "c.yaml", "log: {format: text}\nhttp: {listen: \"off\"}\n")
		args = append(args, "-c", cfg, "--kafka", addr)
		var out, errb bytes.Buffer
		start := time.Now()
		code := execute(ctx, args, &out, &errb)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: exited %v after the signal, want at once", args[0], took.Round(time.Millisecond))
		}
		stderr := errb.String()
		if code != 0 || out.String() != "" || !strings.HasSuffix(stderr, "telekernel: stopped while starting\n") || strings.Contains(stderr, "cannot connect") {
			t.Errorf("%s stopped while connecting to Kafka: exit %d, stdout %q, stderr %q; want exit 0, no summary, and a line saying it stopped while starting",
				strings.Join(args[:2], " "), code, out.String(), stderr)
		}
	}
	f("run", "--no-tui", "--data", t.TempDir())
	f("stage", "detect")
	f("sim")
}

// TestStopWhileReadingSaysStopped stops the commands that read Kafka once
// and exit (report --kafka, report --incident, incidents) while they
// connect to a Kafka that does not answer: they made nothing, so they
// exit 1, but with one line saying they were stopped. Before, the line
// was a Kafka error: "kafka ADDR: cannot connect: ... operation was
// canceled (is Kafka running there, and are TLS/SASL settings right?)".
func TestStopWhileReadingSaysStopped(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		ctx, addr := stopAtConnect(t)
		cfg := writeFile(t, "c.yaml", "kafka: {brokers: ["+addr+"]}\n")
		var out, errb bytes.Buffer
		code := execute(ctx, append(args, "-c", cfg), &out, &errb)
		if code != 1 || out.String() != "" || errb.String() != "telekernel: "+want+"\n" {
			t.Errorf("%s stopped while connecting to Kafka: exit %d, stdout %q, stderr %q; want exit 1 and %q",
				strings.Join(args, " "), code, out.String(), errb.String(), want)
		}
	}
	f("report: stopped before the report was made", "report", "--kafka", "--device", "leaf-01", "--out", t.TempDir())
	f("report: stopped before the report was made", "report", "--incident", "inc-1", "--out", t.TempDir())
	f("incidents: stopped before the incidents were read", "incidents")
}

// TestCollectStopWhileStartingExitsClean: collect gnmi and collect snmp,
// stopped while they connect to a Kafka that does not answer, exit 0 as
// after a stop once collecting, and log that they stopped while starting.
// Before, they exited 1 with "kafka ADDR: cannot connect: ... operation
// was canceled (is Kafka running there, ...?)".
func TestCollectStopWhileStartingExitsClean(t *testing.T) {
	t.Setenv("TK_TEST_COMMUNITY", "public")
	for _, kind := range []string{"gnmi", "snmp"} {
		ctx, addr := stopAtConnect(t)
		target := "{name: r1, address: \"127.0.0.1:6030\"}"
		if kind == "snmp" {
			target = "{name: r1, address: \"127.0.0.1:161\", community: {env: TK_TEST_COMMUNITY}}"
		}
		cfg := writeFile(t, kind+".yaml", "kafka: {brokers: ["+addr+"]}\nlog: {format: text}\nhttp: {listen: \"off\"}\ncollect:\n  "+kind+":\n    targets: ["+target+"]\n")
		var out, errb bytes.Buffer
		code := execute(ctx, []string{"collect", kind, "-c", cfg}, &out, &errb)
		stderr := errb.String()
		if code != 0 || !strings.Contains(stderr, "stopped while starting") || strings.Contains(stderr, "cannot connect") {
			t.Errorf("collect %s stopped while connecting to Kafka: exit %d, stderr %q; want exit 0 and a line saying it stopped while starting", kind, code, stderr)
		}
	}
}
