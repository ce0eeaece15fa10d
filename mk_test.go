package main

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// Every make target has one definition: two rules for one target in two
// mk/*.mk files merge silently and hide half of what the target runs.
func TestMakeTargetsAreDefinedOnce(t *testing.T) {
	files, _ := filepath.Glob("mk/*.mk")
	files = append(files, "Makefile")
	rule := regexp.MustCompile(`^([A-Za-z0-9_.-]+)\s*:([^=]|$)`)
	where := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			m := rule.FindStringSubmatch(line)
			if m == nil || strings.HasPrefix(m[1], ".") {
				continue
			}
			if prev, dup := where[m[1]]; dup {
				t.Errorf("target %s is defined in %s and again in %s", m[1], prev, f)
			}
			where[m[1]] = f
		}
	}
	if where["bench"] == "" || where["test-go"] == "" {
		t.Fatalf("parsed no bench or test-go rule: %v", where)
	}
}

// make test-go and test-task test each package of every module once:
// the race packages under -race only, the others (jsii, qemu) without.
func TestEveryPackageIsTestedOnce(t *testing.T) {
	out, err := exec.Command("make", "-n", "test-go", "test-task").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n: %v\n%s", err, out)
	}
	list := func(dir string, args ...string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = dir
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v in %s: %v", args, dir, err)
		}
		return strings.Fields(string(b))
	}
	runs := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		dir := "."
		for _, cmd := range strings.Split(line, "&&") {
			f := strings.Fields(cmd)
			switch {
			case len(f) == 2 && f[0] == "cd":
				dir = f[1]
			case len(f) > 2 && f[0] == "go" && f[1] == "test":
				var pkgs []string
				for _, a := range f[2:] {
					if !strings.HasPrefix(a, "-") && (strings.HasPrefix(a, ".") || strings.Contains(a, "/")) {
						pkgs = append(pkgs, a)
					}
				}
				for _, p := range list(dir, pkgs...) {
					runs[p]++
				}
			}
		}
	}
	for _, dir := range workspaceModules(t) { // every go.mod (TestGoWorkNamesEveryModule...)
		for _, p := range list(dir, "./...") {
			if runs[p] != 1 {
				t.Errorf("make test tests %s %d times, want once", p, runs[p])
			}
		}
	}
}

// CI synthesizes once (make test's synth-check keeps its assembly for the
// artifact) and sets up the Go the task module needs.
func TestCISynthesizesOnce(t *testing.T) {
	b, err := os.ReadFile(".github/workflows/ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	ci := string(b)
	if strings.Contains(ci, "make synth") || strings.Contains(ci, "cdk synth\n") {
		t.Error("ci.yml synthesizes again after make test")
	}
	if !strings.Contains(ci, "make test SYNTH_OUT=cdk.out") || !strings.Contains(ci, "path: cdk.out/*.template.json") {
		t.Error("ci.yml must keep make test's assembly (SYNTH_OUT=cdk.out) and upload it")
	}
	if !strings.Contains(ci, "go-version-file: task/go.mod") {
		t.Error("setup-go must read task/go.mod (the module that needs the newer Go)")
	}
}

// The first make demo compiles the CDK bindings silently for minutes; one
// line says so, only when the build cache lacks them.
func TestFirstRunNoteOnlyWhenTheCDKMustCompile(t *testing.T) {
	const note = "first run: compiling the AWS CDK Go bindings"
	run := func(env ...string) string {
		t.Helper()
		cmd := exec.Command("bash", "scripts/first-run-note.sh", "./cmd/demo")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("first-run-note: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run("GOCACHE=" + t.TempDir()); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, note) {
		t.Errorf("empty build cache: want the one note line, got %q", out)
	}
	if out, err := exec.Command("go", "build", "-o", os.DevNull, "./cmd/demo").CombinedOutput(); err != nil {
		t.Fatalf("build demo: %v\n%s", err, out)
	}
	if out := run(); out != "" {
		t.Errorf("warm build cache: want silence, got %q", out)
	}
	dry, err := exec.Command("make", "-n", "demo").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n demo: %v\n%s", err, dry)
	}
	noteAt, runAt := strings.Index(string(dry), "scripts/first-run-note.sh ./cmd/demo"), strings.Index(string(dry), "go build -o bin/demo ./cmd/demo")
	if noteAt < 0 || runAt < noteAt {
		t.Errorf("make demo must print the note before it compiles the demo:\n%s", dry)
	}
}

// Ctrl-C is how the demo ends: under make it exits quietly (no "make: ***
// [demo] Error 130"); any other failure is still make's error. The
// terminal's Ctrl-C is SIGINT to the whole foreground process group, make
// included, as here.
func TestCtrlCOfTheDemoIsQuietUnderMake(t *testing.T) {
	dir := t.TempDir()
	abs, _ := filepath.Abs("mk/demo.mk")
	// A stand-in for bin/demo: exits 130 on SIGINT, as the demo does.
	fake := filepath.Join(dir, "demo")
	write := func(path, s string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(fake, "#!/bin/sh\n[ -z \"$1\" ] || exit \"$1\"\nsleep 30 &\npid=$!\ntrap 'echo stopping; kill $pid 2>/dev/null; sleep 0.2; exit 130' INT\necho running\nwait\n", 0o755)
	write(filepath.Join(dir, "Makefile"), "SHELL := /bin/bash\ninclude "+abs+"\nrun:\n\t@$(call quiet_interrupt,"+fake+" $(CODE))\n", 0o644)
	cmd := exec.Command("make", "--no-print-directory", "-C", dir, "run")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make and the demo: one process group, as in a terminal
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "running" {
		t.Fatalf("the stand-in did not start: %q", lines.Text())
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // Ctrl-C
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	_ = cmd.Wait()
	if rest.String() != "stopping\n" {
		t.Errorf("Ctrl-C under make: want the demo's own words only, got:\n%s", rest.String())
	}

	// Any other failure is make's error, as before.
	out, err := exec.Command("make", "--no-print-directory", "-C", dir, "run", "CODE=3").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Error 3") {
		t.Errorf("a failure: %v\n%s", err, out)
	}
}

// make image without buildx or without a Docker daemon says what is
// missing (a docker without buildx would say "unknown flag: --platform").
func TestMakeImageSaysWhatIsMissing(t *testing.T) {
	for name, tc := range map[string]struct{ docker, want string }{
		"no buildx": {"case \"$1\" in buildx) echo \"docker: unknown command: docker buildx\" >&2; exit 1;; esac", "docker has no buildx: install the buildx plugin"},
		"no daemon": {"case \"$1\" in buildx) exit 0;; info) echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1;; esac", "no Docker daemon answers (Cannot connect to the Docker daemon"},
		"no docker": {"", "docker is not installed"},
	} {
		t.Run(name, func(t *testing.T) {
			bin := t.TempDir()
			if tc.docker != "" {
				if err := os.WriteFile(filepath.Join(bin, "docker"), []byte("#!/bin/sh\n"+tc.docker+"\necho \"fake docker: $*\" >&2; exit 1\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("make", "--no-print-directory", "image")
			cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin")
			if tc.docker == "" {
				cmd.Env = append(os.Environ(), "PATH="+bin+":"+withoutDocker(t))
			}
			out, err := cmd.CombinedOutput()
			text := string(out)
			if err == nil || !strings.Contains(text, "make image: "+tc.want) || strings.Contains(text, "--platform") {
				t.Errorf("want %q, got %v:\n%s", tc.want, err, text)
			}
		})
	}
}

// withoutDocker is a PATH with make, bash and git but no docker.
func withoutDocker(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"make", "bash", "git", "sh", "uname", "grep", "tail", "stat", "echo"} {
		if p, err := exec.LookPath(tool); err == nil {
			_ = os.Symlink(p, filepath.Join(dir, tool))
		}
	}
	return dir
}

// make test runs everything with TMPDIR set to a directory of its own and
// fails, naming it, when anything is left there; the system temp dir is as
// it was either way.
func TestMakeTestFailsWhenTestsLeaveTempFiles(t *testing.T) {
	tmp := t.TempDir()
	run := func(script string) (string, error) {
		cmd := exec.Command("bash", "scripts/tmpcheck.sh", "bash", "-c", script)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(`d=$(mktemp -d); rm -r "$d"; touch "$TMPDIR/left.txt"; mkdir "$TMPDIR/jsii-runtime.123"`)
	if err == nil || !strings.Contains(out, "the tests left this in the temp dir") || !strings.Contains(out, "  left.txt (") || !strings.Contains(out, "  jsii-runtime.123 (") {
		t.Errorf("leftovers: %v\n%s", err, out)
	}
	if out, err := run(`d=$(mktemp -d); touch "$d/x"; rm -r "$d"`); err != nil || out != "" {
		t.Errorf("a clean run: %v\n%s", err, out)
	}
	if _, err := run(`exit 3`); err == nil {
		t.Error("a failing run must fail")
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("tmpcheck left %d entries in the temp dir", len(entries))
	}
	dry, err := exec.Command("make", "-n", "test").CombinedOutput()
	if err != nil || !strings.Contains(string(dry), "scripts/tmpcheck.sh make --no-print-directory test-all") {
		t.Errorf("make test must run its targets through tmpcheck: %v\n%s", err, dry)
	}
}

// Linking the CDK unpacks jsii's runtime (2.2 MB) into the temp dir at
// init, and only jsii.Close removes it: every test binary that links it
// runs under cdktest.Main, which closes it.
func TestEveryCDKTestBinaryClosesJSII(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}}|{{.Dir}}|{{if .ForTest}}{{.ForTest}}{{end}}|{{join .Deps \" \"}}", "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 4)
		// The test binary itself ("<pkg>.test") lists what it links.
		if len(f) != 4 || !strings.HasSuffix(f[0], ".test") || !strings.Contains(f[3], "github.com/aws/aws-cdk-go/awscdk/v2/interfaces") {
			continue
		}
		checked++
		files, _ := filepath.Glob(filepath.Join(f[1], "*_test.go"))
		found := false
		for _, file := range files {
			b, _ := os.ReadFile(file)
			found = found || regexp.MustCompile(`func TestMain\(m \*testing\.M\) \{[^}]*Main\(`).Match(b)
		}
		if !found {
			t.Errorf("%s links the CDK: its TestMain must be cdktest.Main (jsii's runtime is left in the temp dir otherwise)", strings.TrimSuffix(f[0], ".test"))
		}
	}
	if checked < 10 {
		t.Fatalf("found only %d test binaries that link the CDK", checked)
	}
}

// go.work names every module of the tree (gopls and go commands typed at
// the root see them all), and make builds each module alone: in the
// workspace one version of a dependency serves every module, so the task
// would link other versions than its go.mod pins.
func TestGoWorkNamesEveryModuleAndMakeBuildsEachAlone(t *testing.T) {
	used := map[string]bool{}
	for _, dir := range workspaceModules(t) {
		used[dir] = true
	}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != "." || d.Name() == "node_modules" || d.Name() == "testdata" || p == "bench/out" || p == "cdk.out"):
			return filepath.SkipDir
		case d.Name() == "go.mod":
			if dir := filepath.Dir(p); !used[dir] {
				t.Errorf("go.work does not use %s (go work use %s)", dir, dir)
			}
			delete(used, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range used {
		t.Errorf("go.work uses %s, which has no go.mod", dir)
	}
	cmd := exec.Command("make", "--no-print-directory", "-s", "--eval", "print-gowork: ; @go env GOWORK", "print-gowork")
	cmd.Env = append(os.Environ(), "GOWORK=")
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "off" {
		t.Errorf("make's recipes must run with GOWORK=off, go env GOWORK says %q (%v)", out, err)
	}
}

// workspaceModules are the module directories go.work uses.
func workspaceModules(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "work", "edit", "-json", "go.work").Output()
	if err != nil {
		t.Fatalf("go work edit -json: %v", err)
	}
	var work struct{ Use []struct{ DiskPath string } }
	if err := json.Unmarshal(out, &work); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, u := range work.Use {
		dirs = append(dirs, filepath.Clean(u.DiskPath))
	}
	return dirs
}
