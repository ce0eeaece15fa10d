package endpoints

import (
	"errors"
	"os"
	"reflect"
	"testing"
)

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no file: %v", err)
	}
	want := Endpoints{S3: "http://127.0.0.1:1", StepFunctions: "http://127.0.0.1:2", ECS: "http://127.0.0.1:3",
		Region: "eu-west-1", AccessKeyID: "k", SecretAccessKey: "s", Outputs: map[string]string{"BucketName": "b"}, PID: 7}
	if err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read %+v, %v", got, err)
	}
	fi, err := os.Stat(Path(dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v): the file holds credentials", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	os.WriteFile(Path(dir), []byte("{"), 0o600)
	if _, err := Read(dir); err == nil {
		t.Error("read a broken file")
	}
}
