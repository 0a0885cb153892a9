package main

// cliOperation is one entry of cliOperations (operations.gen.go, written by
// go generate from gen/cli.yaml): an operation of the spec and the SDK
// methods that call it, as method expressions, so that their names are
// those of the SDK, checked by the compiler.
type cliOperation struct {
	operationID, method, path string
	// fn is the operation's method, e.g. (*pagecall.Client).ListRooms.
	fn any
	// seq is the iterator of a list operation, e.g.
	// (*pagecall.Client).ListRoomsSeq; nil for the others.
	seq any
}
