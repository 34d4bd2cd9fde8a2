// Package nabtest locates the NAB subset shipped beside the repository for
// tests of packages that evaluate on it.
package nabtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the NAB data folder: TK_NAB_DIR, else ../shared/data/nab
// next to the repository. Without it the test skips, except under make
// test (TK_INTEGRATION=1), where the data is part of the checkout and its
// absence is a failure.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TK_NAB_DIR")
	if dir == "" {
		dir = filepath.Join(SharedData(), "nab")
	}
	if _, err := os.Stat(filepath.Join(dir, "labels", "combined_windows.json")); err != nil {
		if os.Getenv("TK_INTEGRATION") != "" {
			t.Fatalf("NAB data not found at %s (set TK_NAB_DIR): %v", dir, err)
		}
		t.Skipf("NAB data not found at %s (set TK_NAB_DIR)", dir)
	}
	return dir
}

// SharedData returns the shared data folder next to the repository
// (REPO/../shared/data), found from this source file's location so that it
// does not depend on the test's working directory.
func SharedData() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "data")
}

// Data returns the NAB data folder and the combined windows file of Dir.
func Data(t testing.TB) (data, labels string) {
	dir := Dir(t)
	return filepath.Join(dir, "data"), filepath.Join(dir, "labels", "combined_windows.json")
}
