package vector

import "errors"

// Errors returned by the store. The HTTP layer maps each one to the wire
// code and message of CONTRACT.md §4.3; test them with errors.Is.
var (
	// ErrCollectionTooLong: the collection name is longer than MaxCollectionLen.
	ErrCollectionTooLong = errors.New("vector: collection too long")
	// ErrInvalidName: the collection name is empty, starts with '.', or has
	// a byte outside [A-Za-z0-9_.-].
	ErrInvalidName = errors.New("vector: invalid collection name")
	// ErrIDTooLong: a vector id is longer than MaxIDLen.
	ErrIDTooLong = errors.New("vector: id too long")
	// ErrVectorTooLarge: a vector has more than MaxVectorDim entries.
	ErrVectorTooLarge = errors.New("vector: vector too large")
	// ErrMetaTooLarge: meta is larger than MaxJSONBytes once compacted.
	ErrMetaTooLarge = errors.New("vector: meta too large")
	// ErrFiltersTooLarge: a search filter is larger than MaxJSONBytes.
	ErrFiltersTooLarge = errors.New("vector: filters too large")
	// ErrInvalidMeta: meta is not valid JSON.
	ErrInvalidMeta = errors.New("vector: meta is not valid JSON")
	// ErrInvalidDim: dim is 0 or larger than MaxVectorDim.
	ErrInvalidDim = errors.New("vector: invalid dim")
	// ErrInvalidMetric: the metric is not cosine, dot or l2.
	ErrInvalidMetric = errors.New("vector: invalid metric")
	// ErrInvalidIndex: an index setting (kind, m, ef_construction,
	// ef_search) is out of range; the wrapping error says which.
	ErrInvalidIndex = errors.New("vector: invalid index settings")
	// ErrCollectionNotFound: no such collection.
	ErrCollectionNotFound = errors.New("vector: collection not found")
	// ErrCollectionExists: create of a name that exists.
	ErrCollectionExists = errors.New("vector: collection already exists")
	// ErrIDNotFound: update or delete of an id that is not stored.
	ErrIDNotFound = errors.New("vector: id not found")
	// ErrIDExists: add of an id that is already stored.
	ErrIDExists = errors.New("vector: id already exists")
	// ErrDimMismatch: a vector's length is not the collection's dim.
	ErrDimMismatch = errors.New("vector: vector dimension mismatch")
	// ErrNonFinite: a vector holds NaN or ±Inf.
	ErrNonFinite = errors.New("vector: vector values must be finite numbers")
	// ErrInvalidK: k is 0 or larger than MaxK.
	ErrInvalidK = errors.New("vector: invalid k")
	// ErrInvalidSearch: another search parameter is out of range (ef,
	// group_by, group_limit); the wrapping error says which.
	ErrInvalidSearch = errors.New("vector: invalid search parameter")
	// ErrNoItems / ErrTooManyItems: an upsert_batch without items or with
	// more than MaxBatch.
	ErrNoItems      = errors.New("vector: items required")
	ErrTooManyItems = errors.New("vector: too many items")
	// ErrNoIDs / ErrTooManyIDs: the same for delete_batch.
	ErrNoIDs      = errors.New("vector: ids required")
	ErrTooManyIDs = errors.New("vector: too many ids")
	// ErrCollectionFull: the collection has used every internal id (2^32
	// writes since it was created).
	ErrCollectionFull = errors.New("vector: collection has used all 2^32 internal ids")
	// ErrPersistence: a vector record could not be read or decoded.
	ErrPersistence = errors.New("vector: vector persistence error")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("vector: store closed")
)
