// Package hostport checks the network addresses a config names: host:port
// with a port in 1-65535, and never repeated in an error when it may hold
// a password.
package hostport

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Check reports why addr is not host:port (a host without blanks, a port
// in 1-65535). An address holding '@' or '/' (user:password@host, a URL)
// is refused without being repeated, since it may hold a password; creds
// names where credentials go instead (e.g. "sasl").
func Check(addr, creds string) error {
	if Credentials(addr) {
		return fmt.Errorf("want host:port, without a user, password or scheme (credentials go in %s)", creds)
	}
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.Atoi(port)
	if err != nil || host == "" || strings.ContainsAny(host, " \t") || perr != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if p <= 0 || p > 65535 {
		return fmt.Errorf("%q has a port outside 1-65535", addr)
	}
	return nil
}

// Credentials reports whether addr may hold a user and password (an '@'
// or a '/', as in user:password@host or a URL): an error must not repeat it.
func Credentials(addr string) bool { return strings.ContainsAny(addr, "@/") }
