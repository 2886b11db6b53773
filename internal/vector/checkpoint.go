package vector

// Checkpoint files. A checkpoint saves one segment's index so that a start
// does not rebuild it. The file covers the segment's locals [0, covered);
// the slots after it are replayed from the vector records at start.
// Checkpoints are derived data: a missing, stale or damaged file is
// rebuilt from the records, with a log line, never a failed start.
//
// File: <DataDir>/<collection>/seg-<uid>-<lo>-<random>.<hnsw|flat>
//
//	header, 64 bytes (little-endian)
//	   0  magic "LUMAVSEG"
//	   8  u32 version (1)
//	  12  u32 kind: 1 flat, 2 hnsw
//	  16  u32 lo: first internal id of the segment
//	  20  u32 covered: locals covered
//	  24  u32 mapped: number of internal ids listed below (0 = regular
//	      segment, local = iid − lo)
//	  28  u32 dim
//	  32  u32 metric (1 dot, 2 l2, as package hnsw)
//	  36  u32 reserved (0)
//	  40  u64 collection uid (offset of its creation event)
//	  48  u64 applied offset when written (informative)
//	  56  u32 reserved (0)
//	  60  u32 CRC-32C of bytes 0..59
//	mapped section (mapped > 0): mapped × u32 internal ids, u32 CRC-32C
//	index: the hnsw or flat WriteTo stream (its own header and checksums)
//
// The Pebble key 'c' 'V' <collection> 0x00 <lo> (ckptMeta, JSON) names the
// file; it is written through the committer after the file is durable
// (temp file, fsync, rename, directory fsync), so a crash leaves either the
// old checkpoint or the new one, and stray files are removed at start.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector/flat"
	"github.com/luma-db/luma/internal/vector/hnsw"
)

const (
	ckptVersion    = 1
	ckptHeaderSize = 64
	ckptKindFlat   = 1
	ckptKindHNSW   = 2
)

var (
	ckptMagic  = [8]byte{'L', 'U', 'M', 'A', 'V', 'S', 'E', 'G'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// errBadCheckpoint marks a checkpoint that cannot be used.
	errBadCheckpoint = errors.New("vector: unusable checkpoint")
)

// ckptMeta is the Pebble record naming a segment's checkpoint file.
type ckptMeta struct {
	File    string `json:"file"`
	Covered uint32 `json:"covered"`
	Mapped  uint32 `json:"mapped"`
	Kind    string `json:"kind"`
	Offset  uint64 `json:"offset"`
	Bytes   int64  `json:"bytes"`
}

type ckptHeader struct {
	kind    uint32
	lo      uint32
	covered uint32
	mapped  uint32
	dim     uint32
	metric  uint32
	uid     uint64
	offset  uint64
}

func (h ckptHeader) encode() []byte {
	b := make([]byte, ckptHeaderSize)
	le := binary.LittleEndian
	copy(b, ckptMagic[:])
	le.PutUint32(b[8:], ckptVersion)
	le.PutUint32(b[12:], h.kind)
	le.PutUint32(b[16:], h.lo)
	le.PutUint32(b[20:], h.covered)
	le.PutUint32(b[24:], h.mapped)
	le.PutUint32(b[28:], h.dim)
	le.PutUint32(b[32:], h.metric)
	le.PutUint64(b[40:], h.uid)
	le.PutUint64(b[48:], h.offset)
	le.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
	return b
}

func decodeCkptHeader(b []byte) (ckptHeader, error) {
	le := binary.LittleEndian
	var h ckptHeader
	if len(b) < ckptHeaderSize || string(b[:8]) != string(ckptMagic[:]) {
		return h, fmt.Errorf("%w: bad magic", errBadCheckpoint)
	}
	if crc32.Checksum(b[:60], castagnoli) != le.Uint32(b[60:]) {
		return h, fmt.Errorf("%w: header checksum mismatch", errBadCheckpoint)
	}
	if v := le.Uint32(b[8:]); v != ckptVersion {
		return h, fmt.Errorf("%w: version %d", errBadCheckpoint, v)
	}
	h = ckptHeader{
		kind: le.Uint32(b[12:]), lo: le.Uint32(b[16:]), covered: le.Uint32(b[20:]), mapped: le.Uint32(b[24:]),
		dim: le.Uint32(b[28:]), metric: le.Uint32(b[32:]), uid: le.Uint64(b[40:]), offset: le.Uint64(b[48:]),
	}
	return h, nil
}

func (c *Collection) ckptKind() uint32 {
	if c.cfg.Index == IndexHNSW {
		return ckptKindHNSW
	}
	return ckptKindFlat
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// filePrefix is the name prefix of every checkpoint file of this
// incarnation of the collection.
func (c *Collection) filePrefix() string { return fmt.Sprintf("seg-%d-", c.cfg.UID) }

// writeSegmentFile writes a checkpoint of sg covering locals [0, covered)
// durably under a new name and returns the name and size.
func (c *Collection) writeSegmentFile(sg *segment, covered uint32) (string, int64, error) {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", 0, err
	}
	ext := "flat"
	if c.cfg.Index == IndexHNSW {
		ext = "hnsw"
	}
	name := fmt.Sprintf("%s%d-%s.%s", c.filePrefix(), sg.lo, randomHex(), ext)
	final := filepath.Join(c.dir, name)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return "", 0, err
	}
	fail := func(err error) (string, int64, error) {
		f.Close()
		os.Remove(tmp)
		return "", 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	h := ckptHeader{
		kind: c.ckptKind(), lo: sg.lo, covered: covered, mapped: uint32(len(sg.iids)),
		dim: uint32(c.cfg.Dim), metric: uint32(c.cfg.Metric.hnsw()), uid: c.cfg.UID, offset: c.applied.Load(),
	}
	if _, err := w.Write(h.encode()); err != nil {
		return fail(err)
	}
	if len(sg.iids) > 0 {
		buf := make([]byte, 4*len(sg.iids)+4)
		for i, id := range sg.iids {
			binary.LittleEndian.PutUint32(buf[4*i:], id)
		}
		binary.LittleEndian.PutUint32(buf[4*len(sg.iids):], crc32.Checksum(buf[:4*len(sg.iids)], castagnoli))
		if _, err := w.Write(buf); err != nil {
			return fail(err)
		}
	}
	if sg.graph != nil {
		_, err = sg.graph.WriteTo(w)
	} else if a := sg.arena.Load(); a != nil {
		_, err = a.WriteTo(w)
	} else {
		err = errors.New("segment has no index")
	}
	if err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", 0, err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", 0, err
	}
	if d, err := os.Open(c.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return name, st.Size(), nil
}

// writeCheckpoint checkpoints sg (all published slots for flat segments,
// the graph's watermark for HNSW ones) and records it in Pebble. It is a
// no-op when the existing checkpoint already covers as much.
func (c *Collection) writeCheckpoint(sg *segment) error {
	if c.dir == "" {
		return nil
	}
	c.ckMu.Lock()
	defer c.ckMu.Unlock()
	if sg.retired.Load() || c.dropped.Load() {
		return nil
	}
	covered := sg.n.Load()
	if sg.graph != nil {
		covered = min(sg.indexed.Load(), covered)
	}
	if covered == 0 || (sg.ckFile != "" && covered <= sg.ckCovered) {
		return nil
	}
	name, size, err := c.writeSegmentFile(sg, covered)
	if err != nil {
		return err
	}
	meta := ckptMeta{File: name, Covered: covered, Mapped: uint32(len(sg.iids)), Kind: string(c.cfg.Index), Offset: c.applied.Load(), Bytes: size}
	raw, _ := json.Marshal(meta)
	_, err = c.st.db.Update(context.Background(), func(tx *storage.Tx) error {
		if err := c.txCheck(tx); err != nil {
			return err
		}
		tx.Set(ckptKey(c.cfg.Name, sg.lo), raw)
		return nil
	})
	if err != nil {
		os.Remove(filepath.Join(c.dir, name))
		return err
	}
	if sg.ckFile != "" && sg.ckFile != name {
		os.Remove(filepath.Join(c.dir, sg.ckFile))
	}
	sg.ckFile, sg.ckCovered, sg.ckBytes = name, covered, size
	c.st.met.ckptWritten.Inc()
	return nil
}

// loadedCkpt is a checkpoint read back from disk.
type loadedCkpt struct {
	hdr   ckptHeader
	iids  []uint32
	graph *hnsw.Index
	arena *flat.Index
	size  int64
}

// readCheckpoint reads and validates the file named by meta for the
// segment starting at lo.
func (c *Collection) readCheckpoint(meta ckptMeta, lo uint32) (*loadedCkpt, error) {
	if strings.ContainsAny(meta.File, `/\`) || !strings.HasPrefix(meta.File, c.filePrefix()) {
		return nil, fmt.Errorf("%w: file name %q is not this collection's", errBadCheckpoint, meta.File)
	}
	f, err := os.Open(filepath.Join(c.dir, meta.File))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	hb := make([]byte, ckptHeaderSize)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadCheckpoint, err)
	}
	h, err := decodeCkptHeader(hb)
	if err != nil {
		return nil, err
	}
	switch {
	case h.kind != c.ckptKind():
		return nil, fmt.Errorf("%w: index kind %d, collection uses %s", errBadCheckpoint, h.kind, c.cfg.Index)
	case h.lo != lo || h.uid != c.cfg.UID:
		return nil, fmt.Errorf("%w: written for another segment or collection", errBadCheckpoint)
	case h.covered != meta.Covered || h.mapped != meta.Mapped:
		return nil, fmt.Errorf("%w: header disagrees with its record", errBadCheckpoint)
	case int(h.dim) != c.cfg.Dim || h.metric != uint32(c.cfg.Metric.hnsw()):
		return nil, fmt.Errorf("%w: dim or metric differ from the collection", errBadCheckpoint)
	case h.mapped > 0 && h.covered != h.mapped:
		return nil, fmt.Errorf("%w: mapped segment not fully covered", errBadCheckpoint)
	case int(h.covered) > max(c.cfg.SegmentSize, int(h.mapped)) && h.mapped == 0:
		return nil, fmt.Errorf("%w: covers more than a segment", errBadCheckpoint)
	}
	out := &loadedCkpt{hdr: h, size: st.Size()}
	if h.mapped > 0 {
		if int64(h.mapped)*4 > st.Size() {
			return nil, fmt.Errorf("%w: truncated id map", errBadCheckpoint)
		}
		buf := make([]byte, 4*int(h.mapped)+4)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadCheckpoint, err)
		}
		n := 4 * int(h.mapped)
		if crc32.Checksum(buf[:n], castagnoli) != binary.LittleEndian.Uint32(buf[n:]) {
			return nil, fmt.Errorf("%w: id map checksum mismatch", errBadCheckpoint)
		}
		out.iids = make([]uint32, h.mapped)
		prev := int64(-1)
		for i := range out.iids {
			id := binary.LittleEndian.Uint32(buf[4*i:])
			if int64(id) <= prev || id < lo {
				return nil, fmt.Errorf("%w: id map not increasing", errBadCheckpoint)
			}
			prev = int64(id)
			out.iids[i] = id
		}
	}
	switch h.kind {
	case ckptKindHNSW:
		g, err := hnsw.Read(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadCheckpoint, err)
		}
		gc := g.Config()
		if gc.Dim != c.cfg.Dim || gc.Metric != c.cfg.Metric.hnsw() || gc.M != c.cfg.M {
			return nil, fmt.Errorf("%w: graph parameters differ from the collection", errBadCheckpoint)
		}
		out.graph = g
	default:
		a, err := flat.Read(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadCheckpoint, err)
		}
		if a.Dim() != c.cfg.Dim {
			return nil, fmt.Errorf("%w: arena dim differs from the collection", errBadCheckpoint)
		}
		out.arena = a
	}
	return out, nil
}

// checkpointBytes is the size of the collection's checkpoint files.
func (c *Collection) checkpointBytes() int64 {
	c.ckMu.Lock()
	defer c.ckMu.Unlock()
	var n int64
	for _, sg := range c.segments() {
		if sg.ckFile != "" {
			n += sg.ckBytes
		}
	}
	return n
}

// removeFiles deletes every checkpoint file of this incarnation (after a
// drop), and the directory when it is empty.
func (c *Collection) removeFiles() {
	if c.dir == "" {
		return
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), c.filePrefix()) {
			os.Remove(filepath.Join(c.dir, e.Name()))
		}
	}
	os.Remove(c.dir) // fails unless empty: a re-created collection may use it
}

// removeStrayFiles deletes files in the collection's directory that no
// checkpoint record names (left by a crash or an older incarnation).
func (c *Collection) removeStrayFiles(keep map[string]bool) {
	if c.dir == "" {
		return
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !keep[e.Name()] {
			os.Remove(filepath.Join(c.dir, e.Name()))
		}
	}
}
