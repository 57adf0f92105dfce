// Package stats is the shape every snapshot of counters takes on its way
// to a user: a list of Fields, each a name, a kind, one sentence of help
// and a value. The packages that keep counters (pond, netdev) describe
// each one where they define it, in the Fields method of their snapshot;
// the file tree renders the same list as a stats file ("name value"
// lines) and as Prometheus metrics (which add the kind and the help), so a
// counter is described in one place.
package stats

// Kind is how a value moves.
type Kind uint8

const (
	// Gauge is a value that goes up and down: buffers in use, a limit.
	Gauge Kind = iota
	// Counter is a count that only grows: allocations, frames sent.
	Counter
)

// Field is one named value of a snapshot.
type Field struct {
	Name  string // lower_snake_case, as the stats file shows it
	Kind  Kind
	Help  string // one sentence, for the metrics file's HELP line
	Value uint64
}
