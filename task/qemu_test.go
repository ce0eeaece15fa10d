package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc64"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// TestQEMUArm64 builds the linux/arm64 binary with the release flags (as the
// Dockerfile does) and runs a real download with it under qemu-aarch64-static
// against the in-process S3 server. CI sets EDGE_DROP_REQUIRE_QEMU=1, so
// there a missing qemu is a failure, not a skip.
func TestQEMUArm64(t *testing.T) {
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		if os.Getenv("EDGE_DROP_REQUIRE_QEMU") != "" {
			t.Fatal("qemu-aarch64-static not found but EDGE_DROP_REQUIRE_QEMU is set (apt-get install qemu-user-static)")
		}
		t.Skip("qemu-aarch64-static not found (apt-get install qemu-user-static); set EDGE_DROP_REQUIRE_QEMU=1 to make this a failure")
	}
	bin := buildBinary(t, "arm64", "qemu", true)
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linux/arm64 binary: %d bytes", fi.Size())
	if fi.Size() > 12<<20 {
		t.Errorf("arm64 binary is %d bytes, over the 12 MiB budget", fi.Size())
	}

	srv := s3test.Start(t)
	data := testData(5<<20 + 3)
	srv.Put(t, "edge", "arm/photo 1.jpg", data, nil)
	dir := t.TempDir()
	cmd := exec.Command(qemu, bin, "-part-size", "1MiB", "-concurrency", "4")
	cmd.Env = binEnv(t, srv, "EDGE_DROP_BUCKET=edge", "EDGE_DROP_KEY=arm%2Fphoto+1.jpg", "EDGE_DROP_DATA_DIR="+dir)
	r := runBin(t, cmd)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "arm/photo 1.jpg"))
	if err != nil || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("content mismatch (%v)", err)
	}
	s := summary(t, r.stdout, "download complete")
	if s["version"] != "qemu" || s["bytes"] != float64(len(data)) {
		t.Errorf("summary: %v", s)
	}

	// The arm64 checksum code paths (CRC64NVME folding, CRC32C, composite
	// per part): every kind must verify, not just download.
	nvme := crc64.Checksum(data, crc64.MakeTable(0x9a6c9329ac4bc9b5))
	srv.Put(t, "edge", "arm/nvme.bin", data, map[string]string{
		"x-amz-checksum-crc64nvme": base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, nvme)),
		"x-amz-checksum-type":      "FULL_OBJECT",
	})
	srv.Put(t, "edge", "arm/composite.bin", data, nil)
	srv.Fixups.SetParts("edge", "arm/composite.bin", data, []int64{2 << 20, 2 << 20, 1<<20 + 3}, "CRC32C")
	for key, check := range map[string]string{"arm/nvme.bin": "crc64nvme", "arm/composite.bin": "crc32c-composite"} {
		cmd := exec.Command(qemu, bin, "-part-size", "1MiB", "-concurrency", "4")
		cmd.Env = binEnv(t, srv, "EDGE_DROP_BUCKET=edge", "EDGE_DROP_KEY="+key, "EDGE_DROP_DATA_DIR="+dir)
		r := runBin(t, cmd)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", key, r.code, r.stdout, r.stderr)
		}
		if s := summary(t, r.stdout, "download complete"); s["verified"] != check {
			t.Errorf("%s: verified %v, want %s", key, s["verified"], check)
		}
	}

	// And a clean failure path on arm64: unsafe key → 3.
	cmd = exec.Command(qemu, bin, "-bucket", "edge", "-key", "../x", "-dir", dir)
	cmd.Env = binEnv(t, srv)
	if r := runBin(t, cmd); r.code != 3 {
		t.Fatalf("unsafe key under qemu: exit %d, %s", r.code, r.stderr)
	}
}
