package fs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/pondfs/pondfs/pond"
)

// metricGroup is one kind of thing the metrics file covers, rendered from
// the same stats snapshots as the stats files: the pond itself (no label),
// each pool (label size), each account (label account) and each device
// (label device).
type metricGroup struct {
	prefix  string // prepended to each stats name: pond_, pond_pool_, …
	label   string // names a member; empty for the pond itself
	members []metricMember
}

// metricMember is one labelled set of values: one pool, one account.
type metricMember struct {
	label  string
	fields []pond.Field
}

// counters are the stats names that only count up. Their metrics carry
// the _total suffix and TYPE counter; every other name is a gauge.
var counters = map[string]bool{
	"allocs": true, "frees": true, "fails": true, "waits": true, "grows": true, "shrinks": true,
	"rx_packets": true, "rx_bytes": true, "rx_dropped": true,
	"tx_packets": true, "tx_bytes": true, "tx_errors": true, "capture_lost": true,
}

// metricHelp is the HELP text of each metric, by name without _total.
var metricHelp = map[string]string{
	"pond_pools":                    "Pools (buffer size classes) in the pond.",
	"pond_arena_bytes":              "Bytes of arena carved so far (the size of the arena file).",
	"pond_buffers":                  "Buffers held by all pools.",
	"pond_free":                     "Free buffers in all pools.",
	"pond_in_use":                   "Buffers in use in all pools.",
	"pond_bytes_in_use":             "Bytes of all buffers in use.",
	"pond_chains":                   "Chains the file tree holds.",
	"pond_allocs":                   "Buffers handed out by all pools.",
	"pond_fails":                    "Allocations that failed, in all pools.",
	"pond_arena_zero_copy":          "1 when the arena file maps the pond's memory (FUSE passthrough), 0 when the daemon serves it.",
	"pond_pool_buffers":             "Buffers the pool holds; always free + in_use.",
	"pond_pool_free":                "Free buffers in the pool.",
	"pond_pool_in_use":              "Buffers of the pool in use.",
	"pond_pool_high_water":          "Most buffers of the pool in use at once.",
	"pond_pool_min":                 "Buffers the pool keeps through a shrink.",
	"pond_pool_max":                 "Most buffers the pool may hold.",
	"pond_pool_grow_by":             "Buffers the pool adds when it runs dry.",
	"pond_pool_allocs":              "Buffers the pool handed out.",
	"pond_pool_frees":               "Buffers returned to the pool.",
	"pond_pool_fails":               "Allocations from the pool that failed.",
	"pond_pool_waits":               "Allocations that waited for a buffer of the pool.",
	"pond_pool_grows":               "Times the pool grew.",
	"pond_pool_shrinks":             "Times the pool gave slabs back.",
	"pond_pool_injected_fails":      "Allocations failed on purpose by fail-after (also in fails).",
	"pond_account_limit_bytes":      "Byte limit of the account.",
	"pond_account_used_bytes":       "Bytes of buffers charged to the account.",
	"pond_account_high_water_bytes": "Most bytes charged to the account at once.",
	"pond_account_allocs":           "Allocations charged to the account.",
	"pond_account_fails":            "Allocations refused because the account was at its limit.",
	"pond_account_waits":            "Allocations that waited for the account to drop below its limit.",
	"pond_netdev_rx_packets":        "Frames the device received and queued.",
	"pond_netdev_rx_bytes":          "Bytes of the frames the device received and queued.",
	"pond_netdev_rx_dropped":        "Received frames lost: no buffer, too long, or dropped from a full queue.",
	"pond_netdev_tx_packets":        "Frames sent on the device.",
	"pond_netdev_tx_bytes":          "Bytes of the frames sent on the device.",
	"pond_netdev_tx_errors":         "Frames the device refused.",
	"pond_netdev_rx_queue":          "Received frames queued now.",
	"pond_netdev_rx_queue_max":      "Received frames the queue holds before it drops the oldest.",
	"pond_netdev_rx_filtered":       "Frames the kernel dropped before pondd read them: rejected by the filter, or the TAP's queue was full.",
	"pond_netdev_up":                "1 while the device receives, 0 once it is gone.",
	"pond_netdev_capture_lost":      "Frames captures of the device lost because their reader was too slow.",
	"pond_netdev_captures":          "Captures of the device open now.",
}

// metrics renders every stats value in the Prometheus text exposition
// format.
func (t *Tree) metrics() []byte {
	return renderMetrics(t.metricGroups())
}

func (t *Tree) metricGroups() []metricGroup {
	pools := metricGroup{prefix: "pond_pool_", label: "size"}
	for _, p := range t.pond.Pools() {
		pools.members = append(pools.members, metricMember{strconv.Itoa(p.Size()), withoutField(p.Stats().Fields(), "buf_size")})
	}
	accounts := metricGroup{prefix: "pond_account_", label: "account"}
	for _, a := range t.pond.Accounts() {
		accounts.members = append(accounts.members, metricMember{a.Name(), a.Stats().Fields()})
	}
	devices := metricGroup{prefix: "pond_netdev_", label: "device"}
	for _, d := range t.devices {
		devices.members = append(devices.members, metricMember{d.port.Name(), d.fields()})
	}
	top := metricGroup{prefix: "pond_", members: []metricMember{{fields: t.totals()}}}
	return []metricGroup{top, pools, accounts, devices}
}

// withoutField drops the field a label already carries.
func withoutField(fields []pond.Field, name string) []pond.Field {
	out := fields[:0:0]
	for _, f := range fields {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}

// renderMetrics writes each metric's HELP and TYPE once, then one sample
// per member, so that every family is contiguous as the format requires.
func renderMetrics(groups []metricGroup) []byte {
	var b bytes.Buffer
	for _, g := range groups {
		for i, f := range firstFields(g) {
			name, typ := g.prefix+f.Name, "gauge"
			if counters[f.Name] {
				typ = "counter"
			}
			metric := name
			if typ == "counter" {
				metric += "_total"
			}
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", metric, help(name), metric, typ)
			for _, m := range g.members {
				fmt.Fprintf(&b, "%s%s %d\n", metric, labels(g.label, m.label), m.fields[i].Value)
			}
		}
	}
	return b.Bytes()
}

// firstFields are the fields of g's first member. Every member of a group
// is the same kind of snapshot, so they all have these, in this order; a
// group without members renders nothing.
func firstFields(g metricGroup) []pond.Field {
	if len(g.members) == 0 {
		return nil
	}
	return g.members[0].fields
}

func help(name string) string {
	if h, ok := metricHelp[name]; ok {
		return h
	}
	return strings.ReplaceAll(name, "_", " ") + "."
}

// labels renders {name="value"}, escaping the value as the format wants.
func labels(name, value string) string {
	if name == "" {
		return ""
	}
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(value)
	return fmt.Sprintf(`{%s="%s"}`, name, esc)
}
