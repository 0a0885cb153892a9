//go:build !race

package pagecallredis

// raceEnabled: the test binary, and so every child process of a fleet
// test, runs under the race detector.
const raceEnabled = false
