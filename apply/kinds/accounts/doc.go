// Package accounts is the account family of step kinds: GROUP and USER
// (group.go; user.go plans and reads a user, userforward.go changes and
// restores it, userdel.go removes it), run with the shadow tools (groupadd, useradd,
// usermod, …) with --root ROOT for a root other than "/". The reverse
// removes only accounts trail created and never deletes a home directory.
// The account files end as a fresh apply of the list leaves them,
// whatever the path: entries in the order of the list (order.go), the
// ids a fresh apply gives (ids.go), a group userdel deleted put back at
// its line, and an account that was there before trail and that an
// absent step removed put back by the reverse at its lines and in its
// groups' member lists where it stood (place.go: before the entry that
// followed it, else at its old index), with its subordinate ids
// (subplace.go); trail edits the files itself only under the shadow tools'
// locks (lock.go). A change's undo image is the four account files whole
// (undo.go), as the tools cannot undo their own changes exactly; recovery
// clears what a killed tool left (shadowlock.go). Runs of new users and
// groups, and of those a reverse removes, trail writes itself as useradd,
// userdel, groupadd and groupdel write them, one write of the files per
// run instead of one tool call per account (native.go holds the files,
// nativeuser.go adds a user to them; remove.go,
// groupnative.go, subids.go, home.go, newid.go); what that path does not
// model is left to the tools. The files are read once per change and
// indexed (cache.go).
package accounts
