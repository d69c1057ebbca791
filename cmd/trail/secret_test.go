package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdAgeKey makes an age key as age-keygen does: agekey KEYFILE PUBFILE
// writes the identity (mode 0600) and its public key.
func cmdAgeKey(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: agekey KEYFILE PUBFILE")
	}
	id, err := age.GenerateX25519Identity()
	ts.Check(err)
	key := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(key), 0o755))
	ts.Check(os.WriteFile(key, []byte("# created: by the test\n"+id.String()+"\n"), 0o600))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(id.Recipient().String()+"\n"), 0o644))
}

// cmdAgeEncrypt encrypts as age -r does: ageencrypt PUBFILE IN OUT.
func cmdAgeEncrypt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: ageencrypt PUBFILE IN OUT")
	}
	pub, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	r, err := age.ParseX25519Recipient(strings.TrimSpace(string(pub)))
	ts.Check(err)
	in, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	var b bytes.Buffer
	w, err := age.Encrypt(&b, r)
	ts.Check(err)
	_, err = w.Write(in)
	ts.Check(err)
	ts.Check(w.Close())
	out := ts.MkAbs(args[2])
	ts.Check(os.MkdirAll(filepath.Dir(out), 0o755))
	ts.Check(os.WriteFile(out, b.Bytes(), 0o644))
}

// cmdSecretFree fails when a file under the PATHs holds the secret in
// PLAINFILE (without its final newline) or the first 12 hex digits of
// its sha256, as messages abbreviate hashes: secretfree PLAINFILE PATH...
// With -plain, only the secret itself is looked for (the state's applied
// record and drift index name what trail wrote by its hash).
func cmdSecretFree(ts *testscript.TestScript, neg bool, args []string) {
	plainOnly := len(args) > 0 && args[0] == "-plain"
	if plainOnly {
		args = args[1:]
	}
	if len(args) < 2 || neg {
		ts.Fatalf("usage: secretfree [-plain] PLAINFILE PATH...")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	sum := sha256.Sum256(data)
	needles := []string{strings.TrimSuffix(string(data), "\n")}
	if !plainOnly {
		needles = append(needles, hex.EncodeToString(sum[:])[:12])
	}
	files := 0
	for _, root := range args[1:] {
		ts.Check(filepath.WalkDir(ts.MkAbs(root), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files++
			for _, n := range needles {
				if bytes.Contains(b, []byte(n)) {
					ts.Fatalf("%s holds %q", p, n)
				}
			}
			return nil
		}))
	}
	ts.Logf("secretfree: %d files hold no trace of %s", files, args[0])
}
