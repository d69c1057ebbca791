package accounts

import (
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"trail/internal/fsx"
)

// useradd gives a user that is not a system user a range of subordinate
// uids in /etc/subuid and of gids in /etc/subgid when the file is there
// (shadow 4.13, find_new_sub_uids): SUB_UID_COUNT ids (65536) at the
// lowest start from SUB_UID_MIN that overlaps no range of the file, below
// SUB_UID_MAX. Looking for it sorts the file's ranges (by start, count,
// owner), and the new one is appended after them: so the file is written
// sorted but for its last line. userdel removes every range of the user,
// the other lines left as they are. A file with a line that is not
// OWNER:START:COUNT is left to the tools.

// subFiles are the files of subordinate ids.
var subFiles = []string{"/etc/subuid", "/etc/subgid"}

// subFileOf names the file of each kind of subordinate id.
var subFileOf = map[string]string{"UID": "/etc/subuid", "GID": "/etc/subgid"}

// subFile is a file of subordinate ids in memory.
type subFile struct {
	st      fsx.Stat
	old     []byte
	ranges  []subRange
	sorted  int // how many leading ranges are in order
	changed bool
}

type subRange struct {
	owner        string
	start, count uint64
	line         string
}

// subGrant is a range to add to a file.
type subGrant struct {
	f            *subFile
	start, count uint64
}

// subIDs reports whether useradd would give a new user subordinate ids
// of kind ("UID", "GID"): the file is there and the count is not 0.
func (n *native) subIDs(kind, file string) bool {
	if n.defs.unum("SUB_"+kind+"_COUNT", 65536) == 0 {
		return false
	}
	_, err := n.x.Root.Lstat(file)
	return err == nil
}

// sub returns file f read; nil when it is missing or holds a line trail
// does not write as the tools do.
func (n *native) sub(f string) (*subFile, error) {
	if sf, ok := n.subs[f]; ok {
		return sf, nil
	}
	if n.subs == nil {
		n.subs = map[string]*subFile{}
	}
	sf, err := readSub(n, f)
	if err != nil {
		return nil, err
	}
	n.subs[f] = sf
	return sf, nil
}

func readSub(n *native, f string) (*subFile, error) {
	st, err := n.x.Root.Lstat(f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil || st.Type != fsx.Regular {
		return nil, err
	}
	data, err := n.x.Root.ReadFile(f)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, nil
	}
	sf := &subFile{st: st, old: data}
	for l := range strings.SplitSeq(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" && len(data) == 0 {
			break
		}
		fs := strings.Split(l, ":")
		if len(fs) != 3 || fs[0] == "" || !plainNumber(fs[1]) || !plainNumber(fs[2]) {
			return nil, nil
		}
		start, err1 := strconv.ParseUint(fs[1], 10, 64)
		count, err2 := strconv.ParseUint(fs[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil
		}
		sf.ranges = append(sf.ranges, subRange{fs[0], start, count, l})
	}
	return sf, nil
}

// plainNumber reports whether s is a decimal number strtoul reads as
// decimal (no sign, no leading zero).
func plainNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == "" && (s == "0" || s[0] != '0')
}

func cmpRange(a, b subRange) int {
	switch {
	case a.start != b.start:
		return cmpU(a.start, b.start)
	case a.count != b.count:
		return cmpU(a.count, b.count)
	}
	return strings.Compare(a.owner, b.owner)
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// sort puts the ranges in order, as commonio_sort does (it does nothing
// to a file of fewer than two).
func (sf *subFile) sort() {
	if len(sf.ranges) < 2 || sf.sorted == len(sf.ranges) {
		return
	}
	if sf.sorted == len(sf.ranges)-1 && sf.sorted > 0 {
		last := sf.ranges[len(sf.ranges)-1]
		i, _ := slices.BinarySearchFunc(sf.ranges[:sf.sorted], last, cmpRange)
		copy(sf.ranges[i+1:], sf.ranges[i:len(sf.ranges)-1])
		sf.ranges[i] = last
	} else {
		slices.SortStableFunc(sf.ranges, cmpRange)
	}
	sf.sorted, sf.changed = len(sf.ranges), true
}

// free returns the start of the range of kind ("UID", "GID") useradd
// would give a new user (find_free_range); false where useradd fails.
func (sf *subFile) free(d *toolDefs, kind string) (uint64, bool) {
	lo := d.unum("SUB_"+kind+"_MIN", 100000)
	hi := d.unum("SUB_"+kind+"_MAX", 600100000)
	count := d.unum("SUB_"+kind+"_COUNT", 65536)
	if lo > hi || count >= hi || lo+count-1 > hi || count == 0 {
		return 0, false
	}
	sf.sort()
	low := lo
	for _, r := range sf.ranges {
		last := r.start + r.count - 1
		high := min(r.start, hi+1)
		if high > low && high-low >= count {
			return low, true
		}
		if low < last+1 {
			low = last + 1
		}
		if low > hi {
			return 0, false
		}
	}
	if hi-low+1 >= count {
		return low, true
	}
	return 0, false
}

// add appends a range of owner.
func (sf *subFile) add(owner string, start, count uint64) {
	sf.ranges = append(sf.ranges, subRange{owner, start, count, owner + ":" + strconv.FormatUint(start, 10) + ":" + strconv.FormatUint(count, 10)})
	sf.changed = true
}

// removeOwner removes every range of owner, as userdel does.
func (sf *subFile) removeOwner(owner string) {
	n := len(sf.ranges)
	kept := sf.ranges[:0]
	sorted := sf.sorted
	for i, r := range sf.ranges {
		if r.owner == owner {
			if i < sf.sorted {
				sorted--
			}
			continue
		}
		kept = append(kept, r)
	}
	if len(kept) != n {
		sf.ranges, sf.sorted, sf.changed = kept, min(sorted, len(kept)), true
	}
}

// text is the file's content.
func (sf *subFile) text() string {
	var b strings.Builder
	for _, r := range sf.ranges {
		b.WriteString(r.line)
		b.WriteByte('\n')
	}
	return b.String()
}
