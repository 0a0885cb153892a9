package pagecall

import ()

// This file holds the helpers of the generated methods and iterators in
// operations.gen.go that are not the request loop's: page walking, Ptr
// and ValidateUserID.

// DefaultPageSize is the page size of the XxxSeq iterators when the
// parameters give no limit.
const DefaultPageSize = 100

// ValidateUserID returns an error satisfying errors.Is(err,
// ErrInvalidUserID) for the user IDs that cannot be sent as one path
// segment: "", "." and "..". Every other string is valid and is
// percent-encoded when sent.
func ValidateUserID(id string) error { return validatePathParam("user_id", id, true) }

// pager walks offset and limit through the pages of a list.
type pager struct{ offset, limit int }

// newPager starts at the caller's offset (default 0) with the caller's limit
// (default DefaultPageSize).
func newPager[T ~int | ~int32 | ~int64](offset, limit *T) pager {
	p := pager{limit: DefaultPageSize}
	if offset != nil && *offset > 0 {
		p.offset = int(*offset)
	}
	if limit != nil && *limit > 0 {
		p.limit = int(*limit)
	}
	return p
}

// next moves past a page of n items and reports whether another page may
// follow: not after an empty or short page, nor past total (-1: unknown).
func (p *pager) next(n, total int) bool {
	if n == 0 || n < p.limit {
		return false
	}
	p.offset += n
	return total < 0 || p.offset < total
}

// Ptr returns a pointer to v, for the optional fields and parameters whose
// zero value means something (record: false, offset: 0):
//
//	pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePrivate, Record: pagecall.Ptr(false)}
func Ptr[T any](v T) *T { return &v }
