// Package bulk deletes many Pagecall users, streaming: it reads the IDs
// (Plan), drops the duplicates and the IDs a resumed run already deleted
// in bounded memory, deletes the rest with a pool of workers (Run) and
// hands each ID's final Record to a Sink.
//
// The seam for other stores (for example a job shared through Redis) is
// Source, a stream of Items (an ID and where the input had it), and Sink,
// which takes each final Record.
package bulk
