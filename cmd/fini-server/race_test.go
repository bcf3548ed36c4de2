//go:build race

package main

// raceDetector is true in a build with the race detector, which makes the pure-Go SQLite
// about ten times slower: volume tests scale down.
const raceDetector = true
