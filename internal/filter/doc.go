// Package filter is the metadata filter language shared by vector search
// ("filters" of POST /v1/vector/{c}/search) and the document store ("filter"
// of POST /v1/doc/{c}/find): parsing JSON into a tree, and matching the tree
// against decoded JSON documents. Package bitmapindex answers the same trees
// from an inverted index. The user-facing reference is docs/FILTERS.md.
//
// # Grammar
//
//	filter      = object | null | any-other-json
//	object      = "{" [ clause { "," clause } ] "}"          ; clauses are ANDed
//	clause      = field-name ":" field-value
//	            | "$and" ":" "[" object { "," object } "]"
//	            | "$or"  ":" "[" object { "," object } "]"
//	            | "$not" ":" object
//	field-value = operators | literal                        ; see below
//	operators   = "{" op { "," op } "}"                      ; ANDed
//	op          = "$eq" ":" literal | "$ne" ":" literal
//	            | ("$gt" | "$gte" | "$lt" | "$lte") ":" (number | string)
//	            | ("$in" | "$nin") ":" "[" [ literal { "," literal } ] "]"
//	            | "$exists" ":" ("true" | "false")
//	            | "$not" ":" operators
//	            | ("$and" | "$or") ":" "[" operators { "," operators } "]"
//	literal     = any JSON value (objects in a literal are data, not operators)
//
// A field value is read as operators when it is a non-empty object whose keys
// all start with "$"; any other value, {} included, is a literal. An object
// mixing "$" keys and plain keys is an error (match such an object literally
// with {"$eq": {...}}). Keys starting with "$" in a filter object are always
// operators, so a top-level field whose name starts with "$" cannot be
// queried.
//
// # Semantics
//
// Let v be the value at the field path in the document (see Resolve: a
// top-level key equal to the whole path wins, otherwise "a.b.c" walks nested
// objects; paths never step into arrays).
//
//   - {"f": lit} (the wire contract's form): v is present and Equal to lit.
//     Equal compares numbers by value (1 == 1.0, contract §9 #17), arrays whole
//     and in order, objects by keys and values. {"f": null} needs f present
//     with value null.
//   - $eq lit: v is Equal to lit, or v is an array with an element Equal to
//     lit (the membership rule). $ne is exactly "not $eq", so it also matches
//     documents without the field.
//   - $in [l1, l2, ...]: $eq l1 or $eq l2 or ...; $in [] matches nothing.
//     $nin is "not $in" and matches documents without the field.
//   - $gt, $gte, $lt, $lte: v, or any element of an array v, has the literal's
//     kind and orders against it: numbers by value, strings bytewise (UTF-8
//     byte order, which is Unicode code point order). Other kinds never match;
//     there is no order across kinds. Several operators on one field are
//     ANDed and each may be satisfied by a different element of an array, so
//     {"$gt": 1, "$lt": 5} matches [0, 10].
//   - $exists true: v is present (null counts); false: it is absent.
//   - $and, $or, $not: logical; they nest to any depth, both where a filter
//     object is expected and inside a field's operator object.
//   - {} and null match every document; a filter that is not an object
//     ("x", 3, [..], true) matches none (contract §6), and is not an error.
//
// Numbers: integers that fit an int64 compare exactly; every other number
// compares as the nearest double. Documents decoded with float64 numbers have
// already lost the digits beyond a double, so decode with UseNumber when ids
// beyond 2^53 matter.
//
// # Deliberate change from the original
//
// The original server had no operators: in {"price": {"$gt": 5}} the key
// "$gt" was a plain key, matching documents whose price was the object
// {"$gt": 5}. Here a non-empty object of "$" keys is an operator object, and
// an unknown "$" key is an error. Documents that stored such objects can still
// be matched with {"price": {"$eq": {"$gt": 5}}}. Everything the original
// accepted without "$" keys matches as before, except that 1 now equals 1.0.
//
// # Errors and limits
//
// Parse returns an *Error naming the field and operator at fault and what is
// allowed, e.g.
//
//	filter: field "price": $gt needs a number or string, got array
//	filter: field "tags": $foo is not a known operator; allowed in a field: $eq, $ne, ...
//	filter: $and needs a non-empty array of filter objects, got object
//
// Options.MaxDepth (default 32 levels of JSON nesting) and Options.MaxClauses
// (default 1024 tree nodes) bound the work a hostile filter can cause; going
// over either is an *Error wrapping ErrTooDeep or ErrTooManyClauses.
//
// # Concurrency
//
// A parsed *Filter is immutable; Match may be called from many goroutines.
package filter
