// Package compile turns the HCL config of a repository into the step list
// (package stepfmt) of one host, deterministically, with every step mapped
// back to the block that made it. The language is documented in
// docs/language.md.
//
// Contract:
//   - Input is an fs.FS: gitrepo's view of a commit, or gitrepo.DirFS of
//     a directory, which reads it by the same rules; both are one code
//     path. The config is every *.hcl file at
//     the root of the FS, plus what they include and the modules they call.
//     Repository paths in the config are relative to that root. The FS
//     must allow concurrent reads (both of those do): a tree's files are
//     read by a few goroutines at once.
//   - Compile is a pure function of the FS, the Facts and the Options: the
//     same inputs give byte-identical step lists. Nothing reads the clock,
//     the environment or the network; GatherFacts is the only function that
//     reads the machine, and its result can be overridden field by field.
//   - Hostile input gets a diagnostic, never a crash: every text is
//     pre-scanned before HCL parses it (prescan.go: nesting at most 100
//     deep, prefix-operator runs at most 100 long), config and template
//     files are bounded (8 MiB each, 64 MiB a compile), an include match
//     that cannot be read is an error, and Git LFS pointers are refused as
//     content. GatherFacts reads under its root without following
//     symlinks (internal/fsx).
//   - Errors are hcl.Diagnostics with ranges. A compile with any error
//     diagnostic returns no steps and no blobs at all, so a broken config
//     can never turn into "remove everything".
//   - The returned list has passed stepfmt.Validate; its values are the
//     canonical spellings stepfmt.Parse produces, so a compiled list and the
//     same list printed and parsed back compare equal.
//   - Every step carries the range of its block (stepfmt.Source file and
//     first-last line); steps of a tree share the tree block's range, and
//     Result.Origins adds the resource address and the repository path of
//     each step's content.
//   - Every FILE step's content is in Result.Blobs under "sha256:<hex>" of
//     exactly those bytes; with Options.LazyTree a tree entry's is in
//     Result.Refs instead, as the repository path to read it from.
//   - Options.KnownBlob and Options.Trees change what is read, never the
//     result (but for Result.Trees, Kept and Resolved, which say what was
//     read and what was taken from them): a compile that takes unchanged blobs' keys and unchanged git
//     trees' entries from them equals a full compile, byte for byte
//     (incremental_test.go checks this over random commits, configs,
//     facts and variables). A resolved tree (TreeEntry) holds only what its
//     object hash fixes, so no attribute a block or host sets can make a
//     cached one stale.
//   - Order: explicit depends_on plus the implicit rules of order.go; among
//     steps that are free to go, the one declared first goes first.
package compile
