package localrun

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/assembly"
)

// Issue 12 end to end through the synthesized app (-c mirrorDeletes=true,
// deliverTo=all): board b is offline during 50 uploads and 5 deletes, comes
// back, and one run of the <prefix>-Sync state machine makes its data dir
// equal the bucket under the key pattern, byte for byte; a file a person
// put there survives. Board a, online throughout, follows the deletes
// through the Object Deleted events alone.
func TestSynthesizedSyncCatchesUpABoardThatWasOffline(t *testing.T) {
	asm := synthFleet(t, map[string]string{"deliverTo": "all", "offlineWait": "1m", "mirrorDeletes": "true"})
	var waits atomic.Int32
	h := start(t, asm, Options{Boards: []Board{{Name: "a"}, {Name: "b"}}, Sleep: noWait(&waits, nil), TaskSlots: 4})
	if !rulesMatchDeletions(t, asm) {
		t.Fatal("the app's rule does not match Object Deleted with mirrorDeletes=true")
	}
	bDir := filepath.Join(h.data, "b")

	// Before: both boards have the five objects that will be deleted.
	doomed := map[string][]byte{}
	for i := range 5 {
		doomed[fmt.Sprintf("demo-doomed-%d.txt", i)] = randomBytes(1000 + i)
	}
	for k, body := range doomed {
		h.put(k, body)
	}
	for _, r := range h.collect(len(doomed)) {
		if r.Execution.Status != asl.StatusSucceeded {
			t.Fatalf("%s: %s %s", r.Event.Key, r.Execution.Status, r.Execution.Cause)
		}
	}
	personal := filepath.Join(bDir, "demo-mine.txt") // under the pattern, but not delivered
	if err := os.WriteFile(personal, []byte("put here by a person"), 0o644); err != nil {
		t.Fatal(err)
	}

	// b offline: 50 uploads (one of them a key outside the pattern) and 5 deletes.
	if err := h.p.SetConnected("b", false); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		key := fmt.Sprintf("demo-%02d.txt", i)
		if i == 7 {
			key = "notes/outside-the-pattern.md"
		}
		if i == 9 {
			key = "demo-dir/sub dir/nested 9.txt"
		}
		h.put(key, randomBytes(1+i*997%40000))
	}
	for k := range doomed {
		if _, err := h.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &h.bucket, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range h.collect(50 + len(doomed)) {
		if r.Event.Key == "notes/outside-the-pattern.md" || r.Event.Deleted {
			continue
		}
		if r.Execution.Status != asl.StatusFailed || r.Execution.Error != contract.ErrSomeBoardsFailed || !strings.Contains(r.Execution.Cause, `offline ["b"]`) {
			t.Fatalf("%s while b is offline: %s %s %s", r.Event.Key, r.Execution.Status, r.Execution.Error, r.Execution.Cause)
		}
	}
	// a stayed online: the Object Deleted events removed its copies, no sync needed.
	if diff := bucketUnder(t, h, "demo*.txt").diff(t, filepath.Join(h.data, "a")); len(diff) > 0 {
		t.Errorf("board a, online throughout, differs from the bucket: %v", diff)
	}
	if diff := bucketUnder(t, h, "demo*.txt").diff(t, bDir); len(diff) < 50 {
		t.Fatalf("b misses only %v before the sync: the test proves little", diff)
	}

	// b back: one sync of b.
	if err := h.p.SetConnected("b", true); err != nil {
		t.Fatal(err)
	}
	syncARN := ""
	for _, m := range h.p.StateMachines() {
		if strings.HasSuffix(m.Name, "-Sync") {
			syncARN = m.ARN
		}
	}
	if syncARN == "" {
		t.Fatalf("no <prefix>-Sync state machine in %+v", h.p.StateMachines())
	}
	run, err := h.p.StartExecution(syncARN, "", `{"board":"b"}`)
	if err != nil {
		t.Fatal(err)
	}
	<-run.Done()
	r, _ := run.Result()
	x := r.Execution
	if x.Status != asl.StatusSucceeded {
		t.Fatalf("sync: %s %s %s (task: %s)", x.Status, x.Error, x.Cause, r.TaskReason)
	}
	t.Logf("the sync of b took %s", x.StopTime.Sub(x.StartTime))
	if diff := bucketUnder(t, h, "demo*.txt").diff(t, bDir); len(diff) > 0 {
		t.Errorf("after one sync, b's data dir differs from the bucket under the pattern: %v", diff)
	}
	if got, err := os.ReadFile(personal); err != nil || string(got) != "put here by a person" {
		t.Errorf("the person's file: %q %v", got, err)
	}
}

// rulesMatchDeletions tells whether the assembly's rule starts executions
// for Object Deleted events (the cloud side's mirrorDeletes).
func rulesMatchDeletions(t *testing.T, asm string) bool {
	a, err := assembly.Load(asm, Region, Account)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := a.Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if strings.Contains(string(r.Pattern), "Object Deleted") {
			return true
		}
	}
	return false
}

// collect takes n results of S3 notifications (scheduled runs aside).
func (h *harness) collect(n int) []Result {
	h.t.Helper()
	var out []Result
	for len(out) < n {
		r := nextResult(h.t.(*testing.T), h.p)
		if r.Event.Key != "" {
			out = append(out, r)
		}
	}
	return out
}

// tree is a directory's regular files by slash path, with their bytes.
type tree map[string][]byte

// bucketUnder is the bucket's objects whose keys match pattern (the
// Choice's StringMatches: * only).
func bucketUnder(t *testing.T, h *harness, pattern string) tree {
	out := tree{}
	l, err := h.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &h.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Contents {
		key := aws.ToString(o.Key)
		if !starMatch(pattern, key) {
			continue
		}
		g, err := h.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &h.bucket, Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(g.Body)
		g.Body.Close()
		out[key] = b.Bytes()
	}
	return out
}

// starMatch is StringMatches with '*' only: any run of characters, '/' too.
func starMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p) && len(s) >= len(p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}

// diff lists how dir differs from t's files, byte for byte, apart from
// the task's state dir and files no delivery wrote (demo-mine.txt).
func (want tree) diff(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == contract.StateDirName {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "demo-mine.txt" {
			return nil
		}
		seen[rel] = true
		body, err := os.ReadFile(path)
		switch w, ok := want[rel]; {
		case !ok:
			out = append(out, rel+" is not in the bucket")
		case err != nil || !bytes.Equal(body, w):
			out = append(out, rel+" differs")
		}
		return nil
	})
	for k := range want {
		if !seen[k] {
			out = append(out, k+" is missing")
		}
	}
	return out
}
