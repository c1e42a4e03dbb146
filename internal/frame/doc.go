// Package frame is Gyre's columnar table: typed columns with missing-value
// tracking, a schema with column roles, cheap row views and the dense numeric
// matrix that learners consume.
//
// A Frame owns its columns; columns own their value slices. Operations that
// select rows or columns (Take, Select) return new frames that share nothing
// mutable with the original unless documented otherwise: View is the one cheap
// exception, holding only an index slice over a parent frame.
//
// Missing values are tracked per column by a Validity bitmap (nil means every
// value is present). The value stored under a missing entry is the zero value
// of the column type and must not be read as data. Categorical columns encode
// a missing value as code -1 instead.
package frame
