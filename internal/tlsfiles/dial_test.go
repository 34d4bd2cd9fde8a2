package tlsfiles_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// Live.DialContext verifies the server as crypto/tls.Dial does: the
// chain against ca_file and the name against server_name, else the host
// dialled.
func TestLiveDialContextVerifies(t *testing.T) {
	ca, other := testenv.NewTestCA(t, "A"), testenv.NewTestCA(t, "other")
	srv := testenv.NewMTLS(t, ca, ca)
	addr := srv.Listen(t)
	_, port, _ := net.SplitHostPort(addr)
	files := testenv.NewClientFiles(t)
	files.Write(t, []*testenv.TestCA{ca}, ca, "client")
	f := func(c tlsfiles.Config, addr, want string) {
		t.Helper()
		live, err := c.Live("x.tls", nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := live.DialContext(&net.Dialer{})(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
		}
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%+v to %s: %v, want %q", c, addr, err, want)
		}
	}
	base := tlsfiles.Config{Enabled: true, CAFile: files.CA, CertFile: files.Cert, KeyFile: files.Key}
	f(base, addr, "")
	f(base, "localhost:"+port, "")
	wrongName := base
	wrongName.ServerName = "wrong.example"
	f(wrongName, addr, "certificate is valid for localhost, not wrong.example")
	testenv.WriteFile(t, files.CA, other.PEM)
	f(base, addr, "certificate signed by unknown authority")
}
