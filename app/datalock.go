package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the file in the data folder that a run on the embedded
// broker holds an exclusive flock(2) on for its life. The file stays when
// the run ends: the lock is the kernel's and goes with the process, so a
// file left by a run that crashed blocks nothing, and removing it would
// let a run that opened it before the removal lock a file nobody else
// sees. The leading dot keeps it out of the lake's readers.
const lockFileName = ".telekernel.lock"

// errNoFlock is lockData's error when the file system of the data folder
// does not support flock (some network file systems): the run goes on
// without the lock.
var errNoFlock = errors.New("flock is not supported")

// lockData takes the exclusive lock of the data folder root, creating the
// folder, and writes this process's pid in the lock file for the error of
// a run that finds it taken. The returned function releases the lock.
// Two runs on the embedded broker in one folder would move each other's
// output aside (setAsideEarlierRun) and write Parquet files of the same
// offset ranges, each replacing the other's.
func lockData(root string) (func(), error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the data folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(root, lockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		switch {
		case errors.Is(err, syscall.EWOULDBLOCK):
			// The holder writes its pid just after it locks: a run that
			// looks in between finds none.
			var pid string
			if b, err := os.ReadFile(f.Name()); err == nil {
				if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					pid = " (pid " + strconv.Itoa(n) + ")"
				}
			}
			return nil, fmt.Errorf("the data folder %s is in use by another telekernel run%s; stop it or give --data another folder", root, pid)
		case errors.Is(err, syscall.ENOTSUP), errors.Is(err, syscall.ENOLCK), errors.Is(err, syscall.EINVAL):
			return nil, fmt.Errorf("%w: %v", errNoFlock, err)
		}
		return nil, fmt.Errorf("cannot lock the data folder: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0) // the pid only helps the error
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
