package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrationsDialectFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0001_init.sql":             {Data: []byte("CREATE TABLE a (x BIGINT);")},
		"m/0002_log.sql":              {Data: []byte("CREATE TABLE b (x BIGINT);")},
		"m/0002_log.sqlite.sql":       {Data: []byte("-- sqlite trigger")},
		"m/0002_log.postgres.sql":     {Data: []byte("-- postgres trigger")},
		"m/0003_only_pg.postgres.sql": {Data: []byte("-- pg only")},
	}
	ms, err := loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[1].Version != 2 || ms[1].Name != "log" || ms[1].Dialects[SQLite] != "-- sqlite trigger" ||
		ms[1].Dialects[Postgres] != "-- postgres trigger" || ms[2].SQL != "" || ms[2].Dialects[Postgres] != "-- pg only" {
		t.Fatalf("got %+v", ms)
	}
	delete(fsys, "m/0002_log.sqlite.sql")
	fsys["m/0002_other.sqlite.sql"] = &fstest.MapFile{Data: []byte("x")}
	if _, err := loadMigrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), "disagree on the name") {
		t.Fatalf("mismatched names: got %v", err)
	}
}
