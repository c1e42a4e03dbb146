package kmeans_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/kmeans"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func TestConformance(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner {
		l := kmeans.New()
		l.K = 3
		l.Seed = 2
		return l
	}})
}

// blobs returns n points around k well separated centres.
func blobs(n, k int) (*learn.Dataset, []int) {
	r := rand.New(rand.NewPCG(1, 2))
	X := frame.NewMatrix(n, 2)
	truth := make([]int, n)
	for i := 0; i < n; i++ {
		c := i % k
		truth[i] = c
		X.Set(i, 0, float64(c*10)+r.NormFloat64())
		X.Set(i, 1, float64((c%2)*10)+r.NormFloat64())
	}
	return &learn.Dataset{X: X, Task: learn.Clustering, Features: []learn.Feature{{Name: "x"}, {Name: "y"}}}, truth
}

func TestRecoversBlobs(t *testing.T) {
	d, truth := blobs(600, 4)
	l := kmeans.New()
	l.K = 4
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	pred, _ := m.Predict(d.X)
	// Each true cluster maps to exactly one predicted cluster.
	mapping := map[int]float64{}
	for i, c := range truth {
		if p, ok := mapping[c]; ok && p != pred[i] {
			t.Fatalf("row %d: true cluster %d split across predicted clusters", i, c)
		}
		mapping[c] = pred[i]
	}
	km := m.(*kmeans.Model)
	if km.Silhouette < 0.6 {
		t.Errorf("silhouette %.3f, want ≥ 0.6", km.Silhouette)
	}
}

func TestBadParams(t *testing.T) {
	d, _ := blobs(20, 2)
	learntest.Refuses(t, func() learn.Learner { return kmeans.New() }, d, [][2]string{{"n_clusters", "0"}, {"n_clusters", "21"}, {"n_init", "0"}, {"max_iter", "0"}, {"tol", "-1"}})
}

func ExampleKMeans() {
	d, _ := blobs(300, 3)
	l := kmeans.New()
	l.K = 3
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		fmt.Println(err)
		return
	}
	km := m.(*kmeans.Model)
	fmt.Printf("%d clusters, silhouette above 0.5: %v\n", km.K, km.Silhouette > 0.5)
	// Output: 3 clusters, silhouette above 0.5: true
}
