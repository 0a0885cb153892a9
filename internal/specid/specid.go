// Package specid names a version of an OpenAPI document by its bytes, the
// same way for the pagecall CLI's version command and for the maintainers'
// spec-sync report, so that the two can be compared by eye.
package specid

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ID identifies a document's bytes.
type ID struct {
	// SHA256 is the hex SHA-256 of the bytes.
	SHA256 string
	// GitBlob is the hex git object ID of the bytes (what git hash-object
	// prints): the ID under which Pagecall's pplink/pagecall-docs
	// repository stores the same openapi3.yaml, so that
	// "git log --find-object=GITBLOB" there finds the published version.
	GitBlob string
}

// Of digests doc.
func Of(doc []byte) ID {
	sum := sha256.Sum256(doc)
	// git names a blob by the SHA-1 of "blob <size>\x00" and the bytes;
	// SHA-1 is git's naming scheme here, not a security measure.
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(doc))
	h.Write(doc)
	return ID{SHA256: hex.EncodeToString(sum[:]), GitBlob: hex.EncodeToString(h.Sum(nil))}
}
