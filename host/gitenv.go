package host

import (
	"os"
	"strings"
)

// gitEnv is the environment for the git trail runs: the caller's, without
// the variables git sets for a hook (GIT_DIR, GIT_INDEX_FILE, ...), which
// would point a nested git at the hook's repository state rather than the
// checkout's.
func gitEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY":
			continue
		}
		out = append(out, kv)
	}
	return out
}
