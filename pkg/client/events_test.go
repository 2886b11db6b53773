package client_test

import (
	"errors"
	"testing"

	"github.com/luma-db/luma/pkg/client"
)

func TestPublish(t *testing.T) {
	_, c := start(t)
	ctx := ctxT(t)
	s := must[*client.Subscription](t)(c.Subscribe(ctx, client.StreamOptions{KeyPrefix: "agent:"}))
	defer s.Close()
	res, err := c.Events.Publish(ctx, client.PublishRequest{Type: "agent.done", Key: "agent:1", Payload: map[string]bool{"ok": true}})
	skipNoRoute(t, err)
	if err != nil {
		t.Fatal(err)
	}
	if res.Offset == 0 || res.TsMs == 0 {
		t.Fatalf("publish = %+v", res)
	}
	ev := next(t, s)
	var data struct {
		Payload struct{ OK bool } `json:"payload"`
	}
	if err := ev.Decode(&data); err != nil || ev.Type != "agent.done" || ev.Offset != res.Offset || !data.Payload.OK {
		t.Fatalf("event = %+v (%v)", ev, err)
	}
	for _, bad := range []string{"state_updated", "gap", "has space"} {
		if _, err := c.Events.Publish(ctx, client.PublishRequest{Type: bad}); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("type %q: %v", bad, err)
		}
	}
}
