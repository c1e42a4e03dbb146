#!/usr/bin/env python3
"""Makes the model-import fixtures: XGBoost models (JSON and UBJ) and a
LightGBM text model, each with the originals' predictions on held-out rows.

Run with Debian's python3 (xgboost 1.7, scikit-learn 1.2, pandas):

    /usr/bin/python3 testdata/modelimport/make_fixtures.py [DATASETS_DIR]

DATASETS_DIR (default ../shared/datasets) holds the pima_diabetes, penguins
and auto_mpg train/test CSVs. Outputs go next to this script:

  pima.csv, penguins.csv, auto_mpg.csv   the held-out rows (missing = empty)
  xgb_binary.{json,ubj}   binary:logistic on pima (zeros that mean "not
                          measured" made missing), base_score 0.35
  xgb_multi.{json,ubj}    multi:softprob on penguins (3 species)
  xgb_reg.json            reg:squarederror on auto_mpg (base_score 0.5)
  xgb_dart.json           reg:squarederror, dart booster (weight_drop)
  xgb_poisson.json        count:poisson on auto_mpg's cylinders
  credit.csv, credit_codes.csv, credit_levels.json
                          credit_g's held-out rows with category names, the
                          same rows as pandas category codes, and the
                          categories of each text column in code order
  xgb_categorical.{json,ubj}  binary:logistic with native categorical
                          partition splits (enable_categorical,
                          max_cat_to_onehot=1) on credit_g
  penguins_cat.csv, xgb_onehot.json  multi:softprob with one-hot
                          categorical splits on penguins' island and sex
  *.pred.csv              the originals' predictions: margin per output and
                          the transformed prediction per output, repr'd
  lgb_binary.txt          a LightGBM v3 text model (see below)
  lgb_categorical.txt, credit_lgb.csv  the same with categorical splits
                          (cat_boundaries, cat_threshold) and
                          pandas_categorical, from a HistGradientBoosting
                          model with native categorical features
  hgb_multi_double.onnx   a TreeEnsembleClassifier (SOFTMAX, double input,
                          *_as_tensor doubles) of a scikit-learn
                          HistGradientBoostingClassifier on penguins;
                          reference: sklearn's predict_proba
  hgb_reg_float.onnx      a TreeEnsembleRegressor over float (BRANCH_GT
                          nodes) of a HistGradientBoostingRegressor on
                          auto_mpg; reference: onnxruntime (ort_ref.js)
  hgb_binary_cast.onnx    double input, Cast to float, a binary
                          TreeEnsembleClassifier (LOGISTIC, BRANCH_LT nodes)
                          on pima; reference: onnxruntime (ort_ref.js)

The ONNX graphs are written with the onnx package's helpers (python3-onnx;
no skl2onnx in Debian). The onnxruntime references come from
ort_ref.js, run with npm's onnxruntime-node@1.30.0:

    (cd /tmp/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
    NODE_PATH=/tmp/ort/node_modules node testdata/modelimport/ort_ref.js

LightGBM is not installed here (no python3-lightgbm in Debian 12), so
lgb_binary.txt is written by this script from the LightGBM text format
("tree", version=v3, Tree=N blocks with split_feature, threshold,
decision_type, left_child/right_child as ~leaf, leaf_value, ...): the trees
are those of a scikit-learn HistGradientBoostingClassifier, whose splits
have LightGBM's semantics (x <= threshold in double, a learned side for
missing values), so sklearn's predict_proba is the reference.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
import onnx
from onnx import TensorProto, helper
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "categorical" else os.path.join(HERE, "..", "..", "..", "shared", "datasets")


def load(name):
    tr = pd.read_csv(os.path.join(DATA, name, name + ".train.csv"))
    te = pd.read_csv(os.path.join(DATA, name, name + ".test.csv"))
    return tr, te


def write_rows(df, name):
    df.to_csv(os.path.join(HERE, name), index=False, float_format="%.17g")


def write_preds(name, margin, pred):
    margin = np.asarray(margin, dtype=np.float64).reshape(len(margin), -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    cols = [f"margin{j}" for j in range(margin.shape[1])] + [f"pred{j}" for j in range(pred.shape[1])]
    with open(os.path.join(HERE, name), "w") as f:
        f.write(",".join(cols) + "\n")
        for m, p in zip(margin, pred):
            f.write(",".join(repr(float(v)) for v in list(m) + list(p)) + "\n")


def save(bst, stem, ubj=False):
    bst.save_model(os.path.join(HERE, stem + ".json"))
    if ubj:
        bst.save_model(os.path.join(HERE, stem + ".ubj"))


def xgb_fixtures():
    # Binary: pima. A zero glucose, pressure, skin fold, insulin or BMI means
    # "not measured": make it missing so default directions are learned.
    tr, te = load("pima_diabetes")
    for c in ["glucose", "blood_pressure", "skin_thickness", "insulin", "bmi"]:
        tr[c] = tr[c].replace(0, np.nan)
        te[c] = te[c].replace(0, np.nan)
    feats = [c for c in tr.columns if c != "class"]
    write_rows(te, "pima.csv")
    dtr = xgb.DMatrix(tr[feats], label=tr["class"], feature_names=feats)
    dte = xgb.DMatrix(te[feats], feature_names=feats)
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "base_score": 0.35,
                     "tree_method": "hist", "seed": 0}, dtr, num_boost_round=30)
    save(bst, "xgb_binary", ubj=True)
    write_preds("xgb_binary.pred.csv", bst.predict(dte, output_margin=True), bst.predict(dte))

    # Multiclass: penguins' four measurements (with their missing values).
    tr, te = load("penguins")
    feats = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    species = sorted(tr["species"].unique())
    write_rows(te[feats + ["species"]], "penguins.csv")
    ytr = tr["species"].map({s: i for i, s in enumerate(species)})
    dtr = xgb.DMatrix(tr[feats], label=ytr, feature_names=feats)
    dte = xgb.DMatrix(te[feats], feature_names=feats)
    bst = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3,
                     "tree_method": "hist", "seed": 0}, dtr, num_boost_round=10)
    save(bst, "xgb_multi", ubj=True)
    write_preds("xgb_multi.pred.csv", bst.predict(dte, output_margin=True), bst.predict(dte))

    # Regression: auto_mpg (horsepower has missing values).
    tr, te = load("auto_mpg")
    feats = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year"]
    write_rows(te[feats + ["mpg"]], "auto_mpg.csv")
    dtr = xgb.DMatrix(tr[feats], label=tr["mpg"], feature_names=feats)
    dte = xgb.DMatrix(te[feats], feature_names=feats)
    bst = xgb.train({"objective": "reg:squarederror", "max_depth": 4, "eta": 0.3, "tree_method": "hist",
                     "seed": 0}, dtr, num_boost_round=30)
    save(bst, "xgb_reg")
    write_preds("xgb_reg.pred.csv", bst.predict(dte, output_margin=True), bst.predict(dte))

    bst = xgb.train({"objective": "reg:squarederror", "booster": "dart", "rate_drop": 0.3, "max_depth": 3,
                     "eta": 0.3, "tree_method": "hist", "seed": 0}, dtr, num_boost_round=10)
    save(bst, "xgb_dart")
    write_preds("xgb_dart.pred.csv", bst.predict(dte, output_margin=True), bst.predict(dte))

    dtr = xgb.DMatrix(tr[feats[1:]], label=tr["cylinders"], feature_names=feats[1:])
    dte = xgb.DMatrix(te[feats[1:]], feature_names=feats[1:])
    bst = xgb.train({"objective": "count:poisson", "max_depth": 3, "eta": 0.3, "tree_method": "hist",
                     "seed": 0}, dtr, num_boost_round=10)
    save(bst, "xgb_poisson")
    write_preds("xgb_poisson.pred.csv", bst.predict(dte, output_margin=True), bst.predict(dte))

    xgb_categorical()


def categorical_frame(tr, te, missing_every=7):
    """credit_g's text columns as pandas categories (training categories,
    sorted), with every missing_every-th held-out row's first category
    missing so default directions are exercised."""
    feats = [c for c in tr.columns if c != "class"]
    cats = [c for c in feats if tr[c].dtype == object]
    for c in cats:
        dt = pd.CategoricalDtype(sorted(tr[c].unique()))
        tr[c] = tr[c].astype(dt)
        te[c] = te[c].astype(dt)
    for k, c in enumerate(cats):
        te.loc[te.index[k::missing_every], c] = np.nan
    return feats, cats


def xgb_categorical():
    # Native categorical splits (enable_categorical) on credit_g: partition
    # splits (max_cat_to_onehot=1) for a binary model, one-hot splits for
    # a multiclass one on penguins' island and sex.
    tr, te = load("credit_g")
    feats, cats = categorical_frame(tr, te)
    rows = te[feats + ["class"]]
    write_rows(rows, "credit.csv")
    codes = rows.copy()
    for c in cats:
        codes[c] = codes[c].cat.codes.replace(-1, np.nan)
    write_rows(codes, "credit_codes.csv")
    with open(os.path.join(HERE, "credit_levels.json"), "w") as f:
        json.dump({c: [str(v) for v in tr[c].cat.categories] for c in cats}, f, indent=1)
    dtr = xgb.DMatrix(tr[feats], label=(tr["class"] == "good").astype(int), enable_categorical=True)
    dte = xgb.DMatrix(te[feats], enable_categorical=True)
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "tree_method": "hist",
                     "max_cat_to_onehot": 1, "seed": 0}, dtr, num_boost_round=20)
    save(bst, "xgb_categorical", ubj=True)
    write_preds("xgb_categorical.pred.csv", bst.predict(dte, output_margin=True), bst.predict(dte))

    tr, te = load("penguins")
    feats = ["island", "sex", "bill_length_mm", "flipper_length_mm"]
    for c in ["island", "sex"]:
        dt = pd.CategoricalDtype(sorted(tr[c].dropna().unique()))
        tr[c] = tr[c].astype(dt)
        te[c] = te[c].astype(dt)
    species = sorted(tr["species"].unique())
    write_rows(te[feats + ["species"]], "penguins_cat.csv")
    ytr = tr["species"].map({s: i for i, s in enumerate(species)})
    dtr = xgb.DMatrix(tr[feats], label=ytr, enable_categorical=True)
    dte = xgb.DMatrix(te[feats], enable_categorical=True)
    bst = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3,
                     "tree_method": "hist", "seed": 0}, dtr, num_boost_round=10)
    save(bst, "xgb_onehot")
    write_preds("xgb_onehot.pred.csv", bst.predict(dte, output_margin=True), bst.predict(dte))


def write_lgb(clf, feats, infos, name, categories=None):
    """Writes a HistGradientBoostingClassifier's trees as the LightGBM v3 text
    model name.txt: numeric splits send NaN to the learned side; categorical
    ones (cat_boundaries, cat_threshold) send the bitset's codes left;
    categories is pandas_categorical (None: null)."""
    base = float(np.ravel(clf._baseline_prediction)[0])
    blocks, sizes = [], []
    for i, (pred,) in enumerate(clf._predictors):
        nodes = pred.nodes
        internal = [j for j in range(len(nodes)) if not nodes[j]["is_leaf"]]
        leaves = [j for j in range(len(nodes)) if nodes[j]["is_leaf"]]
        ii = {j: k for k, j in enumerate(internal)}
        li = {j: k for k, j in enumerate(leaves)}

        def child(j):
            return ii[j] if not nodes[j]["is_leaf"] else -(li[j] + 1)

        vals = [float(nodes[j]["value"]) for j in leaves]
        if i == 0:
            # LightGBM has no base score: boost_from_average folds it into
            # the first tree's leaves.
            vals = [v + base for v in vals]
        # decision_type: bit 0 categorical, bit 1 default_left, bits 2-3
        # missing type (2 = NaN).
        thr, dt, bounds, words = [], [], [0], []
        for j in internal:
            nd = nodes[j]
            if nd["is_categorical"]:
                w = [int(x) for x in pred.raw_left_cat_bitsets[nd["bitset_idx"]]]
                while len(w) > 1 and w[-1] == 0:
                    w.pop()
                thr.append(str(len(bounds) - 1))
                words += w
                bounds.append(len(words))
                dt.append(1 | (2 << 2))
            else:
                thr.append(repr(float(nd["num_threshold"])))
                dt.append((2 if nd["missing_go_to_left"] else 0) | (2 << 2))
        lines = [f"Tree={i}", f"num_leaves={len(leaves)}", f"num_cat={len(bounds) - 1}",
                 "split_feature=" + " ".join(str(int(nodes[j]["feature_idx"])) for j in internal),
                 "split_gain=" + " ".join(repr(float(nodes[j]["gain"])) for j in internal),
                 "threshold=" + " ".join(thr),
                 "decision_type=" + " ".join(str(d) for d in dt),
                 "left_child=" + " ".join(str(child(int(nodes[j]["left"]))) for j in internal),
                 "right_child=" + " ".join(str(child(int(nodes[j]["right"]))) for j in internal),
                 "leaf_value=" + " ".join(repr(v) for v in vals),
                 "leaf_weight=" + " ".join(repr(float(nodes[j]["count"])) for j in leaves),
                 "leaf_count=" + " ".join(str(int(nodes[j]["count"])) for j in leaves),
                 "internal_value=" + " ".join(repr(float(nodes[j]["value"])) for j in internal),
                 "internal_weight=" + " ".join(repr(float(nodes[j]["count"])) for j in internal),
                 "internal_count=" + " ".join(str(int(nodes[j]["count"])) for j in internal)]
        if len(bounds) > 1:
            lines += ["cat_boundaries=" + " ".join(str(b) for b in bounds),
                      "cat_threshold=" + " ".join(str(w) for w in words)]
        lines += ["is_linear=0", "shrinkage=0.2", "", ""]
        block = "\n".join(lines)
        blocks.append(block)
        sizes.append(len(block) + 1)
    head = ["tree", "version=v3", "num_class=1", "num_tree_per_iteration=1", "label_index=0",
            f"max_feature_idx={len(feats) - 1}", "objective=binary sigmoid:1",
            "feature_names=" + " ".join(feats), "feature_infos=" + " ".join(infos),
            "tree_sizes=" + " ".join(str(s) for s in sizes), "", ""]
    with open(os.path.join(HERE, name + ".txt"), "w") as f:
        f.write("\n".join(head))
        f.write("\n".join(blocks))
        f.write("\nend of trees\n\nfeature_importances:\n\nparameters:\n[boosting: gbdt]\n"
                "[objective: binary]\nend of parameters\n\npandas_categorical:")
        f.write(json.dumps(categories) + "\n")


def lgb_fixture():
    # HistGradientBoosting's trees written as a LightGBM v3 text model.
    tr, te = load("pima_diabetes")
    for c in ["glucose", "blood_pressure", "skin_thickness", "insulin", "bmi"]:
        tr[c] = tr[c].replace(0, np.nan)
        te[c] = te[c].replace(0, np.nan)
    feats = [c for c in tr.columns if c != "class"]
    clf = HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=8, learning_rate=0.2, random_state=0)
    clf.fit(tr[feats].to_numpy(), tr["class"].to_numpy())
    infos = []
    for j in range(len(feats)):
        col = tr[feats[j]].dropna()
        infos.append(f"[{col.min():g}:{col.max():g}]")
    write_lgb(clf, feats, infos, "lgb_binary")
    X = te[feats].to_numpy()
    write_preds("lgb_binary.pred.csv", clf.decision_function(X), clf.predict_proba(X)[:, 1])


def lgb_categorical():
    # A LightGBM text model with categorical splits (cat_boundaries,
    # cat_threshold, decision_type bit 0) and pandas_categorical, from a
    # scikit-learn HistGradientBoostingClassifier with native categorical
    # features on credit_g, whose categorical splits have LightGBM's
    # semantics (codes in the bitset go left, others right). LightGBM sends
    # NaN right at a categorical split, while sklearn learns a side, so the
    # held-out rows here have no missing categories; unseen codes (beyond
    # the training categories) are none either. Reference:
    # sklearn's predict_proba.
    tr, te = load("credit_g")
    feats = [c for c in tr.columns if c != "class"]
    cats = [c for c in feats if tr[c].dtype == object]
    levels = {c: sorted(tr[c].unique()) for c in cats}
    te = te[te[cats].apply(lambda r: all(r[c] in levels[c] for c in cats), axis=1)].copy()
    enc = lambda df: np.column_stack([df[c].map({v: i for i, v in enumerate(levels[c])}).to_numpy(float)
                                      if c in cats else df[c].to_numpy(float) for c in feats])
    Xtr, Xte = enc(tr), enc(te)
    mask = np.array([c in cats for c in feats])
    clf = HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=8, learning_rate=0.2, random_state=0,
                                         categorical_features=mask)
    clf.fit(Xtr, (tr["class"] == "good").astype(int).to_numpy())
    infos = []
    for j, c in enumerate(feats):
        if c in cats:
            infos.append(":".join(str(k) for k in range(len(levels[c]))))
        else:
            infos.append(f"[{tr[c].min():g}:{tr[c].max():g}]")
    write_lgb(clf, feats, infos, "lgb_categorical", [levels[c] for c in cats])
    write_rows(te[feats + ["class"]], "credit_lgb.csv")
    write_preds("lgb_categorical.pred.csv", clf.decision_function(Xte), clf.predict_proba(Xte)[:, 1])


def onnx_ensemble(op, predictors, classes, base, mode, f32, post, n_features):
    """predictors: [(tree, output id)]; mode: how a split is written."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                         "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                         "w_treeids", "w_nodeids", "w_ids", "w_weights"]}
    for tid, (pred, out) in enumerate(predictors):
        for j, nd in enumerate(pred.nodes):
            a["nodes_treeids"].append(tid)
            a["nodes_nodeids"].append(j)
            if nd["is_leaf"]:
                a["nodes_featureids"].append(0)
                a["nodes_values"].append(0.0)
                a["nodes_modes"].append("LEAF")
                a["nodes_truenodeids"].append(0)
                a["nodes_falsenodeids"].append(0)
                a["nodes_missing_value_tracks_true"].append(0)
                a["w_treeids"].append(tid)
                a["w_nodeids"].append(j)
                a["w_ids"].append(out)
                a["w_weights"].append(float(nd["value"]))
                continue
            t, left, right, ml = float(nd["num_threshold"]), int(nd["left"]), int(nd["right"]), bool(nd["missing_go_to_left"])
            a["nodes_featureids"].append(int(nd["feature_idx"]))
            if mode == "BRANCH_LEQ":
                a["nodes_values"].append(t)
                tr, fa, mt = left, right, ml
            elif mode == "BRANCH_GT":  # x > t: the true branch is sklearn's right
                a["nodes_values"].append(t)
                tr, fa, mt = right, left, not ml
            else:  # BRANCH_LT on the float32 above t: x < next(t) ⟺ x <= t in float32
                a["nodes_values"].append(float(np.nextafter(np.float32(t), np.float32(np.inf))))
                tr, fa, mt = left, right, ml
            a["nodes_modes"].append(mode)
            a["nodes_truenodeids"].append(tr)
            a["nodes_falsenodeids"].append(fa)
            a["nodes_missing_value_tracks_true"].append(int(mt))
    pre = "class_" if op == "TreeEnsembleClassifier" else "target_"
    attrs = dict(nodes_treeids=a["nodes_treeids"], nodes_nodeids=a["nodes_nodeids"],
                 nodes_featureids=a["nodes_featureids"], nodes_modes=a["nodes_modes"],
                 nodes_truenodeids=a["nodes_truenodeids"], nodes_falsenodeids=a["nodes_falsenodeids"],
                 nodes_missing_value_tracks_true=a["nodes_missing_value_tracks_true"],
                 post_transform=post)
    attrs[pre + "treeids"] = a["w_treeids"]
    attrs[pre + "nodeids"] = a["w_nodeids"]
    attrs[pre + "ids"] = a["w_ids"]
    if f32:
        attrs["nodes_values"] = [float(np.float32(v)) for v in a["nodes_values"]]
        attrs[pre + "weights"] = a["w_weights"]
        attrs["base_values"] = list(base)
    else:
        dbl = lambda name, v: helper.make_tensor(name, TensorProto.DOUBLE, [len(v)], list(v))
        attrs["nodes_values_as_tensor"] = dbl("nodes_values", a["nodes_values"])
        attrs[pre + "weights_as_tensor"] = dbl("weights", a["w_weights"])
        attrs["base_values_as_tensor"] = dbl("base_values", list(base))
    if op == "TreeEnsembleClassifier":
        attrs["classlabels_strings"] = classes
        outs = ["label", "probabilities"]
    else:
        attrs["n_targets"] = 1
        attrs["aggregate_function"] = "SUM"
        outs = ["variable"]
    return helper.make_node(op, ["X" if not f32 or op != "TreeEnsembleClassifier" else "Xf"], outs,
                            domain="ai.onnx.ml", name="ensemble", **attrs), outs


def save_onnx(name, nodes, in_type, p, outs, out_types):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("X", in_type, [None, p])],
                          [helper.make_tensor_value_info(o, t, s) for o, (t, s) in zip(outs, out_types)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
                          producer_name="make_fixtures.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(HERE, name))


def onnx_fixtures():
    # Multiclass, double input: sklearn's probabilities are the reference.
    tr, te = load("penguins")
    feats = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    clf = HistGradientBoostingClassifier(max_iter=10, max_leaf_nodes=6, learning_rate=0.3, random_state=0)
    clf.fit(tr[feats].to_numpy(), tr["species"].to_numpy())
    preds = [(pr, c) for it in clf._predictors for c, pr in enumerate(it)]
    base = np.ravel(clf._baseline_prediction).tolist()
    node, outs = onnx_ensemble("TreeEnsembleClassifier", preds, [str(c) for c in clf.classes_], base,
                               "BRANCH_LEQ", False, "SOFTMAX", len(feats))
    save_onnx("hgb_multi_double.onnx", [node], TensorProto.DOUBLE, len(feats), outs,
              [(TensorProto.STRING, [None]), (TensorProto.FLOAT, [None, 3])])
    X = te[feats].to_numpy()
    write_preds("hgb_multi_double.pred.csv", np.zeros((len(X), 0)), clf.predict_proba(X))

    # Regression over float, BRANCH_GT nodes (reference: onnxruntime).
    tr, te = load("auto_mpg")
    feats = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year"]
    reg = HistGradientBoostingRegressor(max_iter=15, max_leaf_nodes=8, learning_rate=0.3, random_state=0)
    reg.fit(tr[feats].to_numpy(), tr["mpg"].to_numpy())
    preds = [(it[0], 0) for it in reg._predictors]
    node, outs = onnx_ensemble("TreeEnsembleRegressor", preds, None, [float(np.ravel(reg._baseline_prediction)[0])],
                               "BRANCH_GT", True, "NONE", len(feats))
    save_onnx("hgb_reg_float.onnx", [node], TensorProto.FLOAT, len(feats), outs, [(TensorProto.FLOAT, [None, 1])])

    # Binary: double input cast to float, BRANCH_LT nodes, LOGISTIC.
    tr, te = load("pima_diabetes")
    for c in ["glucose", "blood_pressure", "skin_thickness", "insulin", "bmi"]:
        tr[c] = tr[c].replace(0, np.nan)
    feats = [c for c in tr.columns if c != "class"]
    clf = HistGradientBoostingClassifier(max_iter=15, max_leaf_nodes=8, learning_rate=0.3, random_state=0)
    clf.fit(tr[feats].to_numpy(), tr["class"].to_numpy())
    preds = [(it[0], 0) for it in clf._predictors]
    node, outs = onnx_ensemble("TreeEnsembleClassifier", preds, ["negative", "positive"],
                               [float(np.ravel(clf._baseline_prediction)[0])], "BRANCH_LT", True, "LOGISTIC", len(feats))
    cast = helper.make_node("Cast", ["X"], ["Xf"], to=TensorProto.FLOAT, name="cast")
    save_onnx("hgb_binary_cast.onnx", [cast, node], TensorProto.DOUBLE, len(feats), outs,
              [(TensorProto.STRING, [None]), (TensorProto.FLOAT, [None, 2])])


if __name__ == "__main__":
    if sys.argv[-1] == "categorical":
        xgb_categorical()
        lgb_categorical()
        sys.exit()
    xgb_fixtures()
    lgb_fixture()
    lgb_categorical()
    onnx_fixtures()
