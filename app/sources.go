package app

import (
	"context"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// MetadataSource reads a library item with every version of its file
// (GET /library/metadata/<ratingKey>); *plex.Client implements it.
type MetadataSource interface {
	Metadata(ctx context.Context, ratingKey string) (*plex.Metadata, error)
}

// Sources finds the source of transcoding sessions. While Plex transcodes,
// a session's Media describe the output (docs/plex-api.md §4.2): the
// source's resolution, codecs and bitrate are only in the library's answer,
// which Sources asks once per item and keeps (successes for SourceTTL,
// failures for a minute). Safe for concurrent use.
type Sources struct {
	src MetadataSource
	now func() time.Time

	mu    sync.Mutex
	items map[string]sourceEntry
}

type sourceEntry struct {
	item *plex.Metadata // nil: the last ask failed
	at   time.Time
}

// Tunables of Sources.
const (
	// SourceTTL is how long a library answer is kept: a file replaced by
	// an upgrade is seen within this time.
	SourceTTL = 30 * time.Minute
	// sourceRetry is how long a failed ask is not repeated.
	sourceRetry = time.Minute
	// maxSources bounds the cache; past it, expired entries go, then all.
	maxSources = 20000
	// sourceParallel bounds asks in flight for one fetch.
	sourceParallel = 8
	// SourceWait bounds how long a session list waits for its sources;
	// those not known by then are judged from the list (TranscodeSession
	// and displayTitle) and corrected by the next fetch.
	SourceWait = 2 * time.Second
)

// NewSources returns a cache reading from src; nil src gives nil (no
// enrichment).
func NewSources(src MetadataSource, now func() time.Time) *Sources {
	if src == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Sources{src: src, now: now, items: map[string]sourceEntry{}}
}

// needsSource reports whether a session item's Media may describe
// something other than its file: the transcoder is involved.
func needsSource(m *plex.Metadata) bool {
	return m.TranscodeSession != nil && plex.LibraryRatingKey(string(m.RatingKey))
}

// For returns, for each item of a session list, the version of its file it
// plays (nil where unknown or not needed; a nil slice when no item needs
// one). It asks the library for the items not known yet, in parallel,
// waiting at most SourceWait.
func (s *Sources) For(ctx context.Context, items []plex.Metadata) []*plex.Media {
	out, missing := s.Known(items)
	if len(missing) == 0 {
		return out
	}
	s.Read(ctx, missing)
	s.Fill(items, out)
	return out
}

// Known is For without asking the library: the sources known now, and the
// ratingKeys to ask for (each once) before Fill can complete out.
func (s *Sources) Known(items []plex.Metadata) (out []*plex.Media, missing []string) {
	if s == nil {
		return nil, nil
	}
	now := s.now()
	seen := map[string]bool{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range items {
		m := &items[i]
		if !needsSource(m) {
			continue
		}
		if out == nil {
			out = make([]*plex.Media, len(items)) // made when the first item needs a source
		}
		rk := string(m.RatingKey)
		e, ok := s.items[rk]
		switch {
		case ok && e.item != nil && now.Sub(e.at) < SourceTTL:
			out[i] = plex.SourceMedia(m, e.item)
		case ok && e.item == nil && now.Sub(e.at) < sourceRetry:
		case !seen[rk]:
			seen[rk] = true
			missing = append(missing, rk)
		}
	}
	return out, missing
}

// Read asks the library for the items of ratingKeys, in parallel, waiting
// at most SourceWait, and keeps the answers (a failure for a minute; one
// out of time is asked again next time).
func (s *Sources) Read(ctx context.Context, ratingKeys []string) {
	if s == nil || len(ratingKeys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, SourceWait)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, sourceParallel)
	for _, rk := range ratingKeys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			item, err := s.src.Metadata(ctx, rk)
			if ctx.Err() != nil {
				return // out of time: ask again next fetch
			}
			if err != nil {
				item = nil
			}
			s.store(rk, item)
		}()
	}
	wg.Wait()
}

// Fill completes out (from Known) with the sources read since.
func (s *Sources) Fill(items []plex.Metadata, out []*plex.Media) {
	if s == nil || out == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range items {
		if out[i] == nil && needsSource(&items[i]) {
			if e, ok := s.items[string(items[i].RatingKey)]; ok && e.item != nil {
				out[i] = plex.SourceMedia(&items[i], e.item)
			}
		}
	}
}

func (s *Sources) store(rk string, item *plex.Metadata) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.items) >= maxSources {
		for k, e := range s.items {
			if now.Sub(e.at) >= SourceTTL || e.item == nil {
				delete(s.items, k)
			}
		}
		if len(s.items) >= maxSources {
			clear(s.items)
		}
	}
	s.items[rk] = sourceEntry{item: item, at: now}
}

// Len returns how many items are cached (tests).
func (s *Sources) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}
