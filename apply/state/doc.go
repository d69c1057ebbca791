// Package state is trail's state directory (Options.StateDir, default
// /var/lib/trail; its layout is in the doc of package apply): the content
// store, the write-ahead journal, the generations, the applied record, the
// drift index and the lock. It knows the files and their formats, not
// what an apply does with them: the engine (package apply) decides when
// each is written, so that the crash argument stays in one place.
package state
