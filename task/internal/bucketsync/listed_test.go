package bucketsync

import (
	"fmt"
	"testing"
)

func TestListedSet(t *testing.T) {
	l := newListedSet()
	for i := range 10000 {
		l.add(fmt.Sprintf("demo/%05d.txt", i))
	}
	l.seal()
	for i := range 10000 {
		if !l.has(fmt.Sprintf("demo/%05d.txt", i)) {
			t.Fatalf("listed key %d not found", i)
		}
		if l.has(fmt.Sprintf("demo/%05d.txt.gone", i)) {
			t.Fatalf("unlisted key %d found", i)
		}
	}
	if c := cap(l.hashes); c > 2*10000 {
		t.Errorf("%d slots for 10,000 keys", c)
	}
}
