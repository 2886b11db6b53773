package flat

// Checkpoint format (integers little-endian):
//
//	header, 32 bytes
//	   0  magic "LUMAFLAT"
//	   8  u32 version (1)
//	  12  u32 metric
//	  16  u32 dim
//	  20  u32 rows: highest present id + 1
//	  24  u32 count: present vectors
//	  28  u32 CRC-32C of bytes 0..27
//	body, rows in blocks of 64 (the last one shorter), each block:
//	  rows × u8          1 present, 0 absent
//	  rows × dim × f32   vectors (zero for absent rows)
//	trailer
//	  u32 CRC-32C of the body
//
// Read allocates pages only as their bytes arrive and reports a damaged
// or truncated stream as an error wrapping ErrCorrupt.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

const (
	formatVersion = 1
	headerSize    = 32
	blockRows     = 64
)

var (
	magic      = [8]byte{'L', 'U', 'M', 'A', 'F', 'L', 'A', 'T'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// WriteTo writes a checkpoint of the index to w and returns the bytes
// written. It waits for in-flight Adds and blocks new ones while it runs.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	ix.snapMu.Lock()
	defer ix.snapMu.Unlock()
	pgs := *ix.pages.Load()
	rows, count := 0, 0
	for pi, p := range pgs {
		for r, st := range p.state {
			if st == statePresent {
				rows = pi<<ix.pageShift + r + 1
				count++
			}
		}
	}
	le := binary.LittleEndian
	var hdr [headerSize]byte
	copy(hdr[:], magic[:])
	le.PutUint32(hdr[8:], formatVersion)
	le.PutUint32(hdr[12:], uint32(ix.metric))
	le.PutUint32(hdr[16:], uint32(ix.dim))
	le.PutUint32(hdr[20:], uint32(rows))
	le.PutUint32(hdr[24:], uint32(count))
	le.PutUint32(hdr[28:], crc32.Checksum(hdr[:28], castagnoli))
	written := int64(0)
	n, err := w.Write(hdr[:])
	written += int64(n)
	if err != nil {
		return written, err
	}
	var crc uint32
	buf := make([]byte, 0, blockRows*(1+4*ix.dim))
	for start := 0; start < rows; start += blockRows {
		cnt := min(blockRows, rows-start)
		p := pgs[start>>ix.pageShift]
		r0 := start & int(ix.pageMask)
		buf = buf[:0]
		for r := r0; r < r0+cnt; r++ {
			var b byte
			if p.state[r] == statePresent {
				b = 1
			}
			buf = append(buf, b)
		}
		for _, x := range p.vecs[r0*ix.dim : (r0+cnt)*ix.dim] {
			buf = le.AppendUint32(buf, math.Float32bits(x))
		}
		crc = crc32.Update(crc, castagnoli, buf)
		n, err := w.Write(buf)
		written += int64(n)
		if err != nil {
			return written, err
		}
	}
	var tr [4]byte
	le.PutUint32(tr[:], crc)
	n, err = w.Write(tr[:])
	return written + int64(n), err
}

// Read loads an index written by WriteTo. A damaged or truncated stream
// gives an error wrapping ErrCorrupt; I/O errors are returned as they are.
func Read(r io.Reader) (*Index, error) {
	full := func(b []byte) error {
		if _, err := io.ReadFull(r, b); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return corruptf("truncated")
			}
			return err
		}
		return nil
	}
	var hdr [headerSize]byte
	if err := full(hdr[:]); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if !bytes.Equal(hdr[:8], magic[:]) {
		return nil, corruptf("bad magic")
	}
	if got, want := crc32.Checksum(hdr[:28], castagnoli), le.Uint32(hdr[28:]); got != want {
		return nil, corruptf("header checksum %08x, want %08x", got, want)
	}
	if v := le.Uint32(hdr[8:]); v != formatVersion {
		return nil, corruptf("unsupported version %d", v)
	}
	cfg := Config{Metric: Metric(le.Uint32(hdr[12:])), Dim: int(le.Uint32(hdr[16:]))}
	if err := cfg.validate(); err != nil {
		return nil, corruptf("bad parameters: %v", err)
	}
	rows := int(le.Uint32(hdr[20:]))
	count := int(le.Uint32(hdr[24:]))
	if rows > MaxID+1 || count > rows {
		return nil, corruptf("bad sizes")
	}
	ix := newIndex(cfg, rows)
	pgs := make([]*page, 0, (rows>>ix.pageShift)+1)
	buf := make([]byte, blockRows*(1+4*ix.dim))
	var crc uint32
	present := 0
	for start := 0; start < rows; start += blockRows {
		cnt := min(blockRows, rows-start)
		if start>>ix.pageShift >= len(pgs) {
			pgs = append(pgs, ix.newPage())
		}
		p := pgs[start>>ix.pageShift]
		r0 := start & int(ix.pageMask)
		b := buf[:cnt*(1+4*ix.dim)]
		if err := full(b); err != nil {
			return nil, err
		}
		crc = crc32.Update(crc, castagnoli, b)
		for r := 0; r < cnt; r++ {
			switch b[r] {
			case 0:
			case 1:
				p.state[r0+r] = statePresent
				present++
			default:
				return nil, corruptf("row %d: state %d", start+r, b[r])
			}
		}
		b = b[cnt:]
		vecs := p.vecs[r0*ix.dim : (r0+cnt)*ix.dim]
		for i := range vecs {
			vecs[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	}
	var tr [4]byte
	if err := full(tr[:]); err != nil {
		return nil, err
	}
	if want := le.Uint32(tr[:]); crc != want {
		return nil, corruptf("body checksum %08x, want %08x", crc, want)
	}
	if present != count {
		return nil, corruptf("%d vectors present, header says %d", present, count)
	}
	ix.pages.Store(&pgs)
	ix.count.Store(int64(count))
	return ix, nil
}
