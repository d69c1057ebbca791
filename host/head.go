package host

import "trail/gitrepo"

// Head is where the checkout's HEAD points.
type Head = gitrepo.Head

// ReadHead reads the checkout's HEAD from the files git keeps (see
// gitrepo.ReadHead).
func (c *Checkout) ReadHead() (Head, error) { return gitrepo.ReadHead(c.GitDir, c.Common) }

// ResolveRef returns the hash a full ref name (refs/heads/main) points at in
// the checkout; fs.ErrNotExist when there is no such ref.
func (c *Checkout) ResolveRef(ref string) (string, error) {
	return gitrepo.ResolveRef(c.GitDir, c.Common, ref)
}
