// Package fsx does file-system work under a root directory without ever
// following a symbolic link in any component of a path, so that a symlink
// planted at /etc/foo cannot make a caller read or write through it.
//
// Paths are absolute and clean, taken from the root ("/etc/foo" is
// ROOT/etc/foo). Each directory component is opened with openat(2) and
// O_NOFOLLOW|O_DIRECTORY from the descriptor of its parent; a component that
// is a symlink fails with an error wrapping ErrSymlink. The last component
// is never followed either: Lstat, Remove, Chown and Chmod act on a symlink
// itself, and reads open with O_NOFOLLOW.
//
// Go's os.Root (os.OpenRoot) is not used: it follows symlinks that stay
// inside the root and refuses only those that escape it, while trail must
// refuse every symlink in a parent, even one that points inside the root
// (/etc/foo -> /etc/bar would still write to a path trail does not manage).
//
// Writes are staged: Stage writes content under a temporary name next to
// its target and Flush makes a whole batch durable at once — file data
// synced, then renamed into place, then every touched directory synced. A
// small batch syncs each file and directory with fsync(2); a large one uses
// syncfs(2) once per file system before and after the renames, which costs
// one flush instead of thousands. Either way a file is, after a crash, its
// old or its new content, never a torn mix or an empty file. Temporary
// names are deterministic (TempName), so a crashed batch can be cleaned up.
// A file where nothing was is written at its name instead (Create), and
// made durable by the same Flush: until then a crash can leave it torn,
// so its caller records, durably and before, that the name was empty,
// for its recovery to remove what it finds there; and a reader of its
// directory can see it empty or half written, so its caller uses it only
// in a directory it made itself (Made).
//
// A Root caches open directory descriptors for speed; it is not safe for
// concurrent use. With Background on, it writes the files Create makes
// with goroutines of its own, and waits for them wherever what follows
// depends on them.
package fsx
