package clickhouse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// Sentinel errors. None of them is retryable.
var (
	// ErrClosed is returned by calls on a closed Sink.
	ErrClosed = errors.New("clickhouse sink is closed")
	// ErrBadInput means the rows handed to an insert break the contract
	// (wrong Arrow schema, a timestamp the table cannot hold, an invalid
	// detection). Sending them again cannot succeed: dead-letter them.
	ErrBadInput = errors.New("invalid input")
	// ErrSchemaMismatch means a table exists but does not have the columns
	// of either layout, or has a layout version this build does not write.
	ErrSchemaMismatch = errors.New("table schema mismatch")
)

// errPasswordFile marks the authentication failure of a connection whose
// password comes from a file: the file is read again before the next
// connection, so once the operator has rewritten it a retry may succeed.
var errPasswordFile = errors.New("the password file is read again before the next connection")

// ConnectError is returned by New when the server cannot be reached or
// refuses the connection. Its text is one line naming the address, the
// cause and a hint, e.g.
//
//	clickhouse 127.0.0.1:9999: cannot connect: dial tcp 127.0.0.1:9999: connect: connection refused (is the server running and the address right?)
type ConnectError struct {
	Addr string // the configured addresses, comma-separated
	Err  error  // the cause
	Hint string // what to check
}

// Error returns the one-line message.
func (e *ConnectError) Error() string {
	return fmt.Sprintf("clickhouse %s: cannot connect: %s (%s)", e.Addr, oneLine(e.Err.Error()), e.Hint)
}

// Unwrap returns the cause.
func (e *ConnectError) Unwrap() error { return e.Err }

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// ClickHouse server error codes used below (from the server's ErrorCodes).
const (
	codeUnexpectedEOF         = 3
	codeThereIsNoColumn       = 8 // a column named in the INSERT is not in the table (some versions)
	codeNoSuchColumnInTable   = 16
	codeAttemptToReadAfterEOF = 32
	codeUnknownTable          = 60
	codeUnknownDatabase       = 81
	codeFileDoesntExist       = 107
	codeTimeoutExceeded       = 159
	codeTooSlow               = 160
	codeUnknownUser           = 192
	codeWrongPassword         = 193
	codeRequiredPassword      = 194
	codeTooManyQueries        = 202
	codeNoFreeConnection      = 203
	codeSocketTimeout         = 209
	codeNetworkError          = 210
	codeAborted               = 236
	codeMemoryLimitExceeded   = 241
	codeTableIsReadOnly       = 242
	codeTooManyParts          = 252
	codeAllConnTriesFailed    = 279 // a Distributed INSERT found no live replica of a shard
	codeTooFewLiveReplicas    = 285
	codeUnsatisfiedQuorum     = 286
	codeUnknownStatusOfInsert = 319
	codeInconsistentCluster   = 371 // INCONSISTENT_CLUSTER_DEFINITION
	codeQueryWasCancelled     = 394
	codeSystemError           = 425
	codeCannotScheduleTask    = 439
	codeAuthenticationFailed  = 516
	codeKeeperException       = 999
)

// retryableCodes are server errors that are about load, time or the
// network, not about the statement or the data: the same insert may succeed
// later.
var retryableCodes = map[int32]bool{
	codeUnexpectedEOF:         true,
	codeAttemptToReadAfterEOF: true,
	codeTimeoutExceeded:       true,
	codeTooSlow:               true,
	codeTooManyQueries:        true,
	codeNoFreeConnection:      true,
	codeSocketTimeout:         true,
	codeNetworkError:          true,
	codeAborted:               true,
	codeMemoryLimitExceeded:   true,
	codeTableIsReadOnly:       true,
	codeTooManyParts:          true,
	codeAllConnTriesFailed:    true,
	codeTooFewLiveReplicas:    true,
	codeUnsatisfiedQuorum:     true,
	codeUnknownStatusOfInsert: true,
	codeQueryWasCancelled:     true,
	codeSystemError:           true,
	codeCannotScheduleTask:    true,
	codeKeeperException:       true,
}

func isAuthCode(c int32) bool {
	return c == codeUnknownUser || c == codeWrongPassword || c == codeRequiredPassword || c == codeAuthenticationFailed
}

// IsRetryable reports whether the same call may succeed if repeated later:
// true for connection and network errors, timeouts and server errors about
// load (too many parts, memory limit, too many queries…); false for schema
// errors (unknown table or column, type mismatch, syntax), authentication
// and TLS certificate errors, invalid input (ErrBadInput), a closed sink
// and a cancelled context. An authentication error is retryable when the
// password comes from a file, which the next connection reads again
// (operators rotate a password by rewriting it). Retries with backoff
// belong to the caller.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	switch {
	case errors.Is(err, ErrBadInput), errors.Is(err, ErrSchemaMismatch), errors.Is(err, ErrClosed),
		errors.Is(err, ch.ErrConnectionClosed), errors.Is(err, context.Canceled):
		return false
	case isTLSConfigError(err):
		return false
	}
	var ex *ch.Exception
	if errors.As(err, &ex) {
		return retryableCodes[ex.Code] || errors.Is(err, errPasswordFile)
	}
	var opErr *ch.OpError // a value the driver could not convert
	if errors.As(err, &opErr) {
		return false
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ch.ErrAcquireConnTimeout),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH):
		return true
	case errors.As(err, &netErr):
		return true
	}
	return false
}

func isTLSConfigError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
		rerr tls.RecordHeaderError
	)
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) ||
		errors.As(err, &cerr) || errors.As(err, &rerr)
}

// connectError wraps a failed connect in a ConnectError with a hint.
func connectError(cfg Config, err error) *ConnectError {
	e := &ConnectError{Addr: strings.Join(cfg.Addr, ","), Err: err, Hint: "see the server's log"}
	var (
		ex     *ch.Exception
		dnsErr *net.DNSError
		rerr   tls.RecordHeaderError
		netErr net.Error
	)
	if errors.Is(err, errPasswordFile) && errors.As(err, &ex) {
		// At start a wrong password stops New, whatever its source.
		e.Err = ex
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Hint = "is the server running and the address right?"
	case errors.As(err, &dnsErr):
		e.Hint = "check the host name in addr"
	case errors.As(err, &ex) && isAuthCode(ex.Code):
		e.Hint = "check username and password"
	case errors.As(err, &ex):
		e.Hint = "the server refused the connection; see the message"
	case errors.As(err, &rerr):
		e.Hint = "the server did not answer with TLS: is this its secure native port (usually 9440), or should tls.enabled be false?"
	case isTLSConfigError(err):
		e.Hint = "check tls.ca_file, tls.server_name and the server's certificate"
	case errors.Is(err, ch.ErrAcquireConnTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		e.Hint = fmt.Sprintf("no answer within %s: check the address, firewalls, and dial_timeout", cfg.DialTimeout.Round(time.Millisecond))
		if errors.Is(err, ch.ErrAcquireConnTimeout) {
			// The driver's own text suggests pool tuning, which is not
			// what is wrong when the first connection cannot be made.
			e.Err = fmt.Errorf("no connection within dial_timeout %s: %w", cfg.DialTimeout, context.DeadlineExceeded)
		}
	case strings.Contains(err.Error(), "[handshake] unexpected packet"):
		// The driver has no typed error for this: an HTTP or other server
		// answered the native handshake.
		e.Hint = "the server does not speak the native protocol: is this its native port (usually 9000; 8123 is HTTP)?"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		if cfg.TLS.Enabled || cfg.TLS.Enable {
			e.Hint = "the server closed the connection: is this a native-protocol port that speaks TLS?"
		} else {
			e.Hint = "the server closed the connection: is this the native-protocol port (usually 9000, not HTTP 8123), and does it expect TLS (set tls.enabled)?"
		}
	}
	return e
}

// droppedMeanwhile reports whether err is a read of the system tables
// that failed because a table or view of the database was dropped while
// it ran (code 60, or 107 for its metadata file): another process
// replacing the rollup views (upgradeViews). Reading again gets past it.
func droppedMeanwhile(err error) bool {
	var ex *ch.Exception
	return errors.As(err, &ex) && (ex.Code == codeUnknownTable || ex.Code == codeFileDoesntExist)
}

// fixApply is what to do about a table or columns that are missing: the
// command creates the database and tables and adds missing columns, as
// the ClickHouse stages do when they start (EnsureTables).
const fixApply = "run `telekernel schema apply` with this config (EnsureTables from Go) to create or migrate it; telekernel also applies it when it starts"

// fixType is what to do about a column whose type differs from the one
// the sink writes: schema apply adds columns but never changes a type.
const fixType = "its type differs from what telekernel writes: `telekernel schema ddl` prints the column types; restore it with ALTER TABLE … MODIFY COLUMN"

// columnTypeError is a column whose values the driver could not convert to
// the column's type in the table: the table was altered by hand.
type columnTypeError struct {
	column string
	err    error
}

func (e *columnTypeError) Error() string {
	return fmt.Sprintf("column %s: %s", e.column, e.err)
}

func (e *columnTypeError) Unwrap() error { return e.err }

// schemaHint returns what to do, as " (…)", about an insert that failed
// because the table, a column of it or the database is missing, or a
// column has another type; "" for any other error. Such an error stops
// the stage (IsRetryable is false), so the line it logs has to say how
// to get it going again.
func schemaHint(err error) string {
	var ex *ch.Exception
	var ct *columnTypeError
	switch {
	case errors.As(err, &ex) && (ex.Code == codeUnknownTable || ex.Code == codeUnknownDatabase ||
		ex.Code == codeNoSuchColumnInTable || ex.Code == codeThereIsNoColumn):
		return " (the table or a column of it is missing: " + fixApply + ")"
	case errors.As(err, &ct):
		return " (" + fixType + ")"
	}
	return ""
}
