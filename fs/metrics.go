package fs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/pondfs/pondfs/pond/stats"
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
	fields []stats.Field
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
func withoutField(fields []stats.Field, name string) []stats.Field {
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
			metric, typ := g.prefix+f.Name, "gauge"
			if f.Kind == stats.Counter {
				metric, typ = metric+"_total", "counter"
			}
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", metric, f.Help, metric, typ)
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
func firstFields(g metricGroup) []stats.Field {
	if len(g.members) == 0 {
		return nil
	}
	return g.members[0].fields
}

// labels renders {name="value"}, escaping the value as the format wants.
func labels(name, value string) string {
	if name == "" {
		return ""
	}
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(value)
	return fmt.Sprintf(`{%s="%s"}`, name, esc)
}
