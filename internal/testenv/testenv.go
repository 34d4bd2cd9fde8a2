// Package testenv finds the real services integration tests talk to. Under
// `make test` (TK_INTEGRATION=1) a service that is not configured is a test
// failure; elsewhere the test is skipped with a line saying how to run it.
package testenv

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// Service returns the address in the environment variable env (set by
// deploy/local/env.sh), or fails or skips the test when it is unset.
func Service(t testing.TB, env string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	if os.Getenv("TK_INTEGRATION") == "1" {
		t.Fatalf("%s is not set: run the suite with `make test`, which starts the services and sets it", env)
	}
	t.Skipf("%s is not set; `make test` starts the services (deploy/local) and sets it", env)
	return ""
}

// Tool returns the path of the program name, or fails (under `make
// test`) or skips the test when it is not installed, as Service does; pkg
// is the Debian package that provides it.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("TK_INTEGRATION") == "1" {
		t.Fatalf("%s not found: install the Debian package %s (deploy/local/services.sh start installs the suite's)", name, pkg)
	}
	t.Skipf("%s not found (Debian package %s)", name, pkg)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a service a test starts on ports of its own (a broker by
// deploy/local/kafka.sh).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
