package pagecalltest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// minter makes the values Pagecall makes for what it creates: an ID per
// room, member, session and page, a workspace ID, and an access token per
// user. None of them comes from the document's examples, which every
// created object would otherwise share.
type minter struct {
	// process and counter make IDs unique across servers and within one,
	// as a MongoDB ObjectID's random value and counter do.
	process [5]byte
	counter uint32
}

func newMinter() *minter {
	var seed [8]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails (Go 1.24+)
	m := &minter{counter: uint32(seed[5])<<16 | uint32(seed[6])<<8 | uint32(seed[7])}
	copy(m.process[:], seed[:5])
	return m
}

// id returns a new ID shaped like Pagecall's, which are MongoDB ObjectIDs
// (642d103ce95bc9dc22ef789f): 24 hex digits, the time in seconds, the
// minter's random value, then its counter. IDs are not secrets, so they
// need to be unique, not unpredictable.
func (m *minter) id(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(now.Unix()))
	copy(b[4:9], m.process[:])
	m.counter++
	b[9], b[10], b[11] = byte(m.counter>>16), byte(m.counter>>8), byte(m.counter)
	return hex.EncodeToString(b[:])
}

// accessToken returns a new access token: 32 characters of URL-safe
// base64, the shape of the document's example, from 24 bytes of
// crypto/rand. A token lets its holder join meetings as the user, so, as
// on Pagecall, nobody can predict one from another or from the document.
func accessToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
