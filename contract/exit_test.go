package contract

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestExitCodesAreDistinctAndNamed(t *testing.T) {
	classes := map[string]ExitCode{}
	for _, c := range ExitCodes {
		cl := c.Class()
		if strings.HasPrefix(cl, "code_") || c.Words() == "unknown exit code" {
			t.Errorf("exit %d has no class or words", int(c))
		}
		if prev, dup := classes[cl]; dup {
			t.Errorf("class %q used by exit %d and %d", cl, int(prev), int(c))
		}
		classes[cl] = c
	}
	if len(ExitCodes) != len(exitInfo) {
		t.Errorf("ExitCodes lists %d codes, exitInfo %d", len(ExitCodes), len(exitInfo))
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		c    ExitCode
		want string
	}{
		{ExitUnsafeKey, "exit 3 unsafe_key: unsafe or invalid object key"},
		{ExitIntegrity, "exit 8 integrity: integrity check failed"},
		{ExitCode(42), "exit 42 code_42: unknown exit code"},
	} {
		if got := tc.c.Describe(); got != tc.want {
			t.Errorf("Describe(%d) = %q, want %q", int(tc.c), got, tc.want)
		}
	}
}

func TestEnvNamesShareThePrefix(t *testing.T) {
	for _, n := range []string{EnvBucket, EnvKey, EnvEventSequencer, EnvEventETag, EnvEventSize, EnvStripComponents, EnvDataDir, EnvMaxBytes, EnvTimeout, EnvPartSize, EnvConcurrency, EnvRequestTimeout, EnvMode, EnvKeyPrefix, EnvKeyPattern, EnvSyncObjects, EnvMirrorDeletes,
		EnvMaxRate, EnvRateSchedule, EnvMinFree, EnvPartialMaxAge, EnvPartialMaxBytes, EnvTaskToken} {
		if !strings.HasPrefix(n, EnvPrefix) {
			t.Errorf("%s lacks the %s prefix", n, EnvPrefix)
		}
	}
}

func TestExitDescriptionsAreIndexedByCode(t *testing.T) {
	d := ExitDescriptions()
	for _, c := range ExitCodes {
		if d[int(c)] != c.Describe() {
			t.Errorf("ExitDescriptions()[%d] = %q, want %q", int(c), d[int(c)], c.Describe())
		}
	}
	if d[1] != ExitCode(1).Describe() || len(d) != int(slices.Max(ExitCodes))+1 {
		t.Errorf("gaps must read as unknown codes and the last code must be the last entry: %q", d)
	}
}

// TestREADMEsTableEveryExitCode keeps the exit-code tables of README.md and
// task/README.md in step with ExitCodes: every code, in order, and (where
// the table has a class column) its class.
func TestREADMEsTableEveryExitCode(t *testing.T) {
	for _, readme := range []string{"../docs/task.md", "../task/README.md"} {
		raw, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		var codes []ExitCode
		classCol := -1
		inTable := false
		for _, line := range strings.Split(string(raw), "\n") {
			cells := strings.Split(line, "|")
			switch {
			case strings.HasPrefix(line, "| code |") && strings.HasSuffix(line, "| meaning |"):
				inTable = true
				for i, c := range cells {
					if strings.TrimSpace(c) == "class" {
						classCol = i
					}
				}
			case inTable && strings.HasPrefix(line, "|---"):
			case inTable && strings.HasPrefix(line, "|"):
				n, err := strconv.Atoi(strings.TrimSpace(cells[1]))
				if err != nil {
					t.Errorf("%s: exit-code row %q does not start with a number", readme, line)
					continue
				}
				codes = append(codes, ExitCode(n))
				if classCol > 0 && strings.TrimSpace(cells[classCol]) != ExitCode(n).Class() {
					t.Errorf("%s: exit %d has class %q, contract says %q", readme, n, strings.TrimSpace(cells[classCol]), ExitCode(n).Class())
				}
			case inTable:
				inTable = false
			}
		}
		if !slices.Equal(codes, ExitCodes) {
			t.Errorf("%s's exit-code table lists %v, contract.ExitCodes is %v", readme, codes, ExitCodes)
		}
	}
}
