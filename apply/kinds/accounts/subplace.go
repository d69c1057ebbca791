package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// userdel removes a user's ranges of subordinate ids, and useradd gives
// a user new ones (sorting the file to find them: subids.go). The
// pre-image of an absent USER step therefore notes, per file that is
// there, the user's own lines: subuid-at and subgid-at, a comma list of
// INDEX:START:COUNT (empty when it has none). Its reverse runs useradd
// with no subordinate ids (-K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0), then
// puts each saved line back at its index, so the user has the ranges it
// had, where they stood. A pre-image without these keys leaves it to
// useradd.

// subKeys are the keys of the saved lines, by file.
var subKeys = map[string]string{"/etc/subuid": "subuid-at", "/etc/subgid": "subgid-at"}

// withSubIDs adds to img the user's lines of each file of subordinate ids
// that is there.
func withSubIDs(x *kind.Exec, name string, img kind.Image) (kind.Image, error) {
	for _, f := range subFiles {
		data, err := x.Root.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return kind.Image{}, err
		}
		var at []string
		for i, l := range fileLines(data) {
			if lineName(l) == name {
				_, rng, _ := strings.Cut(strings.TrimSuffix(string(l), "\n"), ":")
				at = append(at, strconv.Itoa(i)+":"+rng)
			}
		}
		img.Attrs = append(img.Attrs, stepfmt.Attr{Key: subKeys[f], Value: strings.Join(at, ",")})
	}
	return img, nil
}

// noSubIDArgs are useradd's options that give the user no subordinate
// ids, when img saved the user's own (withSubIDs).
func noSubIDArgs(img kind.Image) []string {
	var args []string
	for _, k := range []string{"UID", "GID"} {
		if _, ok := img.Get(subKeys[subFileOf[k]]); ok {
			args = append(args, "-K", "SUB_"+k+"_COUNT=0")
		}
	}
	return args
}

// putSubIDs puts back the user's lines img saved, each at its index, in
// place of any the user has.
func putSubIDs(x *kind.Exec, name string, img kind.Image) error {
	for _, f := range subFiles {
		v, ok := img.Get(subKeys[f])
		if !ok {
			continue
		}
		if err := putSubLines(x, f, name, v); err != nil {
			return fmt.Errorf("user %s: %s: %w", name, f, err)
		}
	}
	return nil
}

func putSubLines(x *kind.Exec, f, name, saved string) error {
	unlock, err := LockAccounts(x, f)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := x.Root.Lstat(f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	data, err := x.Root.ReadFile(f)
	if err != nil {
		return err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil // not as the tools write it: leave it to them
	}
	var lines [][]byte
	if len(data) > 0 {
		lines = fileLines(data)
	}
	lines = slices.DeleteFunc(slices.Clone(lines), func(l []byte) bool { return lineName(l) == name })
	if saved != "" {
		for _, p := range strings.Split(saved, ",") {
			idx, rng, _ := strings.Cut(p, ":")
			n, err := strconv.Atoi(idx)
			if err != nil || n < 0 || strings.Count(rng, ":") != 1 {
				return fmt.Errorf("saved %s=%q is not a list of INDEX:START:COUNT", subKeys[f], saved)
			}
			lines = slices.Insert(lines, min(n, len(lines)), []byte(name+":"+rng+"\n"))
		}
	}
	out := bytes.Join(lines, nil)
	if bytes.Equal(out, data) {
		return nil
	}
	if err := x.Root.Stage(f, bytes.NewReader(out), st.Mode, st.UID, st.GID); err != nil {
		return err
	}
	return x.Root.Flush()
}

// isSubKey reports whether key is one of subKeys, which a plan does not
// show.
func isSubKey(key string) bool {
	return key == subKeys[path.Join("/etc", strings.TrimSuffix(key, "-at"))]
}
