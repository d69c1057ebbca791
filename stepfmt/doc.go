// Package stepfmt is the step language: the compiled, plain-text form of a
// host's configuration, one atomic step per line, in the order it applies.
// It parses, prints, validates and diffs step lists; it imports nothing of
// the rest of trail.
//
// # Grammar
//
//	file      = { line "\n" } .
//	line      = blank | comment | header | step .
//	blank     = { " " | "\t" } .
//	comment   = { " " | "\t" } "#" { any character } .
//	header    = "TRAIL" sp version { sp ( "commit=" value | "host=" value ) } .
//	step      = kind sp target [ sp positional ] { sp attr } [ sp source ] .
//	kind      = "DIR" | "FILE" | "LINK" | "EDIT" | "ATTRS" | "USER" | "GROUP"
//	          | "PKG" | "UNIT" | "CMD" | "CHECK" | "INCLUDE" .
//	target    = word .
//	positional= word .                      (FILE: content, LINK: to, EDIT: edits)
//	attr      = key "=" [ word ] .
//	key       = letter { letter | "-" } .
//	source    = "@" word .                  (file:line or file:line-line)
//	word      = bare | quoted .
//	bare      = non-empty run of printable non-space characters without
//	            '"', '\', '='; not starting with '@' or '#' .
//	quoted    = a Go double-quoted string literal (strconv.Quote) .
//	sp        = { " " | "\t" }+ .
//
// A "#" starts a comment only as the first non-blank character of a line.
// The header, if present, comes before the first step; the printer always
// writes it. Lines may end in "\r\n".
//
// # Kinds and attributes
//
//	DIR     path      mode owner group absent recursive drift
//	FILE    path      content(positional, required) secret mode owner group validate absent drift
//	LINK    path      to(positional, required) owner group absent drift
//	EDIT    path      edits(positional, required) validate drift
//	ATTRS   path      mode owner group drift (at least one of the three)
//	GROUP   name      gid members system absent drift
//	USER    name      uid group groups home shell system password comment absent drift
//	PKG     name      version recommends purge owns absent drift
//	UNIT    name      enabled running masked restart-on reload-on reload drift
//	CMD     name      run(required) undo(required) creates unless timeout(required)
//	CHECK   name      run(required) retries interval timeout(required)
//	INCLUDE file      (none)
//
// Values are canonicalised on parse: modes to four octal digits, ids to
// decimal, durations to Go's spelling, sets (groups, members, owns,
// restart-on, reload-on) to sorted, duplicate-free comma lists, hashes to
// lower case. A unit's restart-on and reload-on hold absolute paths and
// package:NAME or command:NAME, naming the PKG or CMD step whose change
// restarts (reloads) the unit. An attribute that is not given is not managed: trail leaves
// it as it finds it.
//
// absent=true (the only value it takes) asks for the target not to be
// there: a step with it carries no other attribute but drift (and purge on
// PKG, recursive on DIR: the directory goes with everything in it, which
// recursive=true without absent=true cannot say), FILE and LINK need no
// content or target, and its identity is the
// kind's as ever, so a target both present and absent is managed twice.
// What is under an absent path must be absent too, and come before it; an
// absent account owns nothing, and no trigger names an absent path.
//
// A FILE with secret=age has as content the sha256 of an age-encrypted
// file (the ciphertext, never the plaintext, whose hash would let anyone
// who reads a list test guesses); the host decrypts it with its own key
// when it applies the step. A USER's password (a crypt hash) is a hidden
// value: Masked shows it as (hidden), as plans, events and logs do.
//
// # Identity and diff
//
// A step's identity is its kind and target. DIR, FILE, LINK, EDIT and ATTRS
// share one namespace (a path), so a path cannot be managed twice by
// different kinds.
// Diff matches identities: a matched step with other attributes is a modify,
// never a remove and an add — except when absent=true comes or goes: then
// the old step's reverse gives back what was there before trail, and the
// new step acts on that, as a fresh apply of the new list would. The
// source (@file:line) is never compared.
//
// # Errors
//
// Every error is an *Error rendered as "file:line: KIND target: message";
// Parse, Load and Validate collect all of them in an ErrorList.
package stepfmt
