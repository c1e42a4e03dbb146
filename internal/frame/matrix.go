package frame

import "fmt"

// Matrix is a dense, feature-major (column-major) float64 matrix: the numeric
// design matrix learners consume. Missing values are NaN. Column j occupies
// Data[j*Rows : (j+1)*Rows].
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// NewMatrix allocates a zero rows×cols matrix.
func NewMatrix(rows, cols int) *Matrix {
	return &Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// At returns element (i, j).
func (m *Matrix) At(i, j int) float64 { return m.Data[j*m.Rows+i] }

// Set sets element (i, j).
func (m *Matrix) Set(i, j int, v float64) { m.Data[j*m.Rows+i] = v }

// Col returns column j as a slice aliasing the matrix.
func (m *Matrix) Col(j int) []float64 { return m.Data[j*m.Rows : (j+1)*m.Rows] }

// Row copies row i into dst (allocated when nil or short) and returns it.
func (m *Matrix) Row(i int, dst []float64) []float64 {
	if cap(dst) < m.Cols {
		dst = make([]float64, m.Cols)
	}
	dst = dst[:m.Cols]
	for j := 0; j < m.Cols; j++ {
		dst[j] = m.Data[j*m.Rows+i]
	}
	return dst
}

// Take returns a new matrix of the given rows in order.
func (m *Matrix) Take(rows []int) *Matrix {
	out := NewMatrix(len(rows), m.Cols)
	for j := 0; j < m.Cols; j++ {
		src, dst := m.Col(j), out.Col(j)
		for k, r := range rows {
			dst[k] = src[r]
		}
	}
	return out
}

// FromRows builds a matrix from row-major data; all rows must have equal length.
func FromRows(rows [][]float64) (*Matrix, error) {
	if len(rows) == 0 {
		return &Matrix{}, nil
	}
	m := NewMatrix(len(rows), len(rows[0]))
	for i, r := range rows {
		if len(r) != m.Cols {
			return nil, fmt.Errorf("matrix from rows: row %d has %d values, want %d", i, len(r), m.Cols)
		}
		for j, v := range r {
			m.Set(i, j, v)
		}
	}
	return m, nil
}
