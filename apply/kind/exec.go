package kind

import (
	"io"
	"os"
	"slices"
	"strings"

	"trail/internal/fsx"
	"trail/stepfmt"
)

// Exec is what a handler works with during one operation (a plan, an
// apply, a drift check): the root every target lives under, the content
// store, account lookups in the root's /etc/passwd and /etc/group, and the
// index that spares re-hashing unchanged files.
type Exec struct {
	Root  *fsx.Root
	store Blobs
	index Hashes
	acct  accounts
	// planned names the users and groups the list being applied creates,
	// so that a plan can accept an owner that does not exist yet.
	planned map[string]bool
	uid     uint32
	gid     uint32
	blobs   map[string]bool // store keys known to be present
	buf     []byte
	// wrote is the content key trail wrote to the path a drift check is
	// reading, so that HashFile reads no more than that size.
	wrote string
	// reports holds what the step being run said (a command's output),
	// for its event.
	reports []string
	// brought holds what each change of the call being made brought
	// along (see Bringer).
	brought map[*stepfmt.Step][]string
	// kept holds what kinds decided over the whole plan (see listPlanner
	// and changePlanner), by a key of each kind's own.
	kept map[any]any
	// secrets are the decrypted contents of secret FILE steps (secret.go).
	secrets secrets
	// derived holds the contents checks computed (Derive), by their key.
	derived map[string][]byte
}

// Blobs is the content store as a kind sees it: contents by their key
// ("sha256:<hex>", HashKey), staged during a batch and made durable by the
// engine before the journal names them.
type Blobs interface {
	Stage(r io.Reader) (string, error)
	Has(key string) bool
	Get(key string) ([]byte, error)
	Open(key string) (io.ReadCloser, error)
	// Size is the length of blob key, when the store has it.
	Size(key string) (int64, bool)
	// MkdirTemp makes a private directory in trail's state directory,
	// removed by the next trail if this one dies before removing it.
	MkdirTemp(what string) (string, error)
}

// Hashes is the drift index as a kind sees it: the content key of a file
// hashed before, while its stat is the one recorded then.
type Hashes interface {
	Lookup(p string, st fsx.Stat) (string, bool)
	Put(p string, st fsx.Stat, key string)
}

// NewExec starts an operation on the targets under root (the engine
// makes one per plan, apply, drift check or heal).
func NewExec(root *fsx.Root, store Blobs, idx Hashes) *Exec {
	return &Exec{Root: root, store: store, index: idx, uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
}

// Stage puts content into the store as part of the current batch and
// returns its key; the engine makes staged blobs durable before the
// journal records the steps that need them.
func (x *Exec) Stage(r io.Reader) (string, error) { return x.store.Stage(r) }

// MkdirTemp makes a private directory for a step's work files (see
// Blobs.MkdirTemp); the caller removes it.
func (x *Exec) MkdirTemp(what string) (string, error) { return x.store.MkdirTemp(what) }

// HasBlob reports whether the store holds key, remembering the answer for
// the rest of the operation (blobs are never removed during one).
func (x *Exec) HasBlob(key string) bool {
	if x.blobs[key] {
		return true
	}
	// A packed blob is found in its pack's mapped index about as fast as
	// in the map, and is not remembered: at 100,000 packed contents the
	// map was 3 MB of a first apply's plan.
	if p, ok := x.store.(packedBlobs); ok && p.HasPacked(key) {
		return true
	}
	if !x.store.Has(key) {
		return false
	}
	if x.blobs == nil {
		x.blobs = make(map[string]bool)
	}
	x.blobs[key] = true
	return true
}

// packedBlobs is a store that tells, without a system call, whether a
// pack holds a blob (state.Store).
type packedBlobs interface{ HasPacked(key string) bool }

// Store returns the content store.
func (x *Exec) Store() Blobs { return x.store }

// Hashes returns the index the operation reads and updates.
func (x *Exec) Hashes() Hashes { return x.index }

// Report adds text to the event of the step being run, such as what a
// command printed; the event carries it in its Detail, and so the journal.
func (x *Exec) Report(text string) { x.reports = append(x.reports, text) }

// Planned reports whether the list being applied creates what key
// names: "user:NAME", "group:NAME", "nondir:PATH" (a FILE or LINK step,
// noted only in a list with a PKG step: packages alone ask, and a list of
// 100,000 files need not hold a key for each), or "package:*" (any PKG
// step); "absent:NS:TARGET" names a step with
// absent=true (NS its namespace), which creates nothing.
func (x *Exec) Planned(key string) bool { return x.planned[key] }

// Applier returns the uid and gid trail runs as: the owner of what it
// creates without an owner or group given.
func (x *Exec) Applier() (uid, gid uint32) { return x.uid, x.gid }

// SetWrote names the content key trail wrote to the path a drift check
// reads next ("" after it), so that HashFile reads no more than its size.
func (x *Exec) SetWrote(key string) { x.wrote = key }

// Keep stores v under key for the rest of the operation, as a kind's
// decision over the whole plan; key is a value of a type of the kind's own
// (as with context.WithValue), so that kinds never see each other's.
func (x *Exec) Keep(key, v any) {
	if x.kept == nil {
		x.kept = make(map[any]any)
	}
	x.kept[key] = v
}

// Kept returns what Keep stored under key, nil when nothing.
func (x *Exec) Kept(key any) any { return x.kept[key] }

// Derive keeps for the rest of the operation a content a check computed
// rather than found in the store (an EDIT's edits applied to its file),
// and returns its key: the change writes it from here, and a plan shows
// it (apply's Plan.Content).
func (x *Exec) Derive(data []byte) string {
	key := HashKey(data)
	if x.derived == nil {
		x.derived = make(map[string][]byte)
	}
	x.derived[key] = data
	return key
}

// Derived returns the content Derive kept under key.
func (x *Exec) Derived(key string) ([]byte, bool) {
	data, ok := x.derived[key]
	return data, ok
}

// TakeReports returns and forgets what the step being run reported (the
// engine calls it, for the step's event).
func (x *Exec) TakeReports() []string {
	r := x.reports
	x.reports = nil
	return r
}

// Bring records what the change of s brought onto the machine besides its
// target (see Bringer).
func (x *Exec) Bring(s *stepfmt.Step, names []string) {
	if x.brought == nil {
		x.brought = make(map[*stepfmt.Step][]string)
	}
	x.brought[s] = append(x.brought[s], names...)
}

// TakeBrought returns and forgets what the change of s brought (the
// engine calls it, see Bringer).
func (x *Exec) TakeBrought(s *stepfmt.Step) []string {
	b := x.brought[s]
	delete(x.brought, s)
	return b
}

// PlanNames records what a list creates, for Planned (the engine calls
// it before a plan's checks).
func (x *Exec) PlanNames(l *stepfmt.List) {
	x.planned = make(map[string]bool)
	packages := slices.ContainsFunc(l.Steps, func(s *stepfmt.Step) bool { return s.Kind == stepfmt.KindPackage })
	for _, s := range l.Steps {
		if s.Absent() {
			x.planned["absent:"+stepfmt.Namespace(s.Kind)+":"+s.Target] = true
			continue // it creates nothing
		}
		switch s.Kind {
		case stepfmt.KindUser:
			x.planned["user:"+s.Target] = true
		case stepfmt.KindGroup:
			x.planned["group:"+s.Target] = true
		case stepfmt.KindPackage:
			// A package may ship what a later step needs (a unit file).
			x.planned["package:*"] = true
		case stepfmt.KindFile, stepfmt.KindLink:
			// Not a directory a package's owns= may predict.
			if packages {
				x.planned["nondir:"+s.Target] = true
			}
		}
	}
}

// View is what a check sees: the machine as it is, overlaid during a plan
// with the predicted result of the plan's earlier changes, so that a check
// of FILE /a/b knows that DIR /a will have been created by then.
type View struct {
	x *Exec
	// overlay holds the predicted images by namespace, then target: a
	// key of one string where one of two was 16 bytes more an entry.
	overlay map[string]map[string]predicted
	// shapes holds what the overlay's images share, by a key keep
	// builds in key.
	shapes map[string]*shape
	key    []byte
	// fresh holds the paths the plan creates, replaces or removes that
	// have no predicted image of the path namespace (MarkFresh): what
	// lies under them on the machine now is not what the plan will find
	// there. One that has is marked in its image's shape.
	fresh map[string]bool
	// owned holds the paths (owns=) of packages the plan installs: the
	// package brings what lies under them, so a directory missing there
	// now is expected from it (see parentReady).
	owned []string
	// known is the image of one target (ns, key) that the caller knows
	// already and Lookup gives without reading (NewViewKnowing).
	known             Image
	knows             bool
	knownNS, knownKey string
}

// pathNS is the namespace of the paths MarkFresh marks.
var pathNS = stepfmt.Namespace(stepfmt.KindFile)

// Exec returns the operation context the view reads through.
func (v *View) Exec() *Exec { return v.x }

// Planning reports whether the view predicts (a plan) rather than shows the
// machine as it is (an apply).
func (v *View) Planning() bool { return v.overlay != nil }

// Lookup returns the predicted image of the thing with identity (ns, key)
// (stepfmt.Namespace of its kind, and its target) when an earlier change of the plan touches it,
// and otherwise what read returns.
func (v *View) Lookup(ns, key string, read func() (Image, error)) (Image, error) {
	if p, ok := v.overlay[ns][key]; ok {
		return p.image(), nil
	}
	if v.knows && key == v.knownKey && ns == v.knownNS {
		return v.known, nil
	}
	return read()
}

// Predict records the state a change will leave target in.
func (v *View) Predict(ns, target string, img Image) {
	if v.overlay == nil {
		return
	}
	m := v.overlay[ns]
	if m == nil {
		m = make(map[string]predicted)
		v.overlay[ns] = m
	}
	old, ok := m[target]
	m[target] = v.keep(img, ok && old.shape.fresh)
}

// Predicted returns the predicted image of target, if any.
func (v *View) Predicted(ns, target string) (Image, bool) {
	p, ok := v.overlay[ns][target]
	if !ok {
		return Image{}, false
	}
	return p.image(), true
}

// PredictedState returns the state of the predicted image of target, if
// any, without making the image: what a check of a path's parent asks.
func (v *View) PredictedState(ns, target string) (string, bool) {
	p, ok := v.overlay[ns][target]
	if !ok {
		return "", false
	}
	return p.shape.state, true
}

// NewView returns a view of the machine as it is, for an apply, a drift
// check or an undo.
func NewView(x *Exec) *View { return &View{x: x} }

// NewViewKnowing is NewView that gives img for the thing (ns, key)
// without reading the machine: for the caller that knows what a read
// would find, as the apply knows a new file absent when nothing but its
// own change can have made it since its pre-image was taken.
func NewViewKnowing(x *Exec, ns, key string, img Image) *View {
	return &View{x: x, known: img, knows: true, knownNS: ns, knownKey: key}
}

// NewPlanView returns a view that predicts: each change of a plan's checks
// leaves its result for the checks after it.
func NewPlanView(x *Exec) *View {
	return &View{x: x, overlay: make(map[string]map[string]predicted), shapes: make(map[string]*shape), fresh: make(map[string]bool)}
}

// MarkFresh notes that the plan creates, replaces or removes the object
// at p.
func (v *View) MarkFresh(p string) {
	pr, ok := v.overlay[pathNS][p]
	if !ok {
		v.fresh[p] = true
		return
	}
	if !pr.shape.fresh {
		v.overlay[pathNS][p] = v.freshened(pr)
	}
}

// isFresh reports whether MarkFresh marked p.
func (v *View) isFresh(p string) bool {
	if pr, ok := v.overlay[pathNS][p]; ok && pr.shape.fresh {
		return true
	}
	return v.fresh[p]
}

// Own notes that a package the plan installs owns the path p.
func (v *View) Own(p string) { v.owned = append(v.owned, p) }

// UnderOwned reports whether p is below a path a package that the plan
// installs owns.
func (v *View) UnderOwned(p string) bool {
	for _, o := range v.owned {
		if strings.HasPrefix(p, strings.TrimSuffix(o, "/")+"/") {
			return true
		}
	}
	return false
}

// Replaced reports whether the plan creates, replaces or removes the
// object at p or at one of its parents, so that what the machine holds
// there now is not what the plan will find.
func (v *View) Replaced(p string) bool {
	for a := p; a != "/"; a = fsx.Parent(a) {
		if v.isFresh(a) {
			return true
		}
	}
	return false
}

// PredictedChildren returns the names the plan predicts present in
// directory p.
func (v *View) PredictedChildren(p string) []string {
	var names []string
	for target, img := range v.overlay[stepfmt.Namespace(stepfmt.KindDir)] {
		if target != p && fsx.Parent(target) == p && !(Image{State: img.shape.state}).IsAbsent() {
			names = append(names, target[strings.LastIndexByte(target, '/')+1:])
		}
	}
	return names
}
