package kind

import (
	"slices"
	"strings"
)

// An attribute naming several things (a group's members, what a package
// brought) is a comma list; trail writes it sorted and without duplicates.

// SplitNames reads a comma list; "" is none.
func SplitNames(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// JoinNames renders names as a comma list, sorted and without duplicates.
func JoinNames(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}
