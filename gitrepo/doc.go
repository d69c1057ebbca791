// Package gitrepo reads a config repository at any commit straight from
// git's object database, without checking anything out, so that an old
// commit can be compiled, planned and diffed while the work tree is
// elsewhere.
//
// Contract:
//   - Open takes the work tree root (a directory holding .git, or a .git
//     file pointing elsewhere) or a bare repository. It never writes to the
//     repository; Close releases the file descriptors it keeps.
//   - Resolve accepts what git rev-parse accepts for commits in practice:
//     full or abbreviated hashes, branch and tag names, HEAD, and ~ ^
//     suffixes. Annotated tags are peeled to their commit.
//   - Tree returns an io/fs.FS of the commit's tree. Paths are slash
//     separated and relative to the repository root, as fs.ValidPath wants.
//     It implements fs.ReadDirFS, fs.ReadFileFS, fs.StatFS and
//     fs.ReadLinkFS; Sys() of a FileInfo is the git object id in hex, and
//     its GitHash method the id itself; ReadGitBlob and ReadGitTree read a
//     blob and list a tree by that id, without resolving a path
//     (ListGitTree too, making nothing for each entry), and DropCaches
//     lets go of what the FS and the repository cache. Objects a pack
//     holds whole are read straight from it (packread.go). Regular
//     files have mode 0644, executable files 0755, directories 0755 and
//     symlinks 0777 (git keeps nothing else); Open
//     follows symlinks that stay inside the tree; submodules show up as
//     fs.ModeIrregular entries that cannot be opened. ModTime is always
//     zero, so the same tree reads the same at every commit. The FS is safe
//     for concurrent use.
//   - DirFS reads a work-tree directory by the same rules (one resolver,
//     resolve.go): symlinks followed only inside, git's modes, no .git,
//     nested repositories and special files as irregular entries, files
//     the LFS filter stores as their pointers (attributes.go). trail
//     validate reads with it, so it refuses what applying the commit would.
//   - ReadHead and ResolveRef read HEAD and refs from the files git keeps
//     (HEAD, loose refs, packed-refs; a linked worktree's own and shared
//     refs), without starting git or opening the object database: the
//     first thing every hook does.
//   - Every error names the revision or the path it is about.
package gitrepo
