package compile

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"

	"trail/stepfmt"
)

// Apt reads a file of sources.list.d only when its name is made of these.
var aptSourceName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

const (
	aptSourcesDir = "/etc/apt/sources.list.d/"
	armoredKey    = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
)

// expandAptSource writes an apt source as one ordinary file, the deb822
// /etc/apt/sources.list.d/NAME.sources, its key embedded in Signed-By
// (armored; a binary key is armored first). A keyring file named by path
// would do on a host, but apt reads such a path outside a --root, and
// an embedded key trusts only this source. Order puts the file before
// every package (aptSourceEdges), and apply runs apt-get update before
// the packages of an apply that changes it.
func expandAptSource(r *resource) {
	name, nrng := r.target()
	if !aptSourceName.MatchString(name) || strings.HasPrefix(name, ".") {
		r.diag(errorf(&nrng, "Invalid apt_source name",
			"apt_source %q: apt reads only files named with letters, digits, _, - and . in sources.list.d; name the source with those, such as \"vendor\".", name))
		return
	}
	var b strings.Builder
	field := func(key string, vals []string) {
		if len(vals) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", key, strings.Join(vals, " "))
		}
	}
	types := []string{"deb"}
	if v, rng, ok := r.list("types"); ok {
		for _, t := range v {
			if t != "deb" && t != "deb-src" {
				r.diag(errorf(&rng, "Invalid types", "types takes \"deb\" and \"deb-src\", not %q.", t))
				return
			}
		}
		types = v
	}
	uris, urng, ok := r.list("uris")
	if !ok {
		return
	}
	if len(uris) == 0 {
		r.diag(errorf(&urng, "Missing uris", "An apt_source needs uris = [\"https://...\"], the repository's addresses."))
		return
	}
	suites, srng, ok := r.list("suites")
	if !ok {
		return
	}
	if len(suites) == 0 {
		r.diag(errorf(&srng, "Missing suites", "An apt_source needs suites = [\"bookworm\"] (or [\"./\"] for a flat repository)."))
		return
	}
	comps, crng, _ := r.list("components")
	exact := strings.HasSuffix(suites[0], "/")
	switch {
	case exact && len(comps) > 0:
		r.diag(errorf(&crng, "Invalid components", "The suite %q is an exact path (it ends in /), which takes no components; drop components.", suites[0]))
		return
	case !exact && len(comps) == 0:
		r.diag(errorf(&srng, "Missing components", "The suite %q needs components = [\"main\"]; a flat repository's suite ends in /, such as \"./\".", suites[0]))
		return
	}
	for _, vals := range [][]string{types, uris, suites, comps} {
		for _, v := range vals {
			if strings.ContainsAny(v, " \t\n") || v == "" {
				r.diag(errorf(r.block.DefRange.Ptr(), "Invalid apt_source value", "%q: a value of an apt source is one word, with no blank.", v))
				return
			}
		}
	}
	field("Types", types)
	field("URIs", uris)
	field("Suites", suites)
	field("Components", comps)
	if archs, _, ok := r.list("architectures"); ok {
		field("Architectures", archs)
	}
	switch t, given, good := r.boolAttr("trusted", "Invalid trusted"); {
	case given && !good:
		return
	case t:
		b.WriteString("Trusted: yes\n")
	}
	if _, given := r.attrs["key"]; given {
		p, krng, ok := r.repoPathAttr("key")
		if !ok {
			return
		}
		key, err := fs.ReadFile(r.sc.c.fsys, p)
		if err != nil {
			r.diag(errorf(&krng, "Cannot read key", "Reading %s from the repository failed: %s. key is relative to the repository root.", p, errText(err)))
			return
		}
		switch {
		case bytes.Contains(key, []byte(armoredKey)):
		case len(key) > 0 && key[0]&0x80 != 0:
			if key, err = armor(key); err != nil {
				r.diag(errorf(&krng, "Invalid key", "Armoring %s failed: %s; export it with gpg --export --armor KEYID.", p, errText(err)))
				return
			}
		default:
			r.diag(errorf(&krng, "Invalid key", "%s is neither an armored OpenPGP public key (%s) nor a binary one; export it with gpg --export [--armor] KEYID.", p, armoredKey))
			return
		}
		b.WriteString("Signed-By:\n")
		for _, line := range strings.Split(strings.TrimSpace(string(key)), "\n") {
			line = strings.TrimRight(line, " \t\r")
			if line == "" {
				line = "."
			}
			b.WriteString(" " + line + "\n")
		}
	}
	src := r.newStep(stepfmt.KindFile, aptSourcesDir+name+".sources", nrng)
	aptFileAttrs(src, r.sc.c.blob([]byte(b.String())))
	r.add(src, "")
}

// armor writes a binary OpenPGP key as an armored public key block
// (RFC 4880, 6.2), which a deb822 Signed-By field can embed.
func armor(key []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := pgparmor.Encode(&b, "PGP PUBLIC KEY BLOCK", nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(key); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// aptFileAttrs makes st a root-owned, world-readable file of content key:
// apt reads sources as an unprivileged user.
func aptFileAttrs(st *stepfmt.Step, key string) {
	st.Set("mode", "0644")
	st.Set("owner", "root")
	st.Set("group", "root")
	st.Set("content", key)
}

// isAptSource reports whether p is where apt reads sources, keys or
// pins (preferences).
func isAptSource(p string) bool {
	for _, d := range []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d", "/etc/apt/keyrings",
		"/etc/apt/trusted.gpg", "/etc/apt/trusted.gpg.d", "/etc/apt/preferences", "/etc/apt/preferences.d"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// aptSourceEdges puts every path step where apt reads its sources, keys
// and pins before every package, so that the packages of a commit can come
// from a repository it adds.
func aptSourceEdges(g *graph) {
	var srcs, pkgs []int32
	for i := range g.nodes {
		if st := g.nodes[i].step; st != nil && st.Kind == stepfmt.KindPackage {
			pkgs = append(pkgs, int32(i))
		}
	}
	if len(pkgs) == 0 {
		// No edge to make: a tree's 100,000 paths need not be looked at.
		return
	}
	for i := range g.nodes {
		if st := g.nodes[i].step; st != nil && stepfmt.IsPath(st.Kind) && isAptSource(st.Target) {
			srcs = append(srcs, int32(i))
		}
	}
	for _, s := range srcs {
		for _, p := range pkgs {
			g.add(s, p, whyAptSource)
		}
	}
}

// aptSourceAttrs are the attributes of an apt_source block.
var aptSourceAttrs = []string{"types", "uris", "suites", "components", "architectures", "key", "trusted"}
