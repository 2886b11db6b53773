package vector

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/luma-db/luma/internal/jsonx"
)

// AppendFloat32 appends f in the shortest form that reads back as the same
// float32, formatted as encoding/json formats a float32 (exponent form
// only below 1e-6 or from 1e21), except that integral values get ".0". Infinities are clamped to ±MaxFloat32 and
// NaN is written as 0: JSON has neither.
func AppendFloat32(b []byte, f float32) []byte {
	switch {
	case f != f:
		return append(b, '0')
	case math.IsInf(float64(f), 1):
		f = math.MaxFloat32
	case math.IsInf(float64(f), -1):
		f = -math.MaxFloat32
	}
	abs := math.Abs(float64(f))
	format := byte('f')
	if abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, float64(f), format, -1, 32)
	if format == 'f' && bytes.IndexByte(b[start:], '.') < 0 {
		// Integral values keep a fraction (1.0, not 1), as the original's
		// serde_json writes floats, so clients decode a float, not an int.
		b = append(b, '.', '0')
	}
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// AppendVector appends v as a JSON array of float32 numbers.
func AppendVector(b []byte, v []float32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendFloat32(b, x)
	}
	return append(b, ']')
}

// appendMeta appends stored meta JSON, or null.
func appendMeta(b []byte, meta []byte) []byte {
	if meta == nil {
		return append(b, "null"...)
	}
	return append(b, meta...)
}

// vectorEventData is the data of vector_added / vector_upserted /
// vector_updated: {"collection","id","vector","meta"}. vecJSON, when not
// nil, is the vector's compact JSON text as sent.
func vectorEventData(coll, id string, vec []float32, vecJSON, meta []byte) []byte {
	b := make([]byte, 0, 64+len(coll)+len(id)+len(meta)+len(vecJSON)+12*len(vec))
	b = append(b, `{"collection":`...)
	b = jsonx.AppendString(b, coll)
	b = append(b, `,"id":`...)
	b = jsonx.AppendString(b, id)
	b = append(b, `,"vector":`...)
	if vecJSON != nil {
		b = append(b, vecJSON...)
	} else {
		b = AppendVector(b, vec)
	}
	b = append(b, `,"meta":`...)
	b = appendMeta(b, meta)
	return append(b, '}')
}

func deletedEventData(coll, id string) []byte {
	b := make([]byte, 0, 32+len(coll)+len(id))
	b = append(b, `{"collection":`...)
	b = jsonx.AppendString(b, coll)
	b = append(b, `,"id":`...)
	b = jsonx.AppendString(b, id)
	return append(b, '}')
}

// compactJSON validates raw JSON and returns it compacted, nil for null or
// absent.
func compactJSON(raw []byte, limit int64, tooLarge error) ([]byte, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var buf []byte
	if isCompact(raw) {
		if !json.Valid(raw) {
			return nil, ErrInvalidMeta
		}
		buf = append([]byte(nil), raw...)
	} else {
		var w bytes.Buffer
		w.Grow(len(raw))
		if err := json.Compact(&w, raw); err != nil {
			return nil, ErrInvalidMeta
		}
		buf = w.Bytes()
	}
	if string(buf) == "null" {
		return nil, nil
	}
	if int64(len(buf)) > limit {
		return nil, tooLarge
	}
	return buf, nil
}

// isCompact reports whether raw has no white space outside strings.
func isCompact(raw []byte) bool {
	inStr, esc := false, false
	for _, c := range raw {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			return false
		}
	}
	return true
}
