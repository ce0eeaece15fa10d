package config

import (
	"testing"

	"github.com/edge-drop/edge-drop/contract"
)

// The stack output the CLI reads round-trips and says what the config says.
func TestDeliveryOutput(t *testing.T) {
	c := Default()
	d, err := contract.ParseDelivery(c.Delivery().JSON())
	if err != nil {
		t.Fatal(err)
	}
	if d.DeliverTo != "any" || d.KeyPattern != "demo*.txt" || d.ListPrefix != "demo" || !d.Sync || d.Every() != DefaultSyncEvery {
		t.Errorf("default config: %+v", d)
	}
	c.RoutePrefix, c.KeyPattern, c.SyncEvery, c.MirrorDeletes = "to/", "to/*", 0, false
	d = c.Delivery()
	if d.DeliverTo != "" || d.RoutePrefix != "to/" || d.Sync || d.SyncEvery != "" || d.ListPrefix != "to/" {
		t.Errorf("routed, no sync: %+v", d)
	}
}
