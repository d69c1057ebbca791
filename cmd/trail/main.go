// Command trail is configuration management for plain Debian machines.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "trail: not yet wired")
	os.Exit(2)
}
