package pgtest

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Proxy is a fault-injection proxy (Shopify's toxiproxy, run in this process on 127.0.0.1)
// in front of the test database. A fault test adds toxics to it, toxiproxy's faults of a
// connection: "timeout" with timeout 0 stalls a direction (data is taken and dropped, the
// connection stays open), "latency" delays it, "reset_peer" resets the connection.
type Proxy struct {
	proxy *toxiproxy.Proxy
}

// Proxied returns a DSN like DSN's (a fresh schema, dropped when the test ends) whose
// connections pass through a new Proxy, stopped when the test ends; it skips the test as DSN
// does. A test whose store may still wait on a stalled connection at its end calls Stop
// before the store's Close (which waits for the queries under way).
func Proxied(t testing.TB) (string, *Proxy) {
	t.Helper()
	dsn := DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDSN, err)
	}
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := &Proxy{proxy: toxiproxy.NewProxy(api, "postgres", "127.0.0.1:0", u.Host)}
	if err := p.proxy.Start(); err != nil {
		t.Fatalf("start toxiproxy: %v", err)
	}
	t.Cleanup(p.Stop)
	u.Host = p.proxy.Listen
	return u.String(), p
}

// Add adds a toxic of kind with attrs (toxiproxy's attributes, such as timeout or latency
// in milliseconds) on stream: "upstream", to the database, or "downstream", from it. It
// applies to the connections open and to those to come.
func (p *Proxy) Add(t testing.TB, kind, stream string, attrs map[string]int64) {
	t.Helper()
	toxic, err := json.Marshal(map[string]any{"name": kind + "_" + stream, "type": kind, "stream": stream,
		"toxicity": 1, "attributes": attrs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.proxy.Toxics.AddToxicJson(strings.NewReader(string(toxic))); err != nil {
		t.Fatalf("add toxic %s on %s: %v", kind, stream, err)
	}
}

// Stall stops the data both ways, the connections staying open: a paused relay, a frozen
// host, a network partition.
func (p *Proxy) Stall(t testing.TB) {
	t.Helper()
	p.Add(t, "timeout", "upstream", map[string]int64{"timeout": 0})
	p.Add(t, "timeout", "downstream", map[string]int64{"timeout": 0})
}

// Heal removes every toxic. Removing a stall also closes the connections it held.
func (p *Proxy) Heal() { p.proxy.Toxics.ResetToxics(context.Background()) }

// Stop closes the proxy and every connection through it; stopping again does nothing.
func (p *Proxy) Stop() { p.proxy.Stop() }
