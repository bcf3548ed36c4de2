package postgres_test

import (
	"testing"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
	"github.com/fini-oss/conversations/server/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return pgtest.Open(t) })
}

func BenchmarkBulkDelete(b *testing.B) {
	storetest.BenchmarkBulkDelete(b, pgtest.Open(b), 8)
}
