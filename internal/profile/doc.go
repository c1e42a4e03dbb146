// Package profile computes the statistical profile of a frame: per-column
// summaries (counts, missing values, moments, quantiles, histograms, category
// counts), data-set facts (duplicate rows, constant and ID-like columns,
// outliers), relationships between columns (Pearson, Spearman, Cramér's V,
// correlation ratio, mutual information with a target) and the warnings a
// data scientist would want flagged.
//
// A Profile is a plain value: it serialises to JSON with stable, versioned
// field names (FormatVersion) and holds no reference to the frame it was
// computed from. Besides the summaries it keeps what distribution tests need
// as a reference without the raw data, so that a model bundle can store the
// training profile and monitoring can test drift against it later:
//
//   - Numeric.Sample: every non-missing value when a column has at most
//     SampleSize of them (small references need raw values for the KS test),
//     otherwise a seeded uniform reservoir sample of SampleSize values;
//   - Numeric.QuantileGrid: the 1001 quantiles at p = 0, 0.001, …, 1 from the
//     KLL sketch, used for the Wasserstein distance on large references;
//   - Numeric.Histogram: fixed bin edges and counts (PSI, plots);
//   - Categories.Counts: full category counts up to MaxCategories (Jensen–
//     Shannon, chi-square, PSI).
//
// Computation runs one goroutine per column (bounded by GOMAXPROCS) and makes
// two cheap passes over each numeric column: the first feeds a KLL quantile
// sketch (rank error below KLLRankError with high probability; beyond
// SketchRows rows, from a stratified sample of them), a distinct
// counter (exact up to DistinctExactLimit values, then HyperLogLog with a
// standard error of about 1.6%) and a reservoir sample; the second computes
// centred moments, the histogram and outlier counts. Memory beyond the frame
// is bounded per column, except duplicate-row detection (8 bytes per row)
// and relationships, which use a seeded sample of at most RelationRows rows.
package profile
