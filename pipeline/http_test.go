package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestServeHTTP(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.deadLetters.WithLabelValues("detect", "malformed").Inc()
	m.lag.WithLabelValues("detect").Set(7)
	var ready atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := ServeHTTP(ctx, "127.0.0.1:0", reg, Health{Ready: func() error {
		if !ready.Load() {
			return errors.New("starting")
		}
		return nil
	}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "starting") {
		t.Errorf("/readyz before ready: %d %q", code, body)
	}
	ready.Store(true)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz when ready: %d", code)
	}
	_, body := get("/metrics")
	for _, want := range []string{`telekernel_stage_dead_letters_total{reason="malformed",stage="detect"} 1`, `telekernel_stage_lag_records{stage="detect"} 7`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if _, err := ServeHTTP(ctx, addr.String(), reg, Health{}, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Errorf("a port in use: %v", err)
	}
}
