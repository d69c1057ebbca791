package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/stepfmt"
)

// FsckProblem is one thing wrong in a state directory and what to do.
type FsckProblem struct {
	Where   string `json:"where"` // a path in the state directory
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
}

// FsckReport is what Fsck found.
type FsckReport struct {
	StateDir    string        `json:"state_dir"`
	Applied     int           `json:"applied"` // the applied generation, 0 when none
	Records     int           `json:"records"` // managed targets in the applied record
	Generations int           `json:"generations"`
	Blobs       int           `json:"blobs"`            // blobs hashed
	Holder      int           `json:"holder,omitempty"` // pid of a live lock holder: an apply runs
	Journal     bool          `json:"journal"`          // an apply's journal is there
	Problems    []FsckProblem `json:"problems"`
}

// OK reports whether nothing is wrong.
func (r *FsckReport) OK() bool { return len(r.Problems) == 0 }

// Fsck checks the state directory dir thoroughly and changes nothing: the
// Applied record parses, read whole, and names a generation that is there,
// and its index, when it names the record, holds the record's entries; every
// generation's record and step list parse; a journal parses; every blob
// the applied record or the journal names is in the store and hashes to
// its name, and so does every other blob, of its own or packed; every
// pack's index is whole and in its pack's bounds, and has its pack; no
// temporary file or pack without an index is left by a process that is
// gone; the lock is a plain file, and no process group a
// killed trail started still runs. It reads every blob, so it costs what
// reading the store costs (status checks only that the needed blobs are
// there, see Engine.CheckBlobs).
//
// Fsck takes no lock: while an apply runs (Holder), what it writes may
// look unfinished, and the journal is its own.
func Fsck(dir string) (*FsckReport, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("state: %s is not a directory", dir)
	}
	c := &fsck{FsckReport: FsckReport{StateDir: dir, Problems: []FsckProblem{}}, dir: dir,
		need: map[string][]string{}, store: &Store{Dir: filepath.Join(dir, DirStore)}}
	if fi.Mode().Perm() != DirMode {
		c.problem(dir, fmt.Sprintf("mode %04o: the state holds saved file contents that only root may read", fi.Mode().Perm()),
			fmt.Sprintf("chmod 0700 %s", dir))
	}
	c.lock()
	c.applied()
	c.generations()
	c.journal()
	c.blobs()
	c.temps()
	return &c.FsckReport, nil
}

type fsck struct {
	FsckReport
	dir   string
	store *Store
	// need maps a blob to what needs it ("FILE /etc/x (pre-image)").
	need map[string][]string
}

func (c *fsck) problem(where, problem, fix string) {
	c.Problems = append(c.Problems, FsckProblem{Where: where, Problem: problem, Fix: fix})
}

func (c *fsck) path(name string) string { return filepath.Join(c.dir, name) }

// Lock checks the lock file: a regular file; if nobody holds it, no
// process group it names still runs.
func (c *fsck) lock() {
	file := c.path(FileLock)
	fi, err := os.Lstat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil || !fi.Mode().IsRegular() {
		c.problem(file, "the lock is not a regular file", "remove it while no trail runs: trail creates it again")
		return
	}
	f, err := os.OpenFile(file, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.problem(file, err.Error(), "make it readable by root")
		return
	}
	defer f.Close()
	pid, _, kids := holder(f)
	if h := flockHolder(f); h != 0 {
		c.Holder = h
		return
	}
	for _, g := range kids {
		if left := proc.GroupMembers(g); len(left) > 0 {
			c.problem(file, fmt.Sprintf("%v (pids %v), started by a trail (pid %d) that was killed, still runs", g, left, pid),
				fmt.Sprintf("the next trail run kills it before it undoes the interrupted apply; or kill -KILL %s", strings.Trim(fmt.Sprint(left), "[]")))
		}
	}
}

// flockHolder returns the pid of the process holding an flock on f, as
// /proc/locks shows it, or 0. It only reads, so unlike a try of the lock
// it can never make a trail starting at that moment fail to take it.
// Without /proc/locks it tries a shared lock, and names the pid the file
// holds (1 when it holds none).
func flockHolder(f *os.File) int {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		if unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == nil {
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			return 0
		}
		pid, _, _ := holder(f)
		return max(pid, 1)
	}
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		// "1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF"; a waiter has "->" after the number.
		if len(f) >= 6 && f[1] == "FLOCK" && f[5] == id {
			pid, _ := strconv.Atoi(f[4])
			return max(pid, 1)
		}
	}
	return 0
}

// Applied checks the applied record and notes the blobs it needs.
func (c *fsck) applied() {
	file := c.path(FileApplied)
	ap, err := LoadAppliedWhole(file)
	if err != nil {
		fix := "restore it from a backup of " + c.dir
		if errors.Is(err, ErrStateDamaged) {
			fix += "; or to start over, as if trail had never run, move " + c.dir + " aside"
		}
		c.problem(file, err.Error(), fix)
		return
	}
	defer ap.Close()
	if err := CheckAppliedIndex(file, ap); err != nil {
		c.problem(appliedIndexFile(file), err.Error(), "remove it: trail indexes the applied record afresh")
	}
	c.Applied, c.Records = ap.Generation, ap.Len()
	if ap.Generation > 0 {
		if _, err := os.Stat(filepath.Join(c.dir, DirGenerations, genName(ap.Generation)+".json")); err != nil {
			c.problem(file, fmt.Sprintf("names generation %d, which is not recorded: %v", ap.Generation, err),
				"restore the generations directory from a backup; the applied record itself is what trail needs to go on")
		}
	}
	err = ap.Each(func(r *kind.Record) error {
		for _, k := range r.Origin.Blobs() {
			c.need[k] = append(c.need[k], r.ID.String()+" (pre-image)")
		}
		for _, k := range r.Wrote.WroteBlobs(r.ID.Kind) {
			c.need[k] = append(c.need[k], r.ID.String()+" (content)")
		}
		return nil
	})
	if err != nil {
		c.problem(file, err.Error(), "run trail fsck again")
	}
}

// generations checks every generation's record and step list.
func (c *fsck) generations() {
	gd := c.path(DirGenerations)
	nums, err := GenerationNumbers(gd)
	if err != nil {
		c.problem(gd, err.Error(), "make it a readable directory")
		return
	}
	c.Generations = len(nums)
	for _, n := range nums {
		g, err := LoadGeneration(gd, n)
		if err != nil {
			c.problem(filepath.Join(gd, genName(n)+".json"), err.Error(),
				"restore it from a backup; trail log and rollback need it, applies do not")
		}
		file := StepsFile(gd, n)
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) && g != nil && g.Result == ResultInterrupted {
			continue // killed before it saved its list: it changed nothing
		}
		if errors.Is(err, fs.ErrNotExist) && g != nil && g.StepsPruned {
			continue // trail gc removed it
		}
		if err != nil {
			c.problem(file, err.Error(), "restore it from a backup: it is what generation "+strconv.Itoa(n)+" applied")
			continue
		}
		if _, errs := stepfmt.Parse(file, data); len(errs) > 0 {
			c.problem(file, fmt.Sprintf("does not parse: %v", errs[0]),
				"restore it from a backup: it is what generation "+strconv.Itoa(n)+" applied")
		}
	}
}

// Journal checks an apply's journal and notes the blobs its undo needs.
func (c *fsck) journal() {
	file := c.path(FileJournal)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	c.Journal = true
	if err != nil {
		c.problem(file, err.Error(), "make it readable by root")
		return
	}
	js, err := ParseJournal(file, data)
	if err != nil {
		c.problem(file, "the journal of an interrupted apply is damaged: "+err.Error(),
			"trail cannot know what to undo: inspect it, restore the machine by hand, then remove it")
		return
	}
	if c.Holder == 0 {
		c.problem(file, fmt.Sprintf("the apply of generation %d was interrupted and is not undone yet", js.Gen),
			"run 'trail status' or 'trail apply': opening the state undoes it")
	}
	for _, in := range js.Intents {
		for _, k := range in.Undo.Blobs() {
			c.need[k] = append(c.need[k], in.Step.ID().String()+" (undo of the interrupted apply)")
		}
	}
}

// blobs hashes every blob the state needs, then every other one.
func (c *fsck) blobs() {
	keys := make([]string, 0, len(c.need))
	for k := range c.need {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
		who := strings.Join(c.need[k], ", ")
		if kind.CheckKey(k) != nil {
			c.problem(c.path(FileApplied), fmt.Sprintf("%s names %q, which is not a blob key", who, k),
				"restore the applied record from a backup")
			continue
		}
		c.Blobs++
		_, packedErr, err := c.store.get(k)
		if err != nil {
			c.problem(c.store.where(k), fmt.Sprintf("blob %s, needed by %s: %v", k, who, blobTrouble(err)),
				"put the original content back under that name, from a backup of the store (a content blob also "+
					"comes back when trail compiles a commit that has it); until then, what needs it cannot be restored")
		} else if packedErr != nil {
			c.problem(c.store.where(k), fmt.Sprintf("blob %s, needed by %s: its copy in this pack is %v; its file of its own %s is good and is what trail reads: the content is intact",
				k, who, blobTrouble(packedErr), c.store.Path(k)),
				"nothing to do for the content: 'trail gc' drops the bad copy when it rewrites the pack")
		}
	}
	root := filepath.Join(c.store.Dir, "sha256")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			c.problem(p, err.Error(), "make the store readable by root")
			return nil
		}
		if d.IsDir() {
			return nil
		}
		key := "sha256:" + d.Name()
		if kind.CheckKey(key) != nil || filepath.Base(filepath.Dir(p)) != d.Name()[:2] {
			c.problem(p, "not a blob: its name is not the sha256 of a content in its place", "remove it")
			return nil
		}
		if seen[key] {
			return nil
		}
		c.Blobs++
		if _, err := c.store.Get(key); err != nil {
			c.problem(p, fmt.Sprintf("blob %s: %v; nothing the applied record names needs it", key, blobTrouble(err)),
				"remove it: a compile or a later capture stores it again")
		}
		return nil
	})
	c.packs(seen)
}

// blobTrouble shortens a store error to what is wrong with the blob.
func blobTrouble(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "missing"
	}
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, " is corrupt "); ok {
		return "corrupt " + strings.Split(after, ":")[0]
	}
	return msg
}

// temps looks for temporary files left by processes that are gone: one
// in store/tmp is its writer's lock (a compile stores blobs without the
// state lock; see tempFile); the state files are written under the lock, so their
// temporary names are checked only while nobody holds it.
func (c *fsck) temps() {
	left := func(p string) {
		c.problem(p, "a temporary file left by a trail that did not finish", "remove it while no trail runs")
	}
	if c.Holder == 0 {
		for _, d := range []string{c.dir, c.path(DirGenerations)} {
			ents, _ := os.ReadDir(d)
			for _, ent := range ents {
				if strings.HasSuffix(ent.Name(), TempSuffix) {
					left(filepath.Join(d, ent.Name()))
				}
			}
		}
	}
	tmp := filepath.Join(c.store.Dir, "tmp")
	names, _ := readNames(tmp)
	for _, n := range names {
		if writerGone(filepath.Join(tmp, n), false) {
			left(filepath.Join(tmp, n))
		}
	}
}
