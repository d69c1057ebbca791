// Command trail is configuration management for plain Debian machines.
package main

import "os"

func main() {
	setMemoryLimit()
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}
