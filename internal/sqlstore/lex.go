package sqlstore

// Why a tokenizer here: the store has to answer four questions about a
// statement before SQLite sees it, and database/sql offers no way to ask
// SQLite itself (no sqlite3_prepare tail, no bind_parameter_count through the
// driver):
//
//  1. Is it exactly one statement? ("select 1; drop table t" must not run.)
//  2. Which parameters does it use, in SQLite's numbering? (The driver
//     silently ignores surplus arguments and cannot bind an array to :name.)
//  3. What is its first keyword? (Transaction control is refused; DML decides
//     whether rows_affected means anything.)
//  4. What is its fingerprint for the sql_exec event?
//
// The lexer follows SQLite's tokenizer closely enough for these questions:
// strings, quoted identifiers, comments and blob literals are opaque, and the
// end of a statement is found with the state machine of sqlite3_complete(), so
// the semicolons inside CREATE TRIGGER ... BEGIN ... END do not split it. It
// does not validate syntax: anything it lets through is still parsed by
// SQLite, and the read-only reader connection is the final guard for Query.

import (
	"strings"
)

type tokKind uint8

const (
	tokWord   tokKind = iota // keyword or bare identifier
	tokIdent                 // "quoted", `quoted` or [quoted] identifier
	tokString                // 'string literal'
	tokBlob                  // x'hex' literal
	tokNumber                // numeric literal
	tokParam                 // ?, ?NNN, :name, @name, $name
	tokSemi                  // ;
	tokPunct                 // operator or other punctuation
)

type token struct {
	kind tokKind
	text string // exact source text
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isIDStart(c byte) bool {
	return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= 0x80
}

func isIDChar(c byte) bool {
	return isIDStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// multi-character operators SQLite knows, longest first.
var operators = []string{"->>", "->", "||", "<=", ">=", "<>", "!=", "==", "<<", ">>"}

// lex splits sql into tokens, dropping whitespace and comments. Unterminated
// strings, identifiers and comments run to the end of the input (SQLite
// reports them as errors when it parses the statement).
func lex(sql string) []token {
	var toks []token
	i, n := 0, len(sql)
	for i < n {
		c := sql[i]
		start := i
		switch {
		case isSpace(c):
			i++
			continue
		case c == '-' && i+1 < n && sql[i+1] == '-':
			for i < n && sql[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < n && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = n
			} else {
				i += 2 + end + 2
			}
			continue
		case c == '\'':
			i = skipQuoted(sql, i, '\'')
			toks = append(toks, token{tokString, sql[start:i]})
		case c == '"' || c == '`':
			i = skipQuoted(sql, i, c)
			toks = append(toks, token{tokIdent, sql[start:i]})
		case c == '[':
			end := strings.IndexByte(sql[i:], ']')
			if end < 0 {
				i = n
			} else {
				i += end + 1
			}
			toks = append(toks, token{tokIdent, sql[start:i]})
		case (c == 'x' || c == 'X') && i+1 < n && sql[i+1] == '\'':
			i = skipQuoted(sql, i+1, '\'')
			toks = append(toks, token{tokBlob, sql[start:i]})
		case isDigit(c) || c == '.' && i+1 < n && isDigit(sql[i+1]):
			i++
			for i < n {
				d := sql[i]
				if (d == '+' || d == '-') && (sql[i-1]|0x20) == 'e' && !isHexLiteral(sql[start:i]) {
					i++
					continue
				}
				if isDigit(d) || d == '.' || d == '_' || (d|0x20) >= 'a' && (d|0x20) <= 'z' {
					i++
					continue
				}
				break
			}
			toks = append(toks, token{tokNumber, sql[start:i]})
		case c == '?':
			i++
			for i < n && isDigit(sql[i]) {
				i++
			}
			toks = append(toks, token{tokParam, sql[start:i]})
		case (c == ':' || c == '@' || c == '$') && i+1 < n && isIDChar(sql[i+1]):
			i++
			for i < n {
				if isIDChar(sql[i]) {
					i++
					continue
				}
				// TCL-style $a::b names.
				if c == '$' && sql[i] == ':' && i+2 < n && sql[i+1] == ':' && isIDChar(sql[i+2]) {
					i += 2
					continue
				}
				break
			}
			toks = append(toks, token{tokParam, sql[start:i]})
		case isIDStart(c):
			for i < n && isIDChar(sql[i]) {
				i++
			}
			toks = append(toks, token{tokWord, sql[start:i]})
		case c == ';':
			i++
			toks = append(toks, token{tokSemi, ";"})
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(sql[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				op = sql[i : i+1]
			}
			i += len(op)
			toks = append(toks, token{tokPunct, op})
		}
	}
	return toks
}

func isHexLiteral(s string) bool {
	return len(s) >= 2 && s[0] == '0' && (s[1]|0x20) == 'x'
}

// skipQuoted returns the index just past the quoted run starting at sql[i]
// (which is q); a doubled quote is an escaped one.
func skipQuoted(sql string, i int, q byte) int {
	i++
	for i < len(sql) {
		if sql[i] == q {
			if i+1 < len(sql) && sql[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(sql)
}

// States and token classes of sqlite3_complete() (SQLite's complete.c): a
// statement ends at a ';' that brings the machine back to stStart. Inside
// CREATE TRIGGER only "; END ;" does.
const (
	stInvalid = iota
	stStart
	stNormal
	stExplain
	stCreate
	stTrigger
	stSemi
	stEnd
)

const (
	tkSemi = iota
	tkOther
	tkExplain
	tkCreate
	tkTemp
	tkTrigger
	tkEnd
)

var completeTrans = [8][7]uint8{
	//                SEMI     OTHER     EXPLAIN    CREATE    TEMP      TRIGGER    END
	stInvalid: {stStart, stNormal, stExplain, stCreate, stNormal, stNormal, stNormal},
	stStart:   {stStart, stNormal, stExplain, stCreate, stNormal, stNormal, stNormal},
	stNormal:  {stStart, stNormal, stNormal, stNormal, stNormal, stNormal, stNormal},
	stExplain: {stStart, stExplain, stNormal, stCreate, stNormal, stNormal, stNormal},
	stCreate:  {stStart, stNormal, stNormal, stNormal, stCreate, stTrigger, stNormal},
	stTrigger: {stSemi, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger},
	stSemi:    {stSemi, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stEnd},
	stEnd:     {stStart, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger},
}

func completeClass(t token) int {
	switch t.kind {
	case tokSemi:
		return tkSemi
	case tokWord:
		switch strings.ToLower(t.text) {
		case "explain":
			return tkExplain
		case "create":
			return tkCreate
		case "temp", "temporary":
			return tkTemp
		case "trigger":
			return tkTrigger
		case "end":
			return tkEnd
		}
	}
	return tkOther
}

// statement is what the store needs to know about one SQL statement.
type statement struct {
	toks     []token  // tokens of the statement, without the final ';'
	verb     string   // first keyword, lower case ("" if none)
	dmlVerb  string   // insert/replace/update/delete for DML (also after WITH), else ""
	params   []string // parameter names by SQLite index-1; "" for an anonymous '?'
	multiple bool     // more statements follow the first one
}

// analyze lexes sql and describes its first statement.
func analyze(sql string) statement {
	toks := lex(sql)
	var st statement
	state := stInvalid
	end := len(toks)
	for i, t := range toks {
		state = int(completeTrans[state][completeClass(t)])
		if t.kind == tokSemi && state == stStart {
			// The statement (if any) ends here. Empty statements (";;")
			// before it are skipped the way SQLite skips them.
			if i == 0 || allSemis(toks[:i]) {
				continue
			}
			end = i
			for _, rest := range toks[i+1:] {
				if rest.kind != tokSemi {
					st.multiple = true
					break
				}
			}
			break
		}
	}
	body := toks[:end]
	for len(body) > 0 && body[0].kind == tokSemi {
		body = body[1:]
	}
	st.toks = body
	if len(body) > 0 && body[0].kind == tokWord {
		st.verb = strings.ToLower(body[0].text)
	}
	st.dmlVerb = dmlVerb(st.verb, body)
	st.params = paramSlots(body)
	return st
}

func allSemis(toks []token) bool {
	for _, t := range toks {
		if t.kind != tokSemi {
			return false
		}
	}
	return true
}

// dmlVerb returns the data-changing verb of a statement: its first keyword, or
// for WITH the first keyword at parenthesis depth 0 that starts a statement.
func dmlVerb(verb string, toks []token) string {
	switch verb {
	case "insert", "replace", "update", "delete":
		return verb
	case "with":
		depth := 0
		for _, t := range toks[1:] {
			switch {
			case t.kind == tokPunct && t.text == "(":
				depth++
			case t.kind == tokPunct && t.text == ")":
				depth--
			case t.kind == tokWord && depth == 0:
				switch w := strings.ToLower(t.text); w {
				case "insert", "replace", "update", "delete":
					return w
				case "select", "values":
					return ""
				}
			}
		}
	}
	return ""
}

// paramSlots numbers the parameters the way SQLite does: '?' takes the next
// index, '?NNN' takes NNN, a name takes the next index the first time it is
// seen and reuses it afterwards. The result has one entry per index; indexes
// that no placeholder names (possible with ?NNN gaps) stay "?".
func paramSlots(toks []token) []string {
	var (
		slots []string
		seen  map[string]int
	)
	set := func(idx int, name string) {
		for len(slots) < idx {
			slots = append(slots, "?")
		}
		slots[idx-1] = name
	}
	for _, t := range toks {
		if t.kind != tokParam {
			continue
		}
		switch {
		case t.text == "?":
			set(len(slots)+1, "")
		case t.text[0] == '?':
			idx := 0
			for _, d := range t.text[1:] {
				idx = idx*10 + int(d-'0')
				if idx > maxParamIndex {
					break
				}
			}
			if idx < 1 || idx > maxParamIndex {
				// SQLite rejects it when it parses the statement.
				continue
			}
			if idx > len(slots) || slots[idx-1] == "?" {
				set(idx, t.text)
			}
		default:
			if _, ok := seen[t.text]; ok {
				continue
			}
			if seen == nil {
				seen = make(map[string]int)
			}
			set(len(slots)+1, t.text)
			seen[t.text] = len(slots)
		}
	}
	return slots
}

// maxParamIndex is SQLite's default SQLITE_MAX_VARIABLE_NUMBER.
const maxParamIndex = 32766

// fingerprint renders the tokens as normalized text: literals become '?',
// keywords and bare identifiers are lower-cased, comments dropped and
// whitespace collapsed. Parameters and quoted identifiers are kept as written.
func fingerprint(toks []token) string {
	var b strings.Builder
	prev := token{kind: tokSemi}
	for i, t := range toks {
		text := t.text
		switch t.kind {
		case tokWord:
			text = strings.ToLower(text)
		case tokString, tokBlob, tokNumber:
			text = "?"
		case tokPunct:
			// Fold a unary minus or plus into the literal that follows.
			if (text == "-" || text == "+") && i+1 < len(toks) && toks[i+1].kind == tokNumber && !endsOperand(prev) {
				continue
			}
		}
		if i > 0 && needSpace(prev, t) {
			b.WriteByte(' ')
		}
		b.WriteString(text)
		prev = t
	}
	return b.String()
}

// endsOperand reports whether t can end an expression operand, which makes a
// following '-' binary.
func endsOperand(t token) bool {
	switch t.kind {
	case tokIdent, tokString, tokBlob, tokNumber, tokParam:
		return true
	case tokWord:
		switch strings.ToLower(t.text) {
		case "select", "where", "and", "or", "not", "values", "set", "when", "then",
			"else", "return", "by", "limit", "offset", "is", "in", "like", "between", "case":
			return false
		}
		return true
	case tokPunct:
		return t.text == ")"
	}
	return false
}

func needSpace(prev, t token) bool {
	if t.kind == tokPunct && (t.text == "," || t.text == ")" || t.text == ".") {
		return false
	}
	if t.kind == tokSemi {
		return false
	}
	if prev.kind == tokPunct && (prev.text == "(" || prev.text == ".") {
		return false
	}
	return true
}
