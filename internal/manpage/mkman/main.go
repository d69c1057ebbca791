// Command mkman writes trail's manual pages into a directory:
//
//	go run ./internal/manpage/mkman [-version V] OUTDIR
//
// trail.1 from docs/man/trail.1.md and trail-config.5 from
// docs/language.md, run from the top of the source tree. The date is
// SOURCE_DATE_EPOCH's (dpkg-buildpackage sets it from debian/changelog),
// so a build is reproducible.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"trail/internal/manpage"
)

// pages are the manual pages and the documents they are made from.
var pages = []struct {
	src, file string
	page      manpage.Page
	extra     string
}{
	{src: "docs/man/trail.1.md", file: "trail.1", page: manpage.Page{
		Name: "trail", Section: "1", Summary: "configuration management for plain Debian machines, driven by git"}},
	{src: "docs/language.md", file: "trail-config.5", page: manpage.Page{
		Name: "trail-config", Section: "5", Summary: "the HCL config language trail compiles to steps"},
		extra: "\n## SEE ALSO\n\n**trail**(1); `steps.md` in `/usr/share/doc/trail/`, the step language this compiles to.\n"},
}

func main() {
	version := flag.String("version", "", "the version the pages describe")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkman [-version V] OUTDIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *version); err != nil {
		fmt.Fprintln(os.Stderr, "mkman:", err)
		os.Exit(1)
	}
}

func run(out, version string) error {
	date := time.Now().UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970: %w", s, err)
		}
		date = time.Unix(sec, 0).UTC()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, p := range pages {
		md, err := os.ReadFile(p.src)
		if err != nil {
			return fmt.Errorf("%w (run mkman from the top of the source tree)", err)
		}
		md = append(md, p.extra...)
		p.page.Date = date.Format("2006-01-02")
		p.page.Source = "trail " + version
		p.page.Manual = "trail manual"
		roff, err := manpage.Render(p.page, md)
		if err != nil {
			return fmt.Errorf("%s: %w", p.src, err)
		}
		if err := os.WriteFile(filepath.Join(out, p.file), roff, 0o644); err != nil {
			return err
		}
	}
	return nil
}
