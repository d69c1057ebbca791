// Package commands is the family of step kinds that run shell scripts:
// CMD (command.go), whose run is guarded by creates= and unless= and whose
// undo runs on removal, and CHECK (check.go), run after every change of an
// apply as a Verifier, whose failure rolls the apply back. What either
// prints goes into its event through Exec.Report, cut to a bounded size.
// Scripts run through proc.RunChild, so none outlives a killed trail.
package commands
