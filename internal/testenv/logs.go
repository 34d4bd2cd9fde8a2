package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// LogBuffer collects a process's log lines; it is safe for concurrent
// use, so a test reads it while the process writes.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ServedAddr waits up to 30 s for the JSON log line containing msg (the
// one announcing the HTTP endpoints) and returns its addr attribute.
func ServedAddr(t testing.TB, logs *LogBuffer, msg string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, msg) {
				var rec struct{ Addr string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				return rec.Addr
			}
		}
	}
	t.Fatalf("no log line %q within 30s:\n%s", msg, logs.String())
	return ""
}

// HTTPStatus returns the status of a GET of url, or 0 when there is no
// answer within a second.
func HTTPStatus(url string) int {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
