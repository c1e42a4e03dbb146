// Package validate checks data against expectations: data contracts
// (expected columns and types, value ranges, allowed categories, missing
// shares, uniqueness, row counts; written as YAML) and distribution checks
// against a reference profile (drift), with a Report of findings graded by
// severity.
//
// Drift follows Evidently's defaults so users recognise the numbers. With a
// reference of at most 1000 rows: the two-sample Kolmogorov–Smirnov test for
// numeric columns (exact p-value for samples up to 10,000 values, like
// scipy's ks_2samp method="auto", otherwise the asymptotic Kolmogorov
// distribution with Stephens' finite-sample correction), the chi-square test
// for categorical columns and the two-proportion z-test for binary ones,
// drifted when p < 0.05. With a larger reference: the Wasserstein distance
// normed by the reference's (population) standard deviation for numeric
// columns and the Jensen–Shannon distance (natural log, as scipy) for
// categorical ones, drifted when ≥ 0.1. PSI is available (drifted ≥ 0.1). A
// data set drifts when at least half its columns drift. Every method and
// threshold can be overridden per column.
//
// One deliberate difference from Evidently: the chi-square test is the test
// of homogeneity of the 2×k table (scipy.stats.chi2_contingency without
// continuity correction), not a goodness-of-fit test that treats the
// reference shares as exact; the latter raises far more than 5% false alarms
// when both samples are of similar size.
//
// The reference is a *profile.Profile, so monitoring can test drift against
// the profile stored in a model bundle without the training data: small
// references keep their raw values (Numeric.Sample), large ones their
// quantile grid, histogram and category counts.
package validate
