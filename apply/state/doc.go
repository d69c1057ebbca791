// Package state is trail's state directory (Options.StateDir, default
// /var/lib/trail; its layout is in the doc of package apply): the content
// store, the write-ahead journal, the generations, the applied record, the
// drift index and the lock. It knows the files and their formats, not
// what an apply does with them: the engine (package apply) decides when
// each is written, so that the crash argument stays in one place.
//
// The store holds a blob as a file of its own or, when one flush stores
// many small ones (a tree's first apply), in a pack: one file of their
// bytes and a sorted index linked into place after both are durable
// (pack.go, storepack.go, storepackwrite.go), so that a tree of 100,000
// files costs the store two creates, not 100,000. What is being written
// has no name until it is in place (storetmp.go). Every reader of the store (Has, Get,
// Open, Size, CheckBlobs, host's missing, gc, fsck) reads both; stores
// of files only, from before packs, are read as they are. Until its
// flush a staging holds little a blob: its pack's entries go to an
// unlinked file as they are appended (packents.go), and what it staged is
// found through a table of the digests' first bytes (stagedset.go).
//
// GC (gc.go) is the one place that removes blobs: what the applied record,
// an interrupted apply's journal and the kept generations' step lists name
// stays, and so does every blob younger than GCGrace, since a compile
// stores contents without the lock. A pack goes when none of its blobs
// is needed, and is rewritten with its live blobs only (packgc.go), the
// new pack durable and in place before the old one goes, once a quarter
// of its bytes are dead; past eight packs the small ones are merged. Blobs are deduplicated by their name
// (the sha256 of the content): a pre-image equal to a compiled content, or
// the same file captured twice, is stored once. Blobs are not compressed:
// most pre-images are small configuration files, and a blob's bytes are
// read, hashed and copied back as they are, which a
// compressed store would trade for a decode on every read. FileStoreBytes
// keeps the state's running size: trail gc (GC) measures it whole, an
// apply adds what its Store put in place (Store.TakeAdded), and the
// apply's own gc (AutoGC) takes off what it freed. Both gcs read the
// lists and the record as text for the keys they name (gcneed.go); only
// GC flushes what it removed, as a removal lost in a crash brings back
// only what nothing needs.
package state
