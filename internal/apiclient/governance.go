package apiclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/validate"
	"github.com/gyre-ml/gyre/internal/web"
)

// SetClassification classifies a model, as registry.Registry's does.
func (r *Registry) SetClassification(ctx context.Context, name string, c validate.Classification) error {
	_, err := Call[struct{}](ctx, r.c, http.MethodPut, modelPath(name)+"/classification", nil, web.ClassifyRequest{Classification: string(c)})
	return err
}

// Classify classifies the data set version ref names (NAME is the latest),
// as dataset.Catalog's does.
func (d *Datasets) Classify(ctx context.Context, ref string, c validate.Classification) (*dataset.Version, error) {
	v, err := d.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	return Call[dataset.Version](ctx, d.c, http.MethodPut,
		fmt.Sprintf("/api/v1/datasets/%s/versions/%d/classification", url.PathEscape(v.Name), v.Version), nil, web.ClassifyRequest{Classification: string(c)})
}
