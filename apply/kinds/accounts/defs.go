package accounts

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"trail/apply/kind"
)

// toolDefs is what useradd reads from the root's /etc/login.defs and
// /etc/default/useradd, read as it reads them (shadow 4.13): login.defs
// lines are "NAME value" (a quoted value loses its quotes, the last line
// of a name wins, a number may be octal or hex as strtol reads it);
// default/useradd lines are NAME=value.
type toolDefs struct {
	login map[string]string
	dflt  map[string]string
}

// readToolDefs reads the root's login.defs and default/useradd.
func readToolDefs(x *kind.Exec) (*toolDefs, error) {
	d := &toolDefs{login: map[string]string{}, dflt: map[string]string{}}
	data, err := x.Root.ReadFile("/etc/login.defs")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimRight(line, " \t\r\f\v")
		line = strings.TrimLeft(line, " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			continue
		}
		v := strings.TrimLeft(line[i:], " \"\t")
		if j := strings.IndexByte(v, '"'); j >= 0 {
			v = v[:j]
		}
		d.login[line[:i]] = v
	}
	data, err = x.Root.ReadFile("/etc/default/useradd")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			if _, seen := d.dflt[k]; !seen { // useradd matches the first line of each
				d.dflt[k] = v
			}
		}
	}
	return d, nil
}

// num is login.defs' name as a number, def when unset or not a number.
func (d *toolDefs) num(name string, def int64) int64 {
	v, ok := d.login[name]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil {
		return def
	}
	return n
}

// unum is login.defs' name as an id, def when unset or not a number.
func (d *toolDefs) unum(name string, def uint64) uint64 {
	v, ok := d.login[name]
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(v, 0, 64)
	if err != nil {
		return def
	}
	return n
}

// yes reports whether login.defs' boolean name is set ("yes").
func (d *toolDefs) yes(name string) bool { return strings.EqualFold(d.login[name], "yes") }

// idRange is the range useradd and groupadd choose a new id in, and the
// lowest id they accept as a preferred one (find_new_uid.c's get_ranges):
// kind is "UID" or "GID".
func (d *toolDefs) idRange(kind string, system bool) (lo, hi, preferredMin uint64) {
	if system {
		lo = d.unum("SYS_"+kind+"_MIN", 101)
		hi = d.unum("SYS_"+kind+"_MAX", d.unum(kind+"_MIN", 1000)-1)
		if lo == 0 {
			lo = 1
		}
		return lo, hi, 1
	}
	lo, hi = d.unum(kind+"_MIN", 1000), d.unum(kind+"_MAX", 60000)
	return lo, hi, lo
}
