package postgres_test

import (
	"testing"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
	"github.com/fini-oss/conversations/server/store/storetest"
)

func BenchmarkStoreDelete(b *testing.B) {
	storetest.BenchDeletes(b, func(b *testing.B) store.Store { return pgtest.Open(b) })
}
