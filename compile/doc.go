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
//   - The returned list has passed stepfmt.Validate (ValidateIndexed,
//     with the index of its steps that found none managed twice: the
//     order's, where the order is the declaration order); its values are the canonical spellings
//     stepfmt.Parse produces, so a compiled list and the same list printed
//     and parsed back compare equal.
//   - Every step carries the range of its block (stepfmt.Source file and
//     first-last line); steps of a tree share the tree block's range, and
//     Result.Origins adds the resource address and the repository path of
//     each step's content.
//   - Every FILE step's content is in Result.Blobs under "sha256:<hex>" of
//     exactly those bytes; with Options.LazyTree a tree entry's is in
//     Result.Refs instead, as the repository path to read it from (the
//     last tree entry, in walk order, with that content), or, when the
//     compile read it, handed to Options.Read (and not in Refs).
//   - Memory: a tree is walked a window at a time, 512 entries, whose
//     files are read (by a few readers) and made steps a part at a time,
//     until what was read passes 4 MiB (windowBytes): the contents the
//     walk holds at once are at most that and a file a reader (up to 8; a
//     file is read whole). With LazyTree and Read the compile keeps none
//     of them past its step; without LazyTree every content is in
//     Result.Blobs to the end.
//   - Options.KnownBlob, Trees, Before and Files change what is read and
//     how tables are sized, never the result (but for Result.Trees, Kept,
//     Resolved and Learned, which say what was read and what was taken
//     from them): a compile that takes unchanged blobs' keys and unchanged
//     git trees' entries from them equals a full compile, byte for byte,
//     Refs included (incremental_test.go checks this over random commits,
//     configs, facts and variables). A resolved tree (TreeEntry) holds
//     only what its object hash fixes, so no attribute a block or host sets
//     can make a cached one stale. What a compile of a commit that changes
//     k files of a big tree does for each of the tree's n files is making
//     its step (from the resolved trees, without reading or hashing it),
//     appending its content key and path to Refs (a list: its map is
//     made only when a content is read back), and ordering and validating
//     it in O(1) each: see Order and the validation's shortcuts below; it
//     reads from
//     git the trees on the changed paths and the k blobs (a directory the
//     commit changed finds its other files' sums in its tree of the
//     applied commit, Options.Before).
//   - Order: explicit depends_on plus the implicit rules of order.go; among
//     steps that are free to go, the one declared first goes first. When
//     no edge goes from a step to one declared before it and no
//     depends_on routes through a virtual node, that is the declaration
//     order itself, taken without sorting (a tree's steps with the blocks
//     around them usually are); otherwise a heap sorts them.
//     fastpath_test.go compares both over random commits and configs.
//   - Validation: the same checks for every step, with two shortcuts
//     that change no error (stepfmt's tests hold each to the long way): a
//     step with the attribute keys and absence of the step before checks
//     only the values that changed, and an owner or group named by a run
//     of steps is looked up once.
package compile
