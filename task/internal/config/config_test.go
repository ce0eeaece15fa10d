package config

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseOK(t *testing.T) {
	ok := map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k"}
	c, err := Parse(nil, env(map[string]string{
		contract.EnvBucket: "b", contract.EnvKey: "red+flower.jpg", contract.EnvPartSize: "16MiB", contract.EnvConcurrency: "8", contract.EnvTimeout: "10m",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Bucket != "b" || c.Key != "red+flower.jpg" || c.DataDir != "/data" || c.PartSize != 16<<20 || c.Concurrency != 8 || c.Timeout != 10*time.Minute || c.RequestTimeout != 30*time.Second {
		t.Fatalf("unexpected %+v", c)
	}
	// Flags override env.
	c, err = Parse([]string{"-bucket", "x", "-dir", "/tmp/d", "-part-size", "1MiB", "-concurrency", "2", "-timeout", "0"},
		env(map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k", contract.EnvConcurrency: "8"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Bucket != "x" || c.Key != "k" || c.DataDir != "/tmp/d" || c.PartSize != 1<<20 || c.Concurrency != 2 || c.Timeout != 0 {
		t.Fatalf("unexpected %+v", c)
	}
	// A bad env value overridden by a good flag is still reported: the
	// environment is what the state machine set, and it is wrong.
	if _, err := Parse([]string{"-concurrency", "2"}, env(map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k", contract.EnvConcurrency: "x"}), io.Discard); err == nil {
		t.Fatal("want error for bad env value")
	}
	if c, err := Parse([]string{"-version"}, env(nil), io.Discard); err != nil || !c.ShowVersion {
		t.Fatalf("-version: %v %+v", err, c)
	}
	// Size limit and the event's fields; all optional.
	c, err = Parse(nil, env(map[string]string{
		contract.EnvBucket: "b", contract.EnvKey: "k", contract.EnvMaxBytes: "1048576",
		contract.EnvEventSequencer: " 0055AED6DCD90281E5 ", contract.EnvEventETag: `"abc"`, contract.EnvEventSize: "0",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBytes != 1<<20 || c.Event != (Event{Sequencer: "0055AED6DCD90281E5", ETag: `"abc"`, Size: 0}) {
		t.Fatalf("unexpected %+v", c)
	}
	if c, err := Parse(nil, env(map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k", contract.EnvStripComponents: "2"}), io.Discard); err != nil || c.StripComponents != 2 {
		t.Fatalf("strip components: %v %+v", err, c)
	}
	if c, _ := Parse(nil, env(ok), io.Discard); c.MaxBytes != 0 || c.Event != (Event{Size: -1}) || c.StripComponents != 0 {
		t.Fatalf("defaults: %+v", c)
	}
	if _, err := Parse([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

func TestParseModes(t *testing.T) {
	c, err := Parse([]string{"sync", "-bucket", "b", "-prefix", "in/", "-pattern", "demo*.txt", "-objects", "8", "-concurrency", "8", "-mirror-deletes"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != contract.ModeSync || c.Bucket != "b" || c.Prefix != "in/" || c.Pattern != "demo*.txt" || c.SyncObjects != 8 || !c.MirrorDeletes {
		t.Fatalf("sync flags: %+v", c)
	}
	// The state machine sets env only; sync settings apply in sync mode.
	all := map[string]string{contract.EnvMode: "sync", contract.EnvBucket: "b", contract.EnvKeyPrefix: "p/",
		contract.EnvKeyPattern: "*.csv", contract.EnvSyncObjects: "2", contract.EnvMirrorDeletes: "true"}
	c, err = Parse(nil, env(all), io.Discard)
	if err != nil || c.Mode != contract.ModeSync || c.Prefix != "p/" || c.Pattern != "*.csv" || c.SyncObjects != 2 || !c.MirrorDeletes {
		t.Fatalf("sync env: %v %+v", err, c)
	}
	c, err = Parse([]string{"sync", "-bucket", "b"}, env(nil), io.Discard)
	if err != nil || c.Pattern != "*" || c.SyncObjects != 4 || c.MirrorDeletes || c.Prefix != "" {
		t.Fatalf("sync defaults: %v %+v", err, c)
	}
	all[contract.EnvMode], all[contract.EnvKey], all[contract.EnvSyncObjects] = "delete", "a%2Fb.txt", "junk"
	c, err = Parse(nil, env(all), io.Discard)
	if err != nil || c.Mode != contract.ModeDelete || c.Key != "a%2Fb.txt" || c.MirrorDeletes || c.Prefix != "" {
		t.Fatalf("delete env (sync settings ignored): %v %+v", err, c)
	}
	// The argument wins over the environment; no mode is download.
	c, err = Parse([]string{"download"}, env(all), io.Discard)
	if err != nil || c.Mode != contract.ModeDownload {
		t.Fatalf("argument over env: %v %+v", err, c)
	}
	c, err = Parse(nil, env(map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k"}), io.Discard)
	if err != nil || c.Mode != contract.ModeDownload {
		t.Fatalf("default mode: %v %+v", err, c)
	}
}

func TestParseErrors(t *testing.T) {
	ok := map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k"}
	with := func(k, v string) map[string]string {
		m := map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k"}
		m[k] = v
		return m
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no bucket", nil, map[string]string{contract.EnvKey: "k"}, "bucket is required (EDGE_DROP_BUCKET or -bucket)"},
		{"no key", nil, map[string]string{contract.EnvBucket: "b"}, "key is required (EDGE_DROP_KEY or -key; or a list in EDGE_DROP_KEYS)"},
		{"keys in delete mode", []string{"delete"}, map[string]string{contract.EnvBucket: "b", contract.EnvKeys: `[{"k":"a"}]`}, "EDGE_DROP_KEYS is for download mode"},
		{"keys and -key", []string{"-key", "a"}, map[string]string{contract.EnvBucket: "b", contract.EnvKeys: `[{"k":"a"}]`}, "-key and EDGE_DROP_KEYS exclude each other"},
		{"bad keys", nil, map[string]string{contract.EnvBucket: "b", contract.EnvKeys: `[]`}, "EDGE_DROP_KEYS: the list is empty"},
		{"empty dir flag", []string{"-dir", ""}, ok, "data dir must not be empty"},
		{"part size junk", nil, with(contract.EnvPartSize, "lots"), `EDGE_DROP_PART_SIZE: "lots" is not a size`},
		{"part size small", nil, with(contract.EnvPartSize, "1KiB"), "EDGE_DROP_PART_SIZE: 1024 out of range"},
		{"part size flag", []string{"-part-size", "6GiB"}, ok, "-part-size: 6442450944 out of range"},
		{"conc junk", nil, with(contract.EnvConcurrency, "four"), `EDGE_DROP_CONCURRENCY: "four" is not an integer`},
		{"conc zero", nil, with(contract.EnvConcurrency, "0"), "EDGE_DROP_CONCURRENCY: 0 out of range [1, 64]"},
		{"conc big", []string{"-concurrency", "1000"}, ok, "-concurrency: 1000 out of range [1, 64]"},
		{"timeout junk", nil, with(contract.EnvTimeout, "10"), `EDGE_DROP_TIMEOUT: "10" is not a duration`},
		{"timeout negative", nil, with(contract.EnvTimeout, "-1s"), `EDGE_DROP_TIMEOUT: "-1s" must be positive`},
		{"req timeout zero", nil, with(contract.EnvRequestTimeout, "0s"), `EDGE_DROP_REQUEST_TIMEOUT: "0s" must be positive`},
		{"max bytes junk", nil, with(contract.EnvMaxBytes, "1GiB"), `EDGE_DROP_MAX_BYTES: "1GiB" is not a non-negative integer (bytes; 0 = no limit)`},
		{"max bytes negative", nil, with(contract.EnvMaxBytes, "-1"), `EDGE_DROP_MAX_BYTES: "-1" is not a non-negative integer`},
		{"max bytes flag", []string{"-max-bytes", "x"}, ok, `-max-bytes: "x" is not a non-negative integer`},
		{"strip junk", nil, with(contract.EnvStripComponents, "two"), `EDGE_DROP_STRIP_COMPONENTS: "two" is not a non-negative integer (leading key components to drop)`},
		{"strip negative", nil, with(contract.EnvStripComponents, "-1"), `EDGE_DROP_STRIP_COMPONENTS: "-1" is not a non-negative integer`},
		{"strip huge", nil, with(contract.EnvStripComponents, "99999"), `EDGE_DROP_STRIP_COMPONENTS: "99999" is not a non-negative integer`},
		{"event size junk", nil, with(contract.EnvEventSize, "12.5"), `EDGE_DROP_EVENT_SIZE: "12.5" is not a non-negative integer`},
		{"event size negative", nil, with(contract.EnvEventSize, "-3"), `EDGE_DROP_EVENT_SIZE: "-3" is not a non-negative integer`},
		{"unknown flag", []string{"-bogus"}, ok, "flag provided but not defined: -bogus"},
		{"extra arg", []string{"-bucket", "b", "file"}, ok, `unexpected argument "file"`},
		{"unknown mode arg", []string{"snyc"}, ok, `mode argument: unknown mode "snyc": use download, sync, delete (default download)`},
		{"unknown mode env", nil, with(contract.EnvMode, "Sync"), `EDGE_DROP_MODE: unknown mode "Sync"`},
		{"sync with -key", []string{"sync", "-key", "k"}, ok, "-key is not used in sync mode"},
		{"sync objects junk", []string{"sync"}, with(contract.EnvSyncObjects, "many"), `EDGE_DROP_SYNC_OBJECTS: "many" is not an integer`},
		{"sync objects zero", []string{"sync", "-objects", "0"}, ok, "-objects: 0 out of range [1, 64]"},
		{"sync product", []string{"sync", "-objects", "16", "-concurrency", "8"}, ok, "objects × concurrency = 16 × 8 = 128 requests in flight, more than 64"},
		{"sync mirror junk", []string{"sync"}, with(contract.EnvMirrorDeletes, "yes please"), `EDGE_DROP_MIRROR_DELETES: "yes please" is not true or false`},
		{"sync empty pattern", []string{"sync", "-pattern", ""}, ok, `-pattern is empty (it would keep no key): give a StringMatches pattern, "*" for every key`},
		{"pattern in download mode", []string{"-pattern", "*.txt"}, ok, "-pattern is only for sync mode"},
		{"mirror in delete mode", []string{"delete", "-mirror-deletes=true"}, ok, "-mirror-deletes is only for sync mode"},
		{"delete without key", []string{"delete"}, map[string]string{contract.EnvBucket: "b"}, "key is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.args, env(c.env), io.Discard)
			if err == nil {
				t.Fatalf("want error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %q, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}
