// Package reliability holds the scenarios of RELIABILITY.md as tests: load with a model of
// the expected state, replicas on one PostgreSQL, database outages, kill -9 crashes,
// graceful restarts, hostile input, tenancy and secrets. Most run the real fini-server
// binary on a loopback port. Every loop is bounded in count and time; FINI_SOAK=1 (make soak)
// runs the long version. It contains tests only.
package reliability
