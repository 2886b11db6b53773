package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/luma-db/luma/pkg/client"
)

// The examples compile as documentation; they need a running server.

func Example() {
	ctx := context.Background()
	c, err := client.New("http://127.0.0.1:9917")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.State.Put(ctx, "user:42", map[string]any{"name": "Ada"}, &client.PutOptions{TTL: time.Hour}); err != nil {
		log.Fatal(err)
	}
	it, err := c.State.Get(ctx, "user:42")
	if errors.Is(err, client.ErrNotFound) {
		fmt.Println("gone")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(it.Revision, string(it.Value))
}

func ExampleClient_Subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New("http://127.0.0.1:9917")
	if err != nil {
		log.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, client.StreamOptions{Since: 0, KeyPrefix: "chat:"})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for ev := range sub.Events() {
		if ev.IsGap() {
			log.Printf("missed offsets %d..%d", ev.Gap.From, ev.Gap.To)
			continue
		}
		fmt.Println(ev.Offset, ev.Type, ev.Key)
	}
	log.Println("subscription ended:", sub.Err())
}

func ExampleVectorService_UpsertBatch() {
	ctx := context.Background()
	c, err := client.New("http://127.0.0.1:9917", client.WithBinaryVectors())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Vector.Create(ctx, "docs", client.CreateCollection{Dim: 3}); err != nil && !errors.Is(err, client.ErrAlreadyExists) {
		log.Fatal(err)
	}
	items := []client.Item{
		{ID: "a", Vector: []float32{1, 0, 0}, Meta: map[string]any{"doc": "handbook"}},
		{ID: "b", Vector: []float32{0, 1, 0}, Meta: map[string]any{"doc": "almanac"}},
	}
	res, err := c.Vector.UpsertBatch(ctx, "docs", items, &client.BatchOptions{
		Progress: func(done, total int) { log.Printf("%d/%d", done, total) },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := res.Err(); err != nil {
		log.Fatal(err)
	}
	hits, err := c.Vector.Search(ctx, "docs", client.SearchRequest{Vector: []float32{1, 0, 0}, K: 1, IncludeMeta: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hits[0].ID, hits[0].Score)
}
