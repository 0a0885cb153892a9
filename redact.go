package pagecall

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// apiKey returns the client's API key, for redactKey.
func (l *requestLoop) apiKey() string { return strings.TrimPrefix(l.auth(), "Bearer ") }

// minRedactAnywhere is the length from which an API key is hidden wherever
// it appears, even inside a longer token. A key this long does not turn up
// in a server's message by chance: where its text appears, the key was
// echoed. Pagecall's keys are far longer.
const minRedactAnywhere = 8

// redactKey returns text with the API key replaced by [REDACTED].
//
// The rule: a key of at least minRedactAnywhere bytes is replaced wherever
// it appears, also inside a longer token ("Bearer%20<key>",
// "token=<key>x"), so that no echo of a real key survives. A shorter key
// cannot be told apart from ordinary text (the key "k" is in "key" and in
// "sdk-user-1"), so it is replaced only where it stands as a token of its
// own: not preceded or followed by a letter, a digit, '-' or '_'. A short
// key echoed as "Bearer k" or `"k"` is hidden; "invalid API key" and
// "/users/sdk-user-1" stay readable. Such short keys are for tests and
// mocks; no real key is that short.
func redactKey(text, key string) string {
	if key == "" || !strings.Contains(text, key) {
		return text
	}
	if len(key) >= minRedactAnywhere {
		return strings.ReplaceAll(text, key, redacted)
	}
	var b strings.Builder
	b.Grow(len(text))
	i := 0 // text[:i] is written
	for from := 0; ; {
		j := strings.Index(text[from:], key)
		if j < 0 {
			break
		}
		j += from
		end := j + len(key)
		if standsAlone(text[:j], text[end:]) {
			b.WriteString(text[i:j])
			b.WriteString(redacted)
			i, from = end, end
		} else {
			from = j + 1
		}
	}
	if i == 0 {
		return text
	}
	b.WriteString(text[i:])
	return b.String()
}

// redactKeyBytes is redactKey for a body. It returns b itself when the key
// does not appear in it.
func redactKeyBytes(b []byte, key string) []byte {
	if key == "" || !bytes.Contains(b, []byte(key)) {
		return b
	}
	return []byte(redactKey(string(b), key))
}

// standsAlone reports whether a match between before and after is a token
// of its own: the characters on either side (if any) cannot be part of a
// key-like token.
func standsAlone(before, after string) bool {
	r, _ := utf8.DecodeLastRuneInString(before)
	s, _ := utf8.DecodeRuneInString(after)
	return (before == "" || !tokenRune(r)) && (after == "" || !tokenRune(s))
}

// tokenRune reports whether r continues a word, an ID or a key: a letter or
// digit of any script, '-' or '_'.
func tokenRune(r rune) bool {
	return r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
