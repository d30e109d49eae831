package app

import (
	"container/list"
	"context"
	"fmt"
	"sync"
)

// ThumbFetcher fetches a poster by its path on a server; *plex.Client
// implements it (Thumb).
type ThumbFetcher interface {
	Thumb(ctx context.Context, path string) ([]byte, error)
}

// DefaultThumbCacheBytes is how much poster data a ThumbCache keeps.
const DefaultThumbCacheBytes = 16 << 20

// ThumbCache keeps recently used posters in memory, least recently used
// first out once they take more than its budget. It never writes to disk.
// It is safe for concurrent use.
type ThumbCache struct {
	fetch func(ctx context.Context, server, path string) ([]byte, error)
	max   int

	mu    sync.Mutex
	size  int
	order *list.List               // front: most recently used; values *thumbEntry
	items map[string]*list.Element // by server + "\x00" + path
}

type thumbEntry struct {
	key  string
	data []byte
}

// NewThumbCache returns a cache of at most maxBytes of poster data that
// fetches what it lacks with fetch.
func NewThumbCache(maxBytes int, fetch func(ctx context.Context, server, path string) ([]byte, error)) *ThumbCache {
	return &ThumbCache{fetch: fetch, max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns the poster at path on server, from memory or fetched. A
// failed fetch is not remembered. The bytes returned must not be modified.
func (c *ThumbCache) Get(ctx context.Context, server, path string) ([]byte, error) {
	key := server + "\x00" + path
	c.mu.Lock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		data := e.Value.(*thumbEntry).data
		c.mu.Unlock()
		return data, nil
	}
	c.mu.Unlock()
	data, err := c.fetch(ctx, server, path)
	if err != nil {
		return nil, err
	}
	c.put(key, data)
	return data, nil
}

// put stores data under key (a poster larger than the whole budget is
// returned to its caller but not kept) and drops the least recently used
// entries over the budget.
func (c *ThumbCache) put(key string, data []byte) {
	if len(data) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok { // fetched twice at once
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&thumbEntry{key: key, data: data})
	c.size += len(data)
	for c.size > c.max {
		last := c.order.Back()
		ent := last.Value.(*thumbEntry)
		c.order.Remove(last)
		delete(c.items, ent.key)
		c.size -= len(ent.data)
	}
}

// Len returns the number of posters kept and their total size.
func (c *ThumbCache) Len() (n, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.size
}

// Thumb fetches a poster from server through its client (ThumbFetcher).
func (h *Hub) Thumb(ctx context.Context, server, path string) ([]byte, error) {
	t, err := h.terminator(server)
	if err != nil {
		return nil, err
	}
	f, ok := t.(ThumbFetcher)
	if !ok {
		return nil, fmt.Errorf("server %q cannot fetch artwork", server)
	}
	return f.Thumb(ctx, path)
}
