package endpoint

import (
	"net"
	"strings"
	"testing"
)

// A taken port: the default falls back to a free one and says so; an
// address the user chose fails with one line. (The taken port is one this
// test opened on port 0: tests never bind the demo's fixed ports.)
func TestATakenPortFallsBackOnlyForTheDefault(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()

	ln, notes, err := Listen("S3", addr, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ln.Addr().String() == addr || !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		t.Errorf("listens on %s", ln.Addr())
	}
	if len(notes) != 1 || notes[0] != "S3: "+addr+" is in use (another demo?), so it listens on "+ln.Addr().String()+" instead" {
		t.Errorf("notes %q", notes)
	}

	if _, _, err := Listen("S3", addr, false); err == nil || err.Error() != "S3: "+addr+" is in use (another demo?): choose another port (port 0: any free port)" {
		t.Errorf("a chosen address in use: %v", err)
	}
	if _, _, err := Listen("S3", "nonsense", false); err == nil || !strings.Contains(err.Error(), "want host:port") {
		t.Errorf("a bad address: %v", err)
	}
}

func TestOnlyLoopbackIsQuiet(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		ln, notes, err := Listen("S3", addr, false)
		if err != nil {
			t.Logf("%s: %v (no such interface here)", addr, err)
			continue
		}
		ln.Close()
		if len(notes) != 0 {
			t.Errorf("%s: notes %q", addr, notes)
		}
	}
	ln, notes, err := Listen("Step Functions", "0.0.0.0:0", false)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "warning: Step Functions listens on 0.0.0.0:") || strings.Contains(notes[0], "\n") {
		t.Errorf("every interface: %q", notes)
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "127.1.2.3": true, "::1": true, "localhost": true, "": false, "0.0.0.0": false, "::": false, "192.168.1.5": false, "example.com": false} {
		if Loopback(host) != want {
			t.Errorf("Loopback(%q) = %v", host, !want)
		}
	}
}

func TestURLReachesEveryInterfaceThroughLoopback(t *testing.T) {
	for addr, prefix := range map[string]string{"127.0.0.1:0": "http://127.0.0.1:", "0.0.0.0:0": "http://127.0.0.1:", ":0": "http://127.0.0.1:"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if u := URL(ln); !strings.HasPrefix(u, prefix) || strings.HasSuffix(u, ":0") {
			t.Errorf("%s: %s", addr, u)
		}
		ln.Close()
	}
}
