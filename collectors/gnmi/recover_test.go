package gnmi_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/gnmi"
)

// TestRecoversWithinBackoffMax: a device that was away long enough for
// gRPC's own reconnect backoff (1 s growing to 120 s) to pass the
// collector's backoff.max is subscribed again within backoff.max of its
// return. Before, the connection kept gRPC's backoff: every attempt of the
// stream failed at once until gRPC tried to connect again, seconds (after
// a longer outage, up to two minutes) after the device was back.
func TestRecoversWithinBackoffMax(t *testing.T) {
	// The device's port, free while it is away.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fastConfig([]gnmi.Target{{Name: "away", Address: addr, DialTimeout: time.Second}})
	c, err := gnmi.New(cfg, gnmi.FakePublisher(t), gnmi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(12 * time.Second) // gRPC's attempts: 0, 1, 2.6, 5.2, 9.3, 15.8 s (±20 %)
	if c.Stats().Connects != 0 {
		t.Fatal("connected to a device that is away")
	}
	back := time.Now()
	serveAt(t, addr, func(ctx context.Context, send func([]byte) error) error {
		return send(chassis(t, time.Now().UnixNano(), 1, 1))
	})
	for c.Stats().Connects == 0 {
		if time.Since(back) > 5*time.Second {
			t.Fatal("not subscribed 5 s after the device came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// backoff.max (200 ms), a dial and a response; gRPC's backoff was
	// seconds.
	if took := time.Since(back); took > 1500*time.Millisecond {
		t.Errorf("subscribed %v after the device came back, want within backoff.max (%v) and a second", took.Round(time.Millisecond), cfg.Backoff.Max)
	}
}
