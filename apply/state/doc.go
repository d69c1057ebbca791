// Package state is trail's state directory (Options.StateDir, default
// /var/lib/trail; its layout is in the doc of package apply): the content
// store, the write-ahead journal, the generations, the applied record, the
// drift index and the lock. It knows the files and their formats, not
// what an apply does with them: the engine (package apply) decides when
// each is written, so that the crash argument stays in one place.
//
// GC (gc.go) is the one place that removes blobs: what the applied record,
// an interrupted apply's journal and the kept generations' step lists name
// stays, and so does every blob younger than GCGrace, since a compile
// stores contents without the lock. Blobs are deduplicated by their name
// (the sha256 of the content): a pre-image equal to a compiled content, or
// the same file captured twice, is stored once. FileStoreBytes keeps the
// state's size as the last apply or gc measured it.
package state
