package cdkapp_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/cdkapp"
	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m.Run) }

func appWith(t *testing.T, overrides map[string]any) awscdk.App {
	t.Helper()
	ctx, err := config.CDKJSONContext("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(ctx, overrides)
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
}

// ConfigFrom reports a misspelt key and a configuration the stacks cannot
// serve at once, one line each.
func TestConfigFromReportsEveryProblem(t *testing.T) {
	_, err := cdkapp.ConfigFrom(appWith(t, map[string]any{"keyPatern": "x",
		config.KeyDeliverTo: "all", config.KeyMaxBoards: "10000", config.KeyTaskTimeout: "24h", config.KeyOfflineWait: "2h"}))
	if err == nil {
		t.Fatal("want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `did you mean "keyPattern"?`) || !strings.Contains(lines[1], "config: maxBoards=10000") {
		t.Fatalf("want the typo, then the paged fleet's year, got %q", lines)
	}
	cfg, err := cdkapp.ConfigFrom(appWith(t, map[string]any{config.KeyKeyPattern: "report*.csv", "teamName": "edge"}))
	if err != nil || cfg.KeyPattern != "report*.csv" {
		t.Fatalf("a valid context with a key of the user's own: %+v, %v", cfg, err)
	}
}

// Synth reads cdk.json from the project dir and applies the -c overrides
// over it; SynthApp needs the Dockerfile unless taskImage is set. Each
// failure before the build is one line.
func TestSynthFailsBeforeBuilding(t *testing.T) {
	for name, tc := range map[string]struct {
		dir       string
		overrides map[string]string
		want      string
	}{
		"no cdk.json":    {t.TempDir(), nil, "read CDK settings: "},
		"a bad override": {"..", map[string]string{config.KeyTaskMemoryMiB: "9000"}, `config: context key "taskMemoryMiB" = "9000" must be from 32 to 448 MiB`},
		"a misspelt -c":  {"..", map[string]string{"dataDri": "/x"}, `config: unknown config key "dataDri": did you mean "dataDir"?`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cdkapp.Synth(tc.dir, t.TempDir(), tc.overrides)
			if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want one line with %q, got %v", tc.want, err)
			}
		})
	}
	_, err := cdkapp.SynthApp(appWith(t, nil), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "taskImage is empty, so the task image is built from ./Dockerfile, which is missing") {
		t.Fatalf("no Dockerfile in the image directory: got %v", err)
	}
}
