package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	text := `22 1 0:21 / /proc rw,nosuid - proc proc rw
61 22 0:38 / /tmp/with\040space rw,nosuid,nodev,relatime shared:5 master:1 - fuse.pond pond rw,user_id=0,group_id=0,default_permissions
`
	got, err := parseMountinfo(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountEntry{{"/proc", "proc", "proc"}, {"/tmp/with space", "fuse.pond", "pond"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("parseMountinfo = %+v, want %+v", got, want)
	}
	if _, err := parseMountinfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Error("a malformed line was accepted")
	}
}

func TestPrepareMountPoint(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mp, err := prepareMountPoint(filepath.Join(base, "new"), nil)
	if err != nil || !mp.made {
		t.Errorf("a missing directory: %+v, %v; want it made", mp, err)
	}
	if mp, err := prepareMountPoint(base, nil); err != nil || mp.made {
		t.Errorf("an existing directory: %+v, %v", mp, err)
	}
	for dir, want := range map[string]string{
		file:                              "not a directory",
		filepath.Join(base, "no", "such"): "parent directory",
		filepath.Join(file, "below"):      "not a directory",
	} {
		if _, err := prepareMountPoint(dir, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it to say %q", dir, err, want)
		}
	}
}
