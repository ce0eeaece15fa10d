package contract

import "testing"

func TestDeliveryTargets(t *testing.T) {
	all := Delivery{DeliverTo: "all", KeyPattern: "demo*.txt"}
	group := Delivery{DeliverTo: "group:site1", KeyPattern: "demo*.txt"}
	anyNoSync := Delivery{DeliverTo: "any", KeyPattern: "demo*.txt"}
	anySync := Delivery{DeliverTo: "any", KeyPattern: "demo*.txt", Sync: true, SyncEvery: "6h0m0s"}
	routed := Delivery{RoutePrefix: "to/", KeyPattern: "to/*"}
	for _, c := range []struct {
		d             Delivery
		key, board    string
		groups        []string
		delivered, to bool
	}{
		{all, "demo1.txt", "a", nil, true, true},
		{all, "notes/readme.md", "a", nil, false, true},
		{all, "demo 1.txt", "a", nil, true, true}, // "demo+1.txt" matches demo*.txt
		{group, "demo1.txt", "a", nil, true, false},
		{group, "demo1.txt", "b", []string{"site1"}, true, true},
		{anyNoSync, "demo1.txt", "a", nil, true, false},
		{anySync, "demo1.txt", "a", nil, true, true},
		{routed, "to/a/x.txt", "a", nil, true, true},
		{routed, "to/a/x.txt", "b", nil, true, false},
		{routed, "to/site1/x.txt", "b", []string{"site1"}, true, true},
		{routed, "to/a", "a", nil, false, false},
		{routed, "to/a%/x", "a", nil, false, false},
	} {
		if got := c.d.Delivered(c.key); got != c.delivered {
			t.Errorf("%s: Delivered(%q) = %v, want %v", c.d.JSON(), c.key, got, c.delivered)
		}
		if got := c.d.Targets(c.key, c.board, c.groups); got != c.to {
			t.Errorf("%s: Targets(%q, %q, %v) = %v, want %v", c.d.JSON(), c.key, c.board, c.groups, got, c.to)
		}
	}
}

func TestParseDelivery(t *testing.T) {
	d, err := ParseDelivery(Delivery{DeliverTo: "all", KeyPattern: "x*", SyncEvery: "30s", Sync: true}.JSON())
	if err != nil || d.Every().Seconds() != 30 {
		t.Fatalf("round trip: %+v, %v", d, err)
	}
	for _, bad := range []string{"", "{}", `{"deliverTo":"all","syncEvery":"often"}`, "[1]"} {
		if _, err := ParseDelivery(bad); err == nil {
			t.Errorf("ParseDelivery(%q) accepted it", bad)
		}
	}
}
