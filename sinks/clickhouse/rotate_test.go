package clickhouse

import (
	"fmt"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// A failed login is retryable only when the password comes from a file,
// which the next connection reads again (dialWith marks it so).
func TestAuthRetryableWithPasswordFile(t *testing.T) {
	f := func(err error, want bool) {
		t.Helper()
		if got := IsRetryable(err); got != want {
			t.Errorf("IsRetryable(%v) = %v, want %v", err, got, want)
		}
	}
	for _, code := range []int32{codeUnknownUser, codeWrongPassword, codeRequiredPassword, codeAuthenticationFailed} {
		ex := &ch.Exception{Code: code, Message: "Wrong password for user tk"}
		f(ex, false)
		f(fmt.Errorf("cannot insert 3 rows into db.samples: %w", ex), false)
		f(fmt.Errorf("cannot insert 3 rows into db.samples: %w", fmt.Errorf("%w (%w)", ex, errPasswordFile)), true)
	}
}
