// Package bundle is Gyre's deployable model artifact: one file holding
// everything needed to predict from raw rows with nothing but the binary.
//
// A bundle is a zip archive (inspectable with any unzip tool):
//
//	manifest.json          format version, task, target, classes, input schema,
//	                       members, metrics, lineage, Gyre version, checksums
//	members/N/prep.json    member N's fitted feature preprocessing
//	members/N/model.bin    member N's model state (learn.Model.MarshalBinary)
//	profile.json           the training data profile (drift reference), optional
//	integrity.json         SHA-256 of every other entry and a digest over them,
//	                       optionally signed (see Sign and Verify)
//
// A bundle with one member is a single model; with several it is a weighted
// ensemble (probabilities or values averaged with the members' weights),
// each member with its own preprocessing. Every file's SHA-256 is recorded in
// the manifest and checked on load, so a corrupted or truncated bundle is a
// clear error, never a panic or a silently wrong model. Save writes to a
// temporary file and renames it, so a crash never leaves half a bundle.
//
// Serving one row at a time goes through RowPredictor (NewRowPredictor):
// the bundle compiled once for single-row prediction — each member's
// encoder resolved to input-field indexes and level-code maps — so a row
// is encoded straight into a reused one-row matrix. Its outputs are exactly
// Predict's; bundles whose members carry a fitted pipeline are not
// compiled and use Predict.
//
// Format versions: Save writes format 4, whose bundles always carry
// integrity.json (a format 4 bundle without it is refused). Format 2 added
// probability calibration (Manifest.Temperature, a member's Temperature or
// Smoothing) and format 3 the recipe (recipe.json, applied to raw rows
// before every member's preprocessing); format 4 holds either. Readers
// accept every version up to FormatVersion (4) and refuse newer ones with
// an error that says to upgrade; formats 1–3 load without an integrity
// record, with a warning (Bundle.Warning).
package bundle
