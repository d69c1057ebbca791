package host

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"trail/apply"
	"trail/gitrepo"
	"trail/internal/secret"
	"trail/report"
)

// Host is a config checkout and the machine it configures.
type Host struct {
	Checkout *Checkout
	Settings Settings

	// Out receives the short account people read; Err the errors.
	Out, Err io.Writer

	log  report.Sink
	eng  *apply.Engine
	repo *gitrepo.Repo
	dec  *secret.Decrypter

	// applying is set while an apply or heal runs, so that drift seen
	// by a status check is not reported as if an apply had found it.
	applying bool
	shown    int
	// AllowMassRemoval is passed to the engine (see apply.Options).
	AllowMassRemoval bool
	// attempt is the commit Apply is working on, for recording a panic.
	attempt string
	// compiling is the locked note of a compile in progress (crash.go).
	compiling *os.File
	// crashAt, when set (by tests), is called at the start of the
	// compile and of the apply, to crash there.
	crashAt func(stage string)
}

func (h *Host) crashPoint(stage string) {
	if h.crashAt != nil {
		h.crashAt(stage)
	}
}

// Open finds the checkout that holds dir and reads its settings. It opens
// nothing else: the engine, the repository and the journal are opened when
// an operation first needs them.
func Open(dir string, out, errw io.Writer) (*Host, error) {
	c, err := FindCheckout(dir)
	if err != nil {
		return nil, err
	}
	s, err := LoadSettings(c)
	if err != nil {
		return nil, err
	}
	return &Host{Checkout: c, Settings: s, Out: out, Err: errw}, nil
}

// Close releases what the operations opened.
func (h *Host) Close() error {
	var errs []error
	if h.eng != nil {
		errs = append(errs, h.eng.Close())
	}
	if h.repo != nil {
		errs = append(errs, h.repo.Close())
	}
	if c, ok := h.log.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Decrypter is the host's age key, read the first time a secret is met
// (trail.agekey, or /etc/trail/age.key under the root).
func (h *Host) Decrypter() *secret.Decrypter {
	if h.dec != nil {
		return h.dec
	}
	path := h.Settings.ageKey()
	switch rel, err := filepath.Rel(h.Checkout.Dir, path); {
	case !filepath.IsAbs(path):
		h.dec = secret.Refused(path, errors.New("trail.agekey is not an absolute path: set it to a file outside the checkout (/etc/trail/age.key)"))
	case err == nil && rel != ".." && !strings.HasPrefix(rel, "../"):
		h.dec = secret.Refused(path, errors.New("is inside the checkout, where it could be committed, and replaced by a push: keep it outside (/etc/trail/age.key)"))
	default:
		h.dec = secret.NewDecrypter(path)
	}
	return h.dec
}

// Engine opens the applier on the host's root and state directory.
func (h *Host) Engine() (*apply.Engine, error) {
	if h.eng != nil {
		return h.eng, nil
	}
	e, err := apply.Open(apply.Options{
		Root:             h.Settings.root(),
		StateDir:         h.Settings.state(),
		LockTimeout:      h.Settings.LockTimeout,
		AllowMassRemoval: h.AllowMassRemoval || h.Settings.AllowMassRemoval,
		OnEvent:          h.onEvent,
		StepText:         h.stepText,
		Decrypt:          h.Decrypter().Decrypt,
		Seal:             h.Decrypter().Seal,
	})
	if err != nil {
		return nil, err
	}
	h.eng = e
	return e, nil
}

// Repo opens the checkout's git object database.
func (h *Host) Repo() (*gitrepo.Repo, error) {
	if h.repo != nil {
		return h.repo, nil
	}
	r, err := gitrepo.Open(h.Checkout.Dir)
	if err != nil {
		return nil, err
	}
	h.repo = r
	return r, nil
}

// sink returns where structured records go, per the journal setting:
// nil for "off", logfmt on Err for "stderr", else journald when it runs.
func (h *Host) sink() report.Sink {
	if h.log == nil {
		switch h.Settings.Journal {
		case "off":
			return nil
		case "stderr":
			h.log = report.NewLogfmt(h.Err)
		default:
			h.log = report.Open(h.Settings.Journal, h.Err)
		}
	}
	return h.log
}

// send reports r, printing to Err when even the fallback fails.
func (h *Host) send(r report.Record) {
	l := h.sink()
	if l == nil {
		return
	}
	if err := l.Send(r); err != nil {
		fmt.Fprintf(h.Err, "trail: report: %v\n", err)
	}
}

// Short abbreviates a commit hash for people, as git does.
func Short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

// AbbrevHashes shortens the content hashes in a line for people, as the
// apply's step lines show them; JSON output keeps them whole.
func AbbrevHashes(line string) string { return abbrevHashes(line) }
