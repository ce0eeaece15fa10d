package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
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

// make test-go and test-task test each package of the three modules once:
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
	for _, dir := range []string{".", "task", "contract"} {
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
	noteAt, runAt := strings.Index(string(dry), "scripts/first-run-note.sh ./cmd/demo"), strings.Index(string(dry), "go run ./cmd/demo")
	if noteAt < 0 || runAt < noteAt {
		t.Errorf("make demo must print the note before go run:\n%s", dry)
	}
}
