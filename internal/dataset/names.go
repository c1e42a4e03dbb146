package dataset

import (
	"context"
	"fmt"
	"time"
)

// Info is a data set: its name, latest version and when it was created.
type Info struct {
	Name          string    `json:"name"`
	LatestVersion int64     `json:"latest_version"`
	Created       time.Time `json:"created"`
}

// Datasets lists every data set, by name.
func (c *Catalog) Datasets(ctx context.Context) ([]Info, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT name, latest_version, created_ms FROM datasets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list data sets: %w", err)
	}
	defer rows.Close()
	out := []Info{}
	for rows.Next() {
		var d Info
		var ms int64
		if err := rows.Scan(&d.Name, &d.LatestVersion, &ms); err != nil {
			return nil, fmt.Errorf("list data sets: %w", err)
		}
		d.Created = time.UnixMilli(ms).UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list data sets: %w", err)
	}
	return out, nil
}
