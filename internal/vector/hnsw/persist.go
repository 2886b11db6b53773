package hnsw

// Checkpoint format (all integers little-endian):
//
//	header, 64 bytes
//	   0  magic "LUMAHNSW"
//	   8  u32 version (1)
//	  12  u32 metric
//	  16  u32 dim
//	  20  u32 M
//	  24  u32 efConstruction
//	  28  u32 rows: highest present id + 1 (0 when empty)
//	  32  u32 count: present nodes
//	  36  u32 entry id
//	  40  u32 entry level, 0xFFFFFFFF when empty
//	  44  u64 seed
//	  52  u64 upper words: total u32 words of the upper-level section
//	  60  u32 CRC-32C of bytes 0..59
//	body, rows in blocks of 64 (the last one shorter), each block:
//	  rows × u8          node state: 0 absent, else top level + 1
//	  rows × dim × f32   vectors (zero for absent rows)
//	  rows × (1+2M) u32  level-0 links [count, ids...]
//	upper-level section: for each node with top level L > 0, in id order,
//	  L × (1+M) u32      levels 1..L, each [count, ids...]
//	trailer
//	  u32 CRC-32C of the body
//
// Read checks the header CRC before trusting any size, allocates arena
// pages only as their bytes arrive (a truncated file fails before a large
// allocation), checks the body CRC, and then validates the graph (counts,
// ids, levels, entry point), so that a damaged file is an error wrapping
// ErrCorrupt, never a panic or a silently wrong index.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync/atomic"
)

const (
	formatVersion = 1
	headerSize    = 64
	blockRows     = 64 // rows per body block; divides every page size
	noEntry       = math.MaxUint32
)

var (
	magic      = [8]byte{'L', 'U', 'M', 'A', 'H', 'N', 'S', 'W'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// WriteTo writes a checkpoint of the index to w and returns the bytes
// written. It waits for in-flight Adds and blocks new ones while it runs;
// searches go on.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	ix.snapMu.Lock()
	defer ix.snapMu.Unlock()
	pgs := *ix.pages.Load()
	rowsPerPage := 1 << ix.pageShift

	rows, count := 0, 0
	var upperWords uint64
	for pi, p := range pgs {
		for r, st := range p.state {
			if st >= stateLevel0 {
				rows = pi*rowsPerPage + r + 1
				count++
				upperWords += uint64(st-stateLevel0) * uint64(ix.strideU)
			}
		}
	}

	var hdr [headerSize]byte
	copy(hdr[:8], magic[:])
	le := binary.LittleEndian
	le.PutUint32(hdr[8:], formatVersion)
	le.PutUint32(hdr[12:], uint32(ix.metric))
	le.PutUint32(hdr[16:], uint32(ix.dim))
	le.PutUint32(hdr[20:], uint32(ix.m))
	le.PutUint32(hdr[24:], uint32(ix.efc))
	le.PutUint32(hdr[28:], uint32(rows))
	le.PutUint32(hdr[32:], uint32(count))
	epID, epLevel, ok := ix.loadEntry()
	if !ok {
		epID, epLevel = noEntry, -1
	}
	le.PutUint32(hdr[36:], epID)
	le.PutUint32(hdr[40:], uint32(int32(epLevel)))
	le.PutUint64(hdr[44:], ix.seed)
	le.PutUint64(hdr[52:], upperWords)
	le.PutUint32(hdr[60:], crc32.Checksum(hdr[:60], castagnoli))

	cw := &crcWriter{w: w}
	if _, err := w.Write(hdr[:]); err != nil {
		return headerSize, err
	}
	buf := make([]byte, 0, blockRows*(1+4*ix.dim+4*ix.stride0))
	for start := 0; start < rows; start += blockRows {
		n := min(blockRows, rows-start)
		p := pgs[start>>ix.pageShift]
		r0 := start & int(ix.pageMask)
		buf = buf[:0]
		for r := r0; r < r0+n; r++ {
			var b byte
			if st := p.state[r]; st >= stateLevel0 {
				b = byte(st-stateLevel0) + 1
			}
			buf = append(buf, b)
		}
		for _, x := range p.vecs[r0*ix.dim : (r0+n)*ix.dim] {
			buf = le.AppendUint32(buf, math.Float32bits(x))
		}
		for _, x := range p.links0[r0*ix.stride0 : (r0+n)*ix.stride0] {
			buf = le.AppendUint32(buf, x)
		}
		if _, err := cw.Write(buf); err != nil {
			return headerSize + cw.n, err
		}
	}
	buf = buf[:0]
	for id := 0; id < rows; id++ {
		p := pgs[id>>ix.pageShift]
		r := id & int(ix.pageMask)
		if p.state[r] <= stateLevel0 {
			continue
		}
		for _, x := range p.upper[r] {
			buf = le.AppendUint32(buf, x)
		}
		if len(buf) >= 1<<16 {
			if _, err := cw.Write(buf); err != nil {
				return headerSize + cw.n, err
			}
			buf = buf[:0]
		}
	}
	if _, err := cw.Write(buf); err != nil {
		return headerSize + cw.n, err
	}
	var tr [4]byte
	le.PutUint32(tr[:], cw.crc)
	if _, err := w.Write(tr[:]); err != nil {
		return headerSize + cw.n, err
	}
	return headerSize + cw.n + 4, nil
}

// crcWriter counts and checksums what it forwards.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.crc = crc32.Update(c.crc, castagnoli, b[:n])
	c.n += int64(n)
	return n, err
}

// crcReader checksums what it reads and turns a short read into ErrCorrupt.
type crcReader struct {
	r   io.Reader
	crc uint32
}

func (c *crcReader) full(b []byte) error {
	if _, err := io.ReadFull(c.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: truncated", ErrCorrupt)
		}
		return err
	}
	c.crc = crc32.Update(c.crc, castagnoli, b)
	return nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// Read loads an index written by WriteTo. A damaged or truncated stream
// gives an error wrapping ErrCorrupt; I/O errors are returned as they are.
func Read(r io.Reader) (*Index, error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, corruptf("truncated header")
		}
		return nil, err
	}
	le := binary.LittleEndian
	if !bytes.Equal(hdr[:8], magic[:]) {
		return nil, corruptf("bad magic")
	}
	if got, want := crc32.Checksum(hdr[:60], castagnoli), le.Uint32(hdr[60:]); got != want {
		return nil, corruptf("header checksum %08x, want %08x", got, want)
	}
	if v := le.Uint32(hdr[8:]); v != formatVersion {
		return nil, corruptf("unsupported version %d", v)
	}
	cfg, err := Config{
		Metric:         Metric(le.Uint32(hdr[12:])),
		Dim:            int(le.Uint32(hdr[16:])),
		M:              int(le.Uint32(hdr[20:])),
		EfConstruction: int(le.Uint32(hdr[24:])),
		Seed:           int64(le.Uint64(hdr[44:])),
	}.withDefaults()
	if err != nil || le.Uint32(hdr[20:]) == 0 || le.Uint32(hdr[24:]) == 0 {
		return nil, corruptf("bad parameters: %v", err)
	}
	rows := int(le.Uint32(hdr[28:]))
	count := int(le.Uint32(hdr[32:]))
	epID := le.Uint32(hdr[36:])
	epLevel := int32(le.Uint32(hdr[40:]))
	upperWords := le.Uint64(hdr[52:])
	if rows > MaxID+1 || count > rows || epLevel < -1 || epLevel > maxLevel ||
		(count == 0) != (epLevel == -1) ||
		upperWords > uint64(count)*maxLevel*uint64(1+cfg.M) {
		return nil, corruptf("bad sizes")
	}

	ix := newIndex(cfg, rows)
	cr := &crcReader{r: r}
	rowsPerPage := 1 << ix.pageShift
	pgs := make([]*page, 0, (rows+rowsPerPage-1)/rowsPerPage)
	buf := make([]byte, blockRows*(1+4*ix.dim+4*ix.stride0))
	present := 0
	for start := 0; start < rows; start += blockRows {
		n := min(blockRows, rows-start)
		if start>>ix.pageShift >= len(pgs) {
			pgs = append(pgs, ix.newPage())
		}
		p := pgs[start>>ix.pageShift]
		r0 := start & int(ix.pageMask)
		b := buf[:n*(1+4*ix.dim+4*ix.stride0)]
		if err := cr.full(b); err != nil {
			return nil, err
		}
		for r := 0; r < n; r++ {
			if st := b[r]; st != 0 {
				if st > maxLevel+1 {
					return nil, corruptf("node %d: level %d", start+r, st-1)
				}
				p.state[r0+r] = stateLevel0 + uint32(st-1)
				present++
			}
		}
		b = b[n:]
		vecs := p.vecs[r0*ix.dim : (r0+n)*ix.dim]
		for i := range vecs {
			vecs[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		b = b[4*len(vecs):]
		links := p.links0[r0*ix.stride0 : (r0+n)*ix.stride0]
		for i := range links {
			links[i] = le.Uint32(b[4*i:])
		}
	}
	if present != count {
		return nil, corruptf("%d nodes present, header says %d", present, count)
	}

	// Upper levels: one allocation for all nodes, sliced per node.
	upper := make([]uint32, 0, min(upperWords, 1<<20))
	chunk := make([]byte, 1<<16)
	for rest := upperWords * 4; rest > 0; {
		b := chunk[:min(rest, uint64(len(chunk)))]
		if err := cr.full(b); err != nil {
			return nil, err
		}
		for i := 0; i < len(b); i += 4 {
			upper = append(upper, le.Uint32(b[i:]))
		}
		rest -= uint64(len(b))
	}
	var tr [4]byte
	if _, err := io.ReadFull(r, tr[:]); err != nil {
		return nil, corruptf("truncated trailer")
	}
	if want := le.Uint32(tr[:]); cr.crc != want {
		return nil, corruptf("body checksum %08x, want %08x", cr.crc, want)
	}
	off := 0
	for id := 0; id < rows; id++ {
		p := pgs[id>>ix.pageShift]
		r := id & int(ix.pageMask)
		if st := p.state[r]; st > stateLevel0 {
			n := int(st-stateLevel0) * ix.strideU
			if off+n > len(upper) {
				return nil, corruptf("upper-level section too short")
			}
			p.upper[r] = upper[off : off+n : off+n]
			off += n
		}
	}
	if off != len(upper) {
		return nil, corruptf("upper-level section too long")
	}
	ix.pages.Store(&pgs)
	if err := ix.validate(rows, epID, int(epLevel)); err != nil {
		return nil, err
	}
	if count > 0 {
		ix.entry.Store(packEntry(epID, int(epLevel)))
	}
	ix.count.Store(int64(count))
	return ix, nil
}

// validate checks the loaded graph: link counts within bounds, links only to
// present nodes other than the owner that have the level, and an entry point
// at the top level.
func (ix *Index) validate(rows int, epID uint32, epLevel int) error {
	pgs := *ix.pages.Load()
	levelOf := func(id uint32) int {
		if int(id) >= rows {
			return -1
		}
		return int(atomic.LoadUint32(&pgs[id>>ix.pageShift].state[id&ix.pageMask])) - stateLevel0
	}
	check := func(owner uint32, block []uint32, level, maxN int) error {
		n := int(block[0])
		if n > maxN {
			return corruptf("node %d level %d: %d links", owner, level, n)
		}
		for _, x := range block[1 : 1+n] {
			if x == owner || levelOf(x) < level {
				return corruptf("node %d level %d: bad link %d", owner, level, x)
			}
		}
		return nil
	}
	top := -1
	for id := 0; id < rows; id++ {
		u := uint32(id)
		p := pgs[id>>ix.pageShift]
		r := id & int(ix.pageMask)
		block0 := p.links0[r*ix.stride0 : (r+1)*ix.stride0]
		l := levelOf(u)
		if l < 0 {
			if block0[0] != 0 {
				return corruptf("absent node %d has links", id)
			}
			continue
		}
		top = max(top, l)
		if err := check(u, block0, 0, ix.m0); err != nil {
			return err
		}
		for lv := 1; lv <= l; lv++ {
			off := (lv - 1) * ix.strideU
			if err := check(u, p.upper[r][off:off+ix.strideU], lv, ix.m); err != nil {
				return err
			}
		}
	}
	if top != epLevel || (top >= 0 && levelOf(epID) != epLevel) {
		return corruptf("entry point %d at level %d, top level %d", epID, epLevel, top)
	}
	return nil
}
