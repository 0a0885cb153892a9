//go:build race && !anyspec

package pagecallredis

// Like every other test file of this package it carries !anyspec, so
// that spec-history links no test binary that has nothing to run.
//
// raceEnabled: the test binary, and so every child process of a fleet
// test, runs under the race detector.
const raceEnabled = true
