package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	pathpkg "path"

	"trail/host"
	"trail/stepfmt"
)

// runShow prints what trail would write at PATH on this host at REV: a
// FILE's content as compiled (bytes as they are), a LINK's target, a DIR's
// attributes, an EDIT's step and edits. A secret file is shown as such,
// decrypted only with --secret, by root; --secret shows an EDIT's result
// on this machine, which may hold a secret, to root alone too. Exit 1
// when trail does not manage PATH at REV.
func runShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("show", "PATH [REV]", stderr)
	dir := hostFlags(fs)
	reveal := fs.Bool("secret", false, "print a secret file decrypted with the host's age key, or an edit's result on this machine (root only)")
	if fs.Parse(args) != nil || fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return 2
	}
	path, rev := pathpkg.Clean(fs.Arg(0)), "HEAD"
	if fs.NArg() == 2 {
		rev = fs.Arg(1)
	}
	h, ok := openHost(*dir, stdout, stderr)
	if !ok {
		return 2
	}
	defer h.Close()
	c, err := h.Compile(rev)
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	for _, s := range c.List.Steps {
		if !stepfmt.IsPath(s.Kind) || s.Target != path {
			continue
		}
		switch {
		case s.Kind == stepfmt.KindFile && !s.Absent():
			data, ok := c.Blobs[s.Value("content")]
			if !ok {
				fmt.Fprintf(stderr, "trail: %s at %s: its content %s is not in the compile\n", path, host.Short(c.Commit.Hash), s.Value("content"))
				return 2
			}
			if s.Value("secret") != "" {
				return showSecret(h, s, data, *reveal, stdout, stderr)
			}
			_, _ = stdout.Write(data)
		case s.Kind == stepfmt.KindEdit && *reveal:
			return showEditResult(h, rev, path, stdout, stderr)
		default:
			var b bytes.Buffer
			stepfmt.AppendStep(&b, s, true)
			fmt.Fprintln(stdout, b.String())
			if s.Kind == stepfmt.KindEdit {
				// The edits, one a line, as the step's hash names them.
				_, _ = stdout.Write(c.Blobs[s.Value("edits")])
			}
		}
		return 0
	}
	fmt.Fprintf(stderr, "trail: %s is not a path trail manages on this host at %s (trail steps %s lists them)\n", path, host.Short(c.Commit.Hash), rev)
	return 1
}

// showSecret prints what a secret FILE step is; its plaintext only when
// asked (--secret) by root, who alone may read the host's key.
func showSecret(h *host.Host, s *stepfmt.Step, data []byte, reveal bool, stdout, stderr io.Writer) int {
	if !reveal {
		fmt.Fprintf(stdout, "%s is a secret: %d bytes encrypted with age, %s (%s); not shown: 'trail show --secret %s' decrypts it, as root\n",
			s.Target, len(data), s.Value("content"), s.Src, s.Target)
		return 0
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(stderr, "trail: %s is a secret: only root decrypts it (run trail show --secret as root)\n", s.Target)
		return 2
	}
	plain, err := h.Decrypter().Decrypt(data)
	if err != nil {
		fmt.Fprintf(stderr, "trail: %s: %s: secret %s: %v\n", s.Src, s.Target, s.Value("content"), err)
		return 2
	}
	_, _ = stdout.Write(plain)
	return 0
}

// showEditResult prints what the EDIT at path makes of the file on this
// machine at rev, the content its validate command checks: it may hold a
// secret (a secret step named the path before), so only root sees it.
func showEditResult(h *host.Host, rev, path string, stdout, stderr io.Writer) int {
	if os.Geteuid() != 0 {
		fmt.Fprintf(stderr, "trail: %s: only root sees an edit's result (run trail show --secret as root)\n", path)
		return 2
	}
	data, err := h.EditResult(rev, path)
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	_, _ = stdout.Write(data)
	return 0
}
