package main

import (
	"bytes"
	"encoding/base64"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// Issue 21: a task killed with SIGKILL mid-download (no chance to clean
// up, as an OOM kill or a power cut) leaves its partial and progress
// record; the next delivery of the same version fetches only what was not
// recorded, counted at the server, and the file verifies. The first run is
// slowed by the bandwidth budget so the kill lands mid-object.
func TestE2EResumeAfterSIGKILL(t *testing.T) {
	bin := buildBinary(t, runtime.GOARCH, "e2e", false)
	srv := s3test.Start(t)
	const size = 32 << 20
	data := testData(size)
	sum := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	crc := base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	srv.Put(t, "edge", "big.bin", data, map[string]string{"x-amz-checksum-crc32c": crc})
	dir := t.TempDir()

	cmd := exec.Command(bin, "-bucket", "edge", "-key", "big.bin", "-dir", dir, "-part-size", "1MiB", "-max-rate", "8MiB")
	cmd.Env = binEnv(t, srv)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the server has sent 60% (polled; bounded).
	deadline := time.Now().Add(time.Minute)
	for srv.BodyBytes() < size*6/10 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the server sent only %d bytes in a minute", srv.BodyBytes())
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not timing a race
	}
	cmd.Process.Kill()
	cmd.Wait()
	first := srv.BodyBytes()
	if _, err := os.Stat(filepath.Join(dir, "big.bin")); !os.IsNotExist(err) {
		t.Fatalf("a file is at the path after the kill: %v", err)
	}

	srv.SetRule(nil) // counts anew
	cmd = exec.Command(bin, "-bucket", "edge", "-key", "big.bin", "-dir", dir, "-part-size", "1MiB")
	cmd.Env = binEnv(t, srv)
	r := runBin(t, cmd)
	if r.code != 0 {
		t.Fatalf("exit %d: %s\n%s", r.code, r.stderr, r.stdout)
	}
	got, err := os.ReadFile(filepath.Join(dir, "big.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the resumed file differs (%v)", err)
	}
	s := summary(t, r.stdout, "download complete")
	resumed := summary(t, r.stdout, "resuming an interrupted download")
	second := srv.BodyBytes()
	t.Logf("first run: %d bytes sent before the kill; the progress record named %v; second run fetched %d of %d (kept %v)",
		first, resumed["bytes_on_disk"], second, size, s["kept_bytes"])
	// The record lags the bytes by at most a checkpoint (1 s at 8 MiB/s)
	// and a MiB per worker: the second run must fetch well under the
	// whole object (bench/resume.sh measures the 45% of a 512 MiB one).
	if second > size*3/4 || s["verified"] != "crc32c" || s["kept_bytes"].(float64)+s["fetched_bytes"].(float64) != size {
		t.Fatalf("second run fetched %d of %d bytes; summary %v", second, size, s)
	}
	if left := partFiles(t, dir); len(left) != 0 {
		t.Fatalf("temp files left after the resumed delivery: %v", left)
	}
}
