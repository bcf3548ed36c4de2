package sqlite

import (
	"errors"
	"io/fs"
	"os"

	"github.com/prometheus/client_golang/prometheus"
)

// diskUse is the Prometheus collector of a database's disk use (Metrics).
type diskUse struct {
	path                 string
	database, wal, avail *prometheus.Desc
}

// Metrics returns a Prometheus collector of the disk use of the SQLite database at path,
// read from the file system at each scrape: fini_sqlite_database_bytes and
// fini_sqlite_wal_bytes, the sizes of the database file and of its write-ahead log, and
// fini_sqlite_filesystem_available_bytes, the room left on their file system (not on
// every platform).
func Metrics(path string) prometheus.Collector {
	return &diskUse{
		path: path,
		database: prometheus.NewDesc("fini_sqlite_database_bytes",
			"Size of the SQLite database file.", nil, nil),
		wal: prometheus.NewDesc("fini_sqlite_wal_bytes",
			"Size of the SQLite write-ahead log (-wal file): restarted once it holds 16 MiB if the disk keeps up with the writes, at 256 MiB in any case; 0 after 2 s without writes.", nil, nil),
		avail: prometheus.NewDesc("fini_sqlite_filesystem_available_bytes",
			"Room left on the file system of the SQLite database; at 0 writes answer 503 while reads go on.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (d *diskUse) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.database
	ch <- d.wal
	ch <- d.avail
}

// Collect implements prometheus.Collector.
func (d *diskUse) Collect(ch chan<- prometheus.Metric) {
	size := func(desc *prometheus.Desc, name string, missing bool) {
		fi, err := os.Stat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && missing:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, 0)
		case err != nil:
			ch <- prometheus.NewInvalidMetric(desc, err)
		default:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(fi.Size()))
		}
	}
	size(d.database, d.path, false)
	size(d.wal, d.path+"-wal", true) // no -wal file: an empty log
	if n, ok, err := available(d.path); err != nil {
		ch <- prometheus.NewInvalidMetric(d.avail, err)
	} else if ok {
		ch <- prometheus.MustNewConstMetric(d.avail, prometheus.GaugeValue, float64(n))
	}
}
