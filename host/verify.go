package host

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hiddeco/sshsig"

	"trail/apply"
)

// UntrustedError is a commit refused before it was compiled: trust is
// configured (trail.keyring, trail.allowedsigners) and its signature does
// not verify against it.
type UntrustedError struct {
	Commit string
	Reason string
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("commit %s is not trusted: %s; nothing was changed (sign it with a key in trail.keyring or trail.allowedsigners and push it)", Short(e.Commit), e.Reason)
}

// trustConfigured reports whether commits must be signed.
func (s Settings) trustConfigured() bool { return s.Keyring != "" || s.AllowedSigners != "" }

// verifyCommit checks commit's signature when trust is configured: an
// OpenPGP signature against the armored keys in trail.keyring, an SSH one
// against the keys in trail.allowedsigners (ssh-keygen's allowed signers
// format, namespace "git"). It runs before the config is read, so an
// untrusted commit cannot change anything on the machine.
func (h *Host) verifyCommit(commit string, deliberate bool) error {
	if !h.Settings.trustConfigured() {
		return nil
	}
	if deliberate && h.appliedBefore(commit) {
		// The admin names a commit this host ran (trail rollback, git
		// checkout HASH), perhaps from before signing: it was trusted
		// then, and a pull can never bring it back by itself.
		return nil
	}
	untrusted := func(format string, a ...any) error {
		return &UntrustedError{Commit: commit, Reason: fmt.Sprintf(format, a...)}
	}
	r, err := h.Repo()
	if err != nil {
		return fmt.Errorf("verify %s: %w", Short(commit), err)
	}
	c, err := r.CommitObject(commit)
	if err != nil {
		return fmt.Errorf("verify %s: %w", Short(commit), err)
	}
	sig := strings.TrimSpace(c.PGPSignature)
	switch {
	case sig == "":
		return untrusted("it is not signed")
	case strings.HasPrefix(sig, "-----BEGIN SSH SIGNATURE-----"):
		if h.Settings.AllowedSigners == "" {
			return untrusted("it is signed with an SSH key and trail.allowedsigners is not set")
		}
		return h.verifySSH(c, sig, untrusted)
	case strings.HasPrefix(sig, "-----BEGIN PGP SIGNATURE-----"):
		if h.Settings.Keyring == "" {
			return untrusted("it is signed with an OpenPGP key and trail.keyring is not set")
		}
		keys, err := h.trustFile("keyring", h.Settings.Keyring)
		if err != nil {
			return untrusted("%v", err)
		}
		if _, err := c.Verify(string(keys)); err != nil {
			return untrusted("its OpenPGP signature does not verify against trail.keyring %s: %v", h.Settings.Keyring, err)
		}
		return nil
	}
	return untrusted("its signature is of a kind trail does not know (neither OpenPGP nor SSH)")
}

// verifySSH checks an SSHSIG armored signature of c's signed bytes.
func (h *Host) verifySSH(c *object.Commit, armored string, untrusted func(string, ...any) error) error {
	data, err := h.trustFile("allowedsigners", h.Settings.AllowedSigners)
	if err != nil {
		return untrusted("%v", err)
	}
	signers, err := ParseAllowedSigners(data)
	if err != nil {
		return untrusted("trail.allowedsigners %s: %v", h.Settings.AllowedSigners, err)
	}
	sig, err := sshsig.Unarmor([]byte(armored))
	if err != nil {
		return untrusted("its SSH signature cannot be read: %v", err)
	}
	signer, err := signers.Find(sig.PublicKey, "git", c.Committer.When)
	if err != nil {
		return untrusted("%v in trail.allowedsigners %s", err, h.Settings.AllowedSigners)
	}
	o := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(o); err != nil {
		return fmt.Errorf("verify %s: %w", Short(c.Hash.String()), err)
	}
	rd, err := o.Reader()
	if err != nil {
		return fmt.Errorf("verify %s: %w", Short(c.Hash.String()), err)
	}
	defer rd.Close()
	if err := sshsig.Verify(rd, sig, sig.PublicKey, sig.HashAlgorithm, "git"); err != nil {
		return untrusted("its SSH signature by %s does not verify: %v", signer.Principals, err)
	}
	return nil
}

// trustFile reads a keyring or allowed signers file. It must be an
// absolute path outside the checkout: a file the config repo carries
// would let whoever can push choose the keys that are trusted.
func (h *Host) trustFile(setting, path string) ([]byte, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("trail.%s %q is not an absolute path: set it to a file outside the checkout", setting, path)
	}
	if rel, err := filepath.Rel(h.Checkout.Dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("trail.%s %s is inside the checkout, where a pushed commit could replace it: keep it elsewhere (/etc/trail/)", setting, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trail.%s: %w", setting, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("trail." + setting + " " + path + " is empty: it trusts no key")
	}
	return data, nil
}

// appliedBefore reports whether commit was applied on this host with success.
func (h *Host) appliedBefore(commit string) bool {
	e, err := h.Engine()
	if err != nil {
		return false
	}
	gens, err := e.Generations()
	if err != nil {
		return false
	}
	for _, g := range gens {
		if g.Commit == commit && g.Result == apply.ResultOK {
			return true
		}
	}
	return false
}
