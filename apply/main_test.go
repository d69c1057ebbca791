package apply

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"trail/stepfmt"
)

// TestMain doubles as the child of the crash and lock tests: with
// TRAIL_TEST_CHILD set, the test binary applies a step list and, at the
// crash point numbered TRAIL_TEST_CRASH_AT, kills itself with SIGKILL;
// TRAIL_TEST_AGEKEY is the age key it decrypts and seals secrets with.
func TestMain(m *testing.M) {
	if os.Getenv("TRAIL_TEST_CHILD") != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	at, _ := strconv.Atoi(os.Getenv("TRAIL_TEST_CRASH_AT"))
	batch, _ := strconv.Atoi(os.Getenv("TRAIL_TEST_BATCH"))
	hold, _ := time.ParseDuration(os.Getenv("TRAIL_TEST_HOLD"))
	n := 0
	opts := Options{
		Root:             os.Getenv("TRAIL_TEST_ROOT"),
		StateDir:         os.Getenv("TRAIL_TEST_STATE"),
		AllowMassRemoval: true,
		batchSize:        batch,
		LockTimeout:      10 * time.Second,
		crash: func(point string) {
			n++
			if n == at {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
			if hold > 0 && n == 1 {
				fmt.Println("holding")
				time.Sleep(hold)
			}
		},
	}
	if k := os.Getenv("TRAIL_TEST_AGEKEY"); k != "" {
		id, err := age.ParseX25519Identity(k)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		opts.Decrypt, opts.Seal = ageFuncs(id)
	}
	e, err := Open(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer e.Close()
	file := os.Getenv("TRAIL_TEST_LIST")
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	l, errs := stepfmt.Parse(file, data)
	if len(errs) > 0 {
		fmt.Fprintln(os.Stderr, errs)
		return 2
	}
	if _, err := e.Apply(context.Background(), l, Meta{Commit: os.Getenv("TRAIL_TEST_COMMIT")}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	return 0
}
