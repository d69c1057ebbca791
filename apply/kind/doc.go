// Package kind is the contract between the engine (package apply) and the
// step kinds: the Image a kind records of a target, the Record trail keeps
// about it, and the Work a check finds to do.
package kind
