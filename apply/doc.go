// Package apply runs a plan on a machine: it moves the targets under a
// root from the applied generation to a new step list, forward for added
// and modified steps, in reverse for removed ones, and records the result.
//
// # Contract
//
//   - Plan before act. Apply validates the whole list and checks every
//     change against the machine (through the same Handler.Check path that
//     Plan uses) before the first change. A problem anywhere — an invalid
//     step, content missing from the store, an unknown owner, a parent that
//     is a symlink, a non-empty directory in the way — refuses the apply
//     with every error at its step's source, and changes nothing.
//   - Mass removal is refused when it arrives by itself: an empty list
//     over a non-empty record, or a plan removing more than half of the
//     managed targets, needs Options.AllowMassRemoval or Meta.Deliberate
//     (an admin named the commit: a checkout, apply REV or rollback, as a
//     rollback to before trail must remove everything). The rule is
//     applied as written even to small records (removing 1 of 1 target is
//     refused too). A list that does not validate is never applied, so a
//     failed compile never becomes a removal.
//   - Nothing lost. Before a step first changes a target, its pre-image
//     (type, content, mode, owner, group, symlink target) is saved; a
//     removed step restores it exactly. A target found changed by hand
//     (drifted) is saved to the store before it is overwritten or removed
//     and the drift is reported. A directory trail created is removed only
//     when it holds nothing trail did not write; otherwise it is kept and
//     reported. A FILE or LINK never replaces a directory holding files
//     (the step is refused); an empty directory, a file or a symlink in
//     the way is saved and replaced, so its reverse is exact. A step with
//     absent=true removes its target the same way, saved first: a path's
//     file, symlink or empty directory (one holding anything that the
//     plan does not remove first is refused, unless recursive=true: then
//     the whole tree, saved as one archive), an account (userdel,
//     groupdel; a home stays), a package (apt-get remove, or purge); its
//     reverse restores the pre-image, and a target that comes back is
//     drift.
//   - Path safety. Targets are resolved under Options.Root with
//     internal/fsx: no symlink is ever followed in any component, and
//     directories are looked up afresh for each batch of changes.
//   - Attributes. What a step does not manage is left as found on an
//     existing target. A new object gets everything set explicitly — mode
//     0644 (files) or 0755 (directories), the applier's owner and group —
//     never inherited from a setgid parent, so that its attributes do not
//     depend on the history of its parent. An attribute the old step
//     managed and the new one does not gets the value a fresh apply would
//     give it (taken from the origin), which keeps applies path
//     independent (DESIGN invariant 1). Owner and group names are
//     resolved in the root's /etc/passwd and /etc/group, as the plan's
//     earlier USER and GROUP changes leave them; the files are read again
//     only after a change that may touch them (kind.Exec.ForgetAccounts:
//     each batch, any step but a path or one on an account file, an undo). A path keeps the number a
//     name stood for when it was applied, so a plan that changes a USER or
//     GROUP (a uid or gid moved, an account added over one that existed,
//     or given back as it was before trail) revisits every unchanged DIR,
//     FILE, LINK and ATTRS naming it as owner or group: planned as a modify of
//     itself, kept when its number changes, dropped again when not
//     (revisit.go). A plan removing an account a path still names is
//     refused, as a fresh apply of the list would fail.
//   - Idempotence. Applying the applied list again for the same commit
//     writes nothing, on the machine or in the state directory (beyond the
//     lock file); it costs reading two small files and one step list, and
//     does not look at the machine (Drift and Heal do). The generation it
//     returns is the applied one, marked NoOp: its counts are not this
//     call's (a second hook for one commit finds it applied meanwhile). A
//     step whose target already matches is not rewritten.
//   - Force. Apply with Meta.Force checks every step the list shares with
//     the applied one against the machine (the drift check) and plans
//     each drifted one as a modify of itself, whatever its drift policy,
//     among the diff's changes in list order: journaled, the drifted
//     state saved and reported, counted as modified, a new generation of
//     the commit. With nothing drifted and the same list for the same
//     commit it is the no-op path and writes nothing but, when its check
//     hashed many files again (touched, not changed), the drift index: a
//     cache, saved so the next check does not hash them again. ForceMatches
//     gives that answer for the applied generation's own list without it:
//     its step list and the applied record read side by side as text,
//     each target compared through its kind's kind.Matcher (else Drift);
//     anything else than a match leaves the forced Apply to the caller.
//   - One at a time. Apply, Drift and Heal take an flock on the state
//     lock; a second waits up to Options.LockTimeout and then fails with a
//     *LockError naming the holder's pid. Plan takes no lock: it is a dry
//     run of what the state says now. The lock file is opened
//     close-on-exec and unlocked before it is closed, so no program trail
//     runs, nor a process forked meanwhile, keeps the lock after trail
//     releases it.
//   - State loss. A missing applied record is a new host only while no
//     apply ever succeeded with the state directory; otherwise every
//     operation that needs it fails with ErrStateDamaged and says what to
//     do. Engine.CheckBlobs stats the blobs the applied record needs
//     (for status); Fsck checks the whole state directory and hashes
//     every blob.
//   - Temporary names. Files and symlinks are written as .NAME.trail-tmp
//     next to their target and renamed into place; these names are
//     trail's, and recovery removes any left by a crash.
//   - Honest reporting. Every apply, step, failure, drift, rollback and
//     refusal is passed to Options.OnEvent with the commit and the step's
//     source.
//
// # Crash safety and the journal
//
// An apply runs its plan in batches. For each batch it (1) captures the
// pre-image of every target and makes the blobs durable, (2) writes one
// journal "intent" per change, holding the image that undoes it, and
// fsyncs the journal, (3) makes the changes — file contents are written
// under a temporary name next to the target, but for a new file in a
// directory the apply made, written at its name by two goroutines while
// the next changes are checked and made (fsx.Root.Background) — (4)
// makes the batch durable, once those writes are done
// (fsx.Root.Flush: file data synced, then renamed into place, then the
// directories synced; with syncfs(2) once per file system for a large
// batch, fsync(2) per object for a small one), and (5) journals the batch
// "done". When every batch is done, the generation is saved and the
// applied record is replaced by a durable rename: that rename is the
// commit. The journal is removed last.
//
// Open (and every Apply and Drift, under the lock) looks for a journal.
// If the applied record already names its generation, the apply had
// committed and the journal is removed. Otherwise the interrupted apply is
// rolled back: every journaled change is undone, newest first, by
// restoring its image, and the generation is recorded as interrupted.
//
// Recovery undoes rather than finishes, because the old generation is the
// last state known whole: it was applied and checked completely, while
// the new one never reached its post-apply checks, and an apply that
// crashed the machine would crash it again when rolled forward on boot.
// A kind whose change brings more onto the machine than its target (apt
// installing a package's new dependencies) names it after the call; the
// engine then journals the change's undo image again with it (an "amend"
// entry, durable before the next change) and keeps it in the target's
// origin, so that the reverse and the undo take it away too (kind.Bringer). A kind whose own reverse would not bring an undo back exactly
// journals an undo image apart from its pre-image (kind.UndoImager): a PKG change that installs, the root's account names
// and enablement links as they were before apt-get ran, so that the undo
// of an install killed or failed before the amend removes the accounts and
// links its maintainer scripts made, and nothing that was there before
// (kinds/packages); a USER or GROUP change, the four account files (and
// /etc/subuid, /etc/subgid) whole as they were before it (the shadow
// tools cannot put back an entry's place in its file, nor a user whose
// group userdel deleted); the removal of a
// command whose undo runs, "run it again" (guards apply).
//
// Programs trail runs are part of the crash argument: a tool or a command
// killed with trail must not go on changing the machine after recovery
// has undone the batch. Every program runs through proc.RunChild (internal/proc) in
// its own process group, with SIGKILL as its parent-death signal (the
// kernel sends it when the thread that forked the child ends, so that
// thread stays locked to the goroutine until the child is reaped), with a
// token of its own in the environment variable TRAIL_RUN, which its
// descendants inherit, and while it runs its group and token are written
// into the lock file ("child PGID START TOKEN"). A holder that releases
// the lock empties the file; so when the next trail takes the lock and
// finds children named there, their trail was killed, and it kills every
// process still in such a group or carrying such a token (a grandchild,
// which the parent-death signal does not reach; dpkg, which apt-get runs
// in a session of its own) and waits until none runs, before anything
// else (internal/proc). A group whose number now belongs to a later leader
// is left alone, and so is a process a child that had finished left
// running (a daemon a command started): no lock names its token. Recovery then removes what a
// killed shadow tool left in the root's /etc — a lock whose pid is dead or
// reused, the file it linked it from, a new file never renamed into place
// (kinds/accounts, a kind.Recoverer) — so that the undo and the next apply can run the
// account tools; and it finishes a dpkg run the crash cut off (dpkg
// --configure -a, as apt demands before anything else) so that the undo
// of a PKG change can run apt-get (kinds/packages). After an undo (a
// failed apply, or recovery) a kind.Refresher brings what its tool derives
// from the paths put back in line with them: apt-get update runs again
// when the undone apply had updated apt's lists from the sources it wrote
// (at recovery, when a source path was put back), so the lists are as
// before the apply. What the kernel cannot stop in time remains: a child
// killed between its fork and trail recording its group may have started
// a grandchild of its own in those microseconds.
//
// Nothing is lost by undoing: the git hooks and the timer apply the new
// commit again through the normal path, with its plan, lock, checks and
// reporting. Undo needs no "done" marks to be correct: restoring an image
// is idempotent, so a change that never ran, ran half-way, or was already
// undone ends at its image alike. Commands are the exception, since their
// effect cannot be read back: without guards, a command's undo may run
// when its run never did, and its run again when its undo never did. The crash argument for batching follows:
// a change is only made after its undo image is durable, and the commit
// is only written after every change is durable, so at any crash the
// journal can restore the old generation; and every file is renamed into
// place only after its data is durable, so a file read before recovery
// runs (by a service starting at boot) holds its old or its new content,
// never an empty or torn one.
//
// # Step kinds
//
// A kind is a kind.Handler in a package under apply/kinds and one row in
// the kind table (kinds.go); what sets it apart from the plain way is an
// optional capability of package kind, which the engine looks up on its
// row. The families: kinds/paths (DIR, FILE and LINK, and EDIT and ATTRS,
// which change part of a file that is there: its lines, its attributes;
// sharing the path code, which the other kinds use for the paths they
// touch; a FILE or EDIT with validate= has its new content checked by a
// command, through proc.RunChild, before it is written; an EDIT whose file
// was replaced since trail wrote it, by a package upgrade, takes the file
// as found for its origin, kind.Rebaser),
// kinds/accounts (GROUP, USER), kinds/packages (PKG), kinds/units (UNIT)
// and kinds/commands (CMD, CHECK). A kind sees only package kind: the
// Exec, the View, Images, Records and Work; the state directory is the
// engine's (package state). Kinds whose steps check the result after
// everything is applied (CHECK) implement Verifier: their failure rolls
// the apply back. After a change of a kind.Shipper (a PKG change that
// installs, upgrades, downgrades or removes its package, which writes or
// deletes the files it ships) the path steps on those files that the
// plan leaves or changed before are checked again and made again (an
// unchanged one as a modify of itself) when they no longer match; the
// pre-images of the path steps on the files it shipped before or will
// ship (Shipping: the archives an install unpacks, whose undo's purge
// removes them) that the plan changes later or not at all, in reverse
// list order (a directory is put back before what is in it), are
// journaled ahead of the
// change, so that its undo, which writes them again, is followed by
// theirs (shipped.go).
//
// USER and GROUP implement kind.SharedUndoImager: consecutive added or
// modified account changes (no two with the same target name, up to the
// batch size) are one batch with one undo image, the four account files
// as they were before the first, journaled for each change; restoring it
// once or many times, newest first, gives the files back byte for byte,
// so a crash at any boundary of the batch still recovers exactly. Each
// change's pre-image is captured right before it is made (the one before
// may have changed the entry: useradd -U, -G), a group's (USER and GROUP
// are kind.Grouper and kind.RestoreGrouper) right before the group; the
// store and the root are made durable once at the end of the batch. One
// undo image per change copied the four files per user: time and store
// grew with the square of the number of users. A group of new users or
// groups, or of those a reverse removes, is written by the kind itself as
// the shadow tools would write it, the files once per group (see package
// accounts); a step it fails at is reported there (kind.StepFailed).
//
// PKG and UNIT run external tools (internal/proc): apt-get,
// dpkg-query and apt-mark; systemctl. Kinds whose tool takes many targets
// at once implement kind.Grouper (toolbatch.go): consecutive PKG changes are
// one apt-get call. Kinds whose reverses are decided together implement
// kind.RestoreGrouper and kind.ChangePlanner: the plan puts every PKG removal of an apply next to the
// last of them, or after the last removal of an apt source or key when
// that comes later (a reverse only moves later), and the run makes them as
// one group, one apt-get decision over all of them (kinds/packages): a
// package trail installed is purged, with the dependencies, system
// accounts and enablement links its install brought, as far as nothing
// that stays needs them; a package that was there before trail keeps its
// version, mark and conffiles. A PKG step's owns= paths are predicted as
// directories once it installs, so later steps may write under them. Kinds that act when a named path changed implement
// kind.Restarter (restart.go): a UNIT is restarted, or reloaded, once per
// apply when a path at or under its restart-on or reload-on (of the new
// list or the applied one) was written, changed or removed, or a package
// or command it names there (package:NAME, command:NAME) was installed,
// upgraded or removed (not only marked: kind.Work.Quiet), run or undone,
// after every
// change and before the checks; a unit with running=true by restart (it
// starts a failed unit), and it must run afterwards (settle in
// kinds/units) or the apply fails. After an undo — a failed step,
// restart or check, or recovery of an interrupted apply, from the
// journal's intents — every unit whose triggers cover a path, package or
// command the undone apply was to change is restarted again, best effort,
// on what was put back (by the same rule: not for a package whose mark
// alone was put back). Under a root other than "/", apt and dpkg are pointed at the
// root (packages.Tools), and systemctl runs with --root, where only enable,
// disable, mask and unmask apply; start, stop and restart are reported as
// not applicable, never faked.
//
// GROUP and USER (kinds/accounts) run the shadow tools with --root
// ROOT for a root other than "/"; the reverse removes only accounts trail
// created and never deletes a home directory (it is reported as kept).
// The account files end as a fresh apply of the list leaves them, whatever
// the path: the entries trail creates in the order of the list, and the
// members its USER steps add in that order in each group (a kind.ListPlanner);
// an account created again while accounts created after it in the list
// are there gets the ids a fresh apply gives; a group that
// userdel deleted is put back at its line. Trail edits the files itself
// only under the shadow tools' locks, and also sets a
// group's members in /etc/gshadow, which groupadd -U and groupmod -U leave.
// CMD (kinds/commands) runs `run` with /bin/sh, guarded by creates and
// unless, and `undo` on removal; with a root other than "/" it runs on the
// host, not chrooted, at the root with TRAIL_ROOT set. CHECK
// runs after every change of an apply and of a heal, each reported as an
// EventCheck with its source. What a command or a check prints goes into
// its event's Detail through Exec.Report.
//
// # State directory
//
// Options.StateDir (default /var/lib/trail), mode 0700:
//
//	lock                  flock(2) lock; holds "pid N" and "since T" of the holder, and
//	                      "child PGID START TOKEN" per program it runs (emptied on release)
//	journal               the write-ahead journal of an apply in progress (JSON lines)
//	applied               the applied record: "TRAIL-APPLIED v1 generation=N", then
//	                      per managed target, tab separated: kind, target, drift
//	                      policy, origin (pre-image), wrote (what trail last wrote)
//	applied.idx           the applied record's index (its targets' hashes and lines' offsets),
//	                      named by the record's size and CRC-32C; a cache, rebuilt when it
//	                      is not the record's, and written only under the lock
//	index                 the drift index: per managed file its inode, size, mtime,
//	                      ctime and content hash, so drift checks hash only changes
//	store/sha256/ab/<hex> blobs by sha256: compiled contents and saved pre-images, a file each
//	store/pack/P.pack     small blobs (up to 64 KiB) of a flush that stores many, one after
//	                      the other ("TRAILPCK" first); P is the writer's pid and a time;
//	                      written with no name (O_TMPFILE), linked in when durable
//	store/pack/P.idx      its index: digests sorted, with a fanout, each blob's offset and
//	                      length, the pack's size and a sha256 of it all; a pack is part of
//	                      the store only once its index is in place
//	store/tmp/            where blobs and pack indexes are written, with no name (O_TMPFILE),
//	                      linked into place when durable; where the file system cannot,
//	                      named (pid.blob-…, pid.index-…), locked by their writer and
//	                      renamed into place; and the work directories of steps
//	generations/NNNNNN.json   one per apply: commit, branch, host, subject, times,
//	                      result, counts, error and its step's source, drift, kept
//	generations/NNNNNN.steps  the step list it applied, in the step language
//
// Images are written as a state and attributes, e.g.
// `file content=sha256:… mode=0644 uid=0 gid=0`, `dir mode=0755 uid=0 gid=0`,
// `link to=../x uid=0 gid=0` or `absent`. What a secret FILE step wrote is
// `file content=sha256:… secret=age …`: the plaintext's hash, a content the
// store never holds (Options.Decrypt gives it for the operation only); a
// pre-image of a path a secret step names is `file content=sha256:…
// sealed=age …`, its content encrypted to the host's own key
// (Options.Seal), and so is the archive of a directory removed with
// everything in it (`tree … sealed=age`) that holds such a path, so that
// no blob holds a secret in the clear. An EDIT whose origin is sealed
// (a secret step named the file when it first edited it) decrypts it to
// apply its edits, and its path counts as a secret's while it manages it:
// its pre-images are sealed, and its results, which hold what the secret
// replaced, are recorded as `file content=sha256:… secret=age` and not
// stored. Every blob is mode 0600.
//
// # Drift
//
// A target has drifted when its present state differs from what trail
// last wrote, in the attributes its step manages. Drift lists them with the
// step's policy (report, heal, ignore); Heal puts back those whose policy
// is heal, as an apply of the current list for the same commit, through
// the plan Apply with Meta.Force uses to put back all of them. Drift
// stats only managed paths and hashes only files whose inode, size, mtime
// or ctime changed since they were last hashed; files changed within 50ms
// of the index being written are hashed again ("racily clean", as in git),
// and stay so through later saves of the index by operations that did not
// look at them.
// It reads no more of a file than trail wrote there: a file whose size is
// not that of the content trail wrote has drifted unread (its content shows
// as size:N), one of that size is read to one byte past it.
// An Engine keeps the applied record (its file open, with an index of
// its targets, read from applied.idx when that names the record by its
// size and CRC-32C, else built from the record read whole; a record is
// parsed when it is asked for) and the drift index (its file's lines,
// parsed as a look-up finds them until something looks at most
// entries) while their files are unchanged, so a long-running caller
// pays only the stats. An apply prints the new list once, compared with
// the applied step list as it is printed: that text is the generation's
// step list, and the applied list is parsed only where it differs.
// During an apply, the records of the changes made are kept in an
// unlinked file of the state directory until the commit writes the new
// applied record line by line from it and the old one. The cost of an
// apply of k changed steps is thus O(k) but for a few passes over the
// whole: printing the list, the record's checksum, the list's
// validation and writing the new record.
package apply
