// Package corpus is the grouped-search corpus behind POST /search and POST
// /search/ingest (CONTRACT.md §4.7): an append-only list of documents
// (id, vector, content, metadata), separate from the vector collections,
// searched by brute-force cosine with equality filters, a version policy
// and grouping. It emits no events.
//
// Documents are stored under storage.PrefixSearchDoc as
//
//	'g' + 8-byte big-endian sequence → version(1) | u32 id | uvarint dim |
//	    dim × f32 little-endian | uvarint len | content | metadata JSON
//
// written through the committer, and kept in memory (append-only slice) for
// searching; the sequence is the ingestion order, which breaks ties.
package corpus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/luma-db/luma/internal/storage"
)

// MockDim is the dimension of the mock embedding of a non-TEST_VEC query.
const MockDim = 384

// MaxQueryLen is the longest query accepted (bytes).
const MaxQueryLen = 1024

// Errors.
var (
	ErrQueryTooLong   = errors.New("corpus: query too long")
	ErrTopKInvalid    = errors.New("corpus: top_k invalid")
	ErrContentTooLong = errors.New("corpus: document content too large")
	ErrCorrupt        = errors.New("corpus: corrupt document record")
)

// Meta is a document's metadata; nil fields are absent.
type Meta struct {
	Filename    *string `json:"filename,omitempty"`
	ProcessedAt *uint64 `json:"processed_at,omitempty"`
	Category    *string `json:"category,omitempty"`
	Language    *string `json:"language,omitempty"`
	Status      *string `json:"status,omitempty"`
	Version     *string `json:"version,omitempty"`
	GroupID     *uint32 `json:"group_id,omitempty"`
	DocumentID  *string `json:"document_id,omitempty"`
}

// Document is one ingested document.
type Document struct {
	ID       uint32    `json:"id"`
	Vector   []float32 `json:"vector"`
	Content  string    `json:"content"`
	Metadata Meta      `json:"metadata"`
}

// LanguageFilter is a language or a list of languages (membership).
type LanguageFilter struct {
	One  *string
	Many []string
}

// UnmarshalJSON accepts a string or an array of strings.
func (l *LanguageFilter) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		l.One = &s
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("language must be a string or an array of strings")
	}
	l.Many = list
	if l.Many == nil {
		l.Many = []string{}
	}
	return nil
}

// Filters of a search; nil fields do not filter.
type Filters struct {
	Category      *string         `json:"category"`
	Language      *LanguageFilter `json:"language"`
	Status        *string         `json:"status"`
	VersionPolicy *string         `json:"version_policy"`
}

// SearchRequest is the body of POST /search.
type SearchRequest struct {
	Query      string   `json:"query"`
	TopK       *int     `json:"top_k"`
	Filters    *Filters `json:"filters"`
	GroupBy    *string  `json:"group_by"`
	GroupLimit *int     `json:"group_limit"`
}

// Result is one hit.
type Result struct {
	Score    float32
	Document *Document
}

// Store is the corpus.
type Store struct {
	db      *storage.DB
	maxBody int64
	maxK    int

	mu   sync.RWMutex // guards docs (append under write lock)
	docs []*Document
	seq  uint64 // next sequence; committer only after Open
}

// Open loads the corpus. maxBody bounds a document's content (bytes);
// maxK bounds top_k.
func Open(db *storage.DB, maxBody int64, maxK int) (*Store, error) {
	s := &Store{db: db, maxBody: maxBody, maxK: maxK}
	err := db.ScanPrefix([]byte{storage.PrefixSearchDoc}, func(k, v []byte) (bool, error) {
		if len(k) != 9 {
			return false, fmt.Errorf("%w: key %x", ErrCorrupt, k)
		}
		d, err := decode(v)
		if err != nil {
			return false, fmt.Errorf("document %d: %w", binary.BigEndian.Uint64(k[1:]), err)
		}
		s.docs = append(s.docs, d)
		s.seq = binary.BigEndian.Uint64(k[1:]) + 1
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("corpus: load: %w", err)
	}
	return s, nil
}

// Len returns the number of documents.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.docs)
}

func encode(d *Document) ([]byte, error) {
	meta, err := json.Marshal(d.Metadata)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+4+binary.MaxVarintLen64*2+4*len(d.Vector)+len(d.Content)+len(meta))
	b = append(b, 1)
	b = binary.BigEndian.AppendUint32(b, d.ID)
	b = binary.AppendUvarint(b, uint64(len(d.Vector)))
	for _, x := range d.Vector {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	b = binary.AppendUvarint(b, uint64(len(d.Content)))
	b = append(b, d.Content...)
	return append(b, meta...), nil
}

func decode(v []byte) (*Document, error) {
	if len(v) < 5 || v[0] != 1 {
		return nil, ErrCorrupt
	}
	d := &Document{ID: binary.BigEndian.Uint32(v[1:])}
	p := v[5:]
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)-w)/4 {
		return nil, ErrCorrupt
	}
	p = p[w:]
	d.Vector = make([]float32, n)
	for i := range d.Vector {
		d.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	p = p[4*n:]
	l, w := binary.Uvarint(p)
	if w <= 0 || l > uint64(len(p)-w) {
		return nil, ErrCorrupt
	}
	d.Content = string(p[w : w+int(l)])
	if err := json.Unmarshal(p[w+int(l):], &d.Metadata); err != nil {
		return nil, ErrCorrupt
	}
	return d, nil
}

// Ingest appends a document (duplicates allowed). Vectors are stored as
// sent; no event is emitted.
func (s *Store) Ingest(ctx context.Context, d Document) error {
	if int64(len(d.Content)) > s.maxBody {
		return ErrContentTooLong
	}
	doc := d
	rec, err := encode(&doc)
	if err != nil {
		return err
	}
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		key := make([]byte, 9)
		key[0] = storage.PrefixSearchDoc
		binary.BigEndian.PutUint64(key[1:], s.seq)
		s.seq++
		tx.Set(key, rec)
		tx.AfterCommit(func() {
			s.mu.Lock()
			s.docs = append(s.docs, &doc)
			s.mu.Unlock()
		})
		return nil
	})
	return err
}

// QueryVector turns a query into a vector: "TEST_VEC:f1,f2,..." parses the
// floats; any other text (or an unparsable TEST_VEC) gets a deterministic
// pseudo-random 384-dimension vector seeded by the CRC-32 of the query.
func QueryVector(q string) []float32 {
	if rest, ok := strings.CutPrefix(q, "TEST_VEC:"); ok {
		parts := strings.Split(rest, ",")
		v := make([]float32, 0, len(parts))
		good := true
		for _, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
			if err != nil {
				good = false
				break
			}
			v = append(v, float32(f))
		}
		if good && len(v) > 0 {
			return v
		}
	}
	// splitmix64 seeded by the CRC-32 (IEEE) of the query; values
	// uniform in [-1, 1).
	x := uint64(crc32.ChecksumIEEE([]byte(q)))
	v := make([]float32, MockDim)
	for i := range v {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		v[i] = float32(float64(z>>11)/(1<<53))*2 - 1
	}
	return v
}

// cosine is computed in float64 so that identical vectors score exactly 1.
func cosine(a, b []float32) float32 {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(dot / (math.Sqrt(na) * math.Sqrt(nb)))
}

// groupKey returns the group of d for field, or ok=false when d lacks it
// (or the field is not groupable): such a document is its own group.
func groupKey(d *Document, field string) (string, bool) {
	m := d.Metadata
	str := func(p *string) (string, bool) {
		if p == nil {
			return "", false
		}
		return "s" + *p, true
	}
	switch field {
	case "group_id":
		if m.GroupID == nil {
			return "", false
		}
		return "u" + strconv.FormatUint(uint64(*m.GroupID), 10), true
	case "document_id":
		return str(m.DocumentID)
	case "filename":
		return str(m.Filename)
	case "category":
		return str(m.Category)
	case "language":
		return str(m.Language)
	case "status":
		return str(m.Status)
	case "version":
		return str(m.Version)
	}
	return "", false
}

func (f *Filters) keep(d *Document) bool {
	if f == nil {
		return true
	}
	m := d.Metadata
	if f.Category != nil && (m.Category == nil || *m.Category != *f.Category) {
		return false
	}
	if f.Status != nil && (m.Status == nil || *m.Status != *f.Status) {
		return false
	}
	if l := f.Language; l != nil {
		if m.Language == nil {
			return false
		}
		if l.One != nil && *m.Language != *l.One {
			return false
		}
		if l.One == nil && !slices.Contains(l.Many, *m.Language) {
			return false
		}
	}
	return true
}

type scored struct {
	score float32
	seq   int
	doc   *Document
}

func (a scored) before(b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.seq < b.seq
}

// Search runs a grouped search: filters, then the version policy
// ("latest" keeps, per group_id, the document with the largest
// processed_at, the first ingested on ties; documents without group_id
// stay), then cosine scores (documents of another dimension are skipped),
// then top_k by score, or with group_by the group_limit best of each group,
// groups ordered by their best score, cut to top_k items. Ties go to the
// earlier ingested document. It returns the effective top_k.
func (s *Store) Search(req SearchRequest) ([]Result, int, error) {
	if len(req.Query) > MaxQueryLen {
		return nil, 0, ErrQueryTooLong
	}
	topK := 10
	if req.TopK != nil {
		topK = *req.TopK
	}
	if topK < 1 || topK > s.maxK {
		return nil, 0, ErrTopKInvalid
	}
	q := QueryVector(req.Query)
	s.mu.RLock()
	docs := s.docs[:len(s.docs):len(s.docs)]
	s.mu.RUnlock()

	latest := req.Filters != nil && req.Filters.VersionPolicy != nil && *req.Filters.VersionPolicy == "latest"
	var cands []scored
	best := map[uint32]int{} // group_id → index in cands (latest policy)
	for i, d := range docs {
		if !req.Filters.keep(d) {
			continue
		}
		c := scored{seq: i, doc: d}
		if latest && d.Metadata.GroupID != nil {
			g := *d.Metadata.GroupID
			if j, ok := best[g]; ok {
				if pa(d) > pa(cands[j].doc) {
					cands[j] = c
				}
				continue
			}
			best[g] = len(cands)
		}
		cands = append(cands, c)
	}
	out := cands[:0]
	for _, c := range cands {
		if len(c.doc.Vector) != len(q) {
			continue
		}
		c.score = cosine(q, c.doc.Vector)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b scored) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
	var picked []scored
	if req.GroupBy != nil {
		limit := 1
		if req.GroupLimit != nil && *req.GroupLimit > 0 {
			limit = *req.GroupLimit
		}
		type group struct{ items []scored }
		idx := map[string]*group{}
		var order []*group
		for _, c := range out {
			key, ok := groupKey(c.doc, *req.GroupBy)
			var g *group
			if ok {
				g = idx[key]
			}
			if g == nil {
				g = &group{}
				if ok {
					idx[key] = g
				}
				order = append(order, g)
			}
			if len(g.items) < limit {
				g.items = append(g.items, c)
			}
		}
		for _, g := range order {
			picked = append(picked, g.items...)
		}
	} else {
		picked = out
	}
	if len(picked) > topK {
		picked = picked[:topK]
	}
	res := make([]Result, len(picked))
	for i, c := range picked {
		res[i] = Result{Score: c.score, Document: c.doc}
	}
	return res, topK, nil
}

func pa(d *Document) uint64 {
	if d.Metadata.ProcessedAt == nil {
		return 0
	}
	return *d.Metadata.ProcessedAt
}
