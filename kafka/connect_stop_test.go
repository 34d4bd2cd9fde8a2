package kafka

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestConnectStopsOnASilentBroker cancels Connect while its broker
// accepts the connection and never answers: Connect returns at once with
// the cancellation. Before, franz-go's ping went on to its own 10 s dial
// timeout, so a stop during start waited that long.
func TestConnectStopsOnASilentBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	cl, err := Connect(ctx, Config{Brokers: []string{ln.Addr().String()}})
	if cl != nil {
		cl.Close()
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Connect returned %v after its start, 200ms after the cancel, want at once", took.Round(time.Millisecond))
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Connect returned %v, want the cancellation", err)
	}
}
