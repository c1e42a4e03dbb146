#!/usr/bin/env python3
"""Writes the request/response fixtures of TestProtocolFixtures.

Run from this directory: python3 make_fixtures.py (standard library only).

mlflow.json: the cases of MLflow's own scoring-server tests
(mlflow/mlflow, tests/pyfunc/test_scoring_server.py) and the rules of its
server (mlflow/pyfunc/scoring_server/__init__.py: content types, charset,
params, the messages), with MLflow's sklearn model replaced by the titanic
model the Go test serves. Bodies are built the way MLflow's tests and
client build them: the rows as pandas' DataFrame.to_dict(orient=...) gives
them (missing values as float NaN, numeric and text alike), serialised
with Python's json.dumps, which writes NaN as a bare word.

oip.json: the Open Inference Protocol's REST specification
(kserve/open-inference-protocol, specification/protocol/inference_rest.md:
the health, metadata and inference objects, the id and outputs rules, the
{"error": $string} object) and KServe's V1 data plane (/v1/models/<name>
and /v1/models/<name>:predict).

Each case: method, path, content_type, body (a string sent as is), the
status, and what the answer must hold: error_code and a message fragment
(MLflow), or keys and values of the JSON answer.
"""
import csv
import json
import math

NAN = float("nan")
COLS = ["Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked"]
NUMERIC = {"Pclass", "Age", "SibSp", "Parch", "Fare"}
# The served model's inputs in its metadata's order (GET /v2/models/titanic):
# rows sent as bare arrays (instances) follow this order (Cabin: only
# whether it is filled in, Cabin_missing, is a feature).
INPUTS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Cabin", "Embarked"]


def rows(n):
    out = []
    with open("../../../../examples/data/titanic/titanic.test.csv") as f:
        for rec in csv.DictReader(f):
            row = {}
            for c in COLS:
                v = rec[c]
                if v == "":
                    row[c] = NAN  # pandas reads every missing cell as NaN
                elif c in NUMERIC:
                    row[c] = float(v) if "." in v else int(v)
                else:
                    row[c] = v
            out.append(row)
            if len(out) == n:
                return out


def split(rs):
    # DataFrame.to_dict(orient="split")
    return {"index": list(range(len(rs))), "columns": COLS, "data": [[r[c] for c in COLS] for r in rs]}


def records(rs):
    # DataFrame.to_dict(orient="records")
    return rs


R = rows(5)
assert any(isinstance(v, float) and math.isnan(v) for r in R for v in r.values()), "want a NaN in the fixture rows"
SRC = "mlflow/mlflow tests/pyfunc/test_scoring_server.py"
SRV = "mlflow/mlflow mlflow/pyfunc/scoring_server/__init__.py"
JSON = "application/json"

mlflow = [
    dict(source=SRC + " test_scoring_server_responds_to_malformed_json_input_with_error_code_and_message",
         content_type=JSON, body="this is,,,, not valid json", status=400, error_code="BAD_REQUEST",
         message="Failed to parse input from JSON. Ensure that input is a valid JSON formatted string."),
]
for bad in [1, "1", [1]]:
    mlflow.append(dict(source=SRC + " test_scoring_server_responds_to_invalid_json_format_with_error_code_and_message",
                       content_type=JSON, body=json.dumps(bad), status=400, error_code="BAD_REQUEST",
                       message="The input must be a JSON dictionary with exactly one of the input fields"))
for bad in [{"not": "a serialized dataframe"}, {"dataframe_records": [], "dataframe_split": {"data": []}}]:
    mlflow.append(dict(source=SRC + " test_scoring_server_responds_to_invalid_json_format_with_error_code_and_message",
                       content_type=JSON, body=json.dumps(bad), status=400, error_code="BAD_REQUEST",
                       message="The input must be a JSON dictionary with exactly one of the input fields"))
mlflow += [
    dict(source=SRC + " test_scoring_server_responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code",
         content_type=JSON, body=json.dumps({"dataframe_split": records(R)}), status=400, error_code="BAD_REQUEST",
         message="Dataframe split format must be a dictionary. Got list"),
    dict(source=SRC + " test_scoring_server_responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code",
         content_type=JSON, body=json.dumps({"dataframe_records": split(R)}), status=400, error_code="BAD_REQUEST",
         message="Dataframe records format must be a list of records. Got dictionary."),
    dict(source=SRC + " test_scoring_server_responds_to_invalid_dataframe_with_stacktrace_and_error_code",
         content_type=JSON, body=json.dumps({"dataframe_split": {"index": [1, 2], "data": [[1], [2], [3]]}}),
         status=400, error_code="BAD_REQUEST",
         message="Provided dataframe_split field is not a valid dataframe representation"),
    dict(source=SRC + " test_scoring_server_responds_to_invalid_csv_input_with_stacktrace_and_error_code",
         content_type="text/csv", body="", status=400, error_code="BAD_REQUEST", message=""),
    dict(source=SRC + " test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_records_orientation",
         content_type=JSON, body=json.dumps({"dataframe_records": records(R)}), status=200, predictions=len(R)),
    dict(source=SRC + " test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_records_orientation (charset)",
         content_type=JSON + "; charset=UTF-8", body=json.dumps({"dataframe_records": records(R)}), status=200, predictions=len(R)),
    dict(source=SRC + " test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_split_orientation",
         content_type=JSON + "; charset=UTF-8", body=json.dumps({"dataframe_split": split(R)}), status=200, predictions=len(R)),
    dict(source=SRC + " (one row, as MLflow's client sends a single prediction)",
         content_type=JSON, body=json.dumps({"dataframe_split": split(R[:1])}), status=200, predictions=1),
    dict(source=SRC + " test_scoring_server_responds_to_invalid_content_type_request_with_unsupported_content_type_code",
         content_type="not_a_supported_content_type", body=json.dumps({"dataframe_split": split(R)}), status=415,
         message="This predictor only supports the following content types"),
    dict(source=SRC + " test_scoring_server_responds_to_invalid_content_type_request_with_unrecognized_content_param",
         content_type=JSON + "; something=something", body=json.dumps({"dataframe_split": split(R)}), status=415,
         message="Unrecognized content type parameters: something"),
    dict(source=SRV + " invocations(): charset other than UTF-8",
         content_type=JSON + "; charset=latin-1", body=json.dumps({"dataframe_split": split(R)}), status=415,
         message="The scoring server only supports UTF-8"),
    dict(source=SRC + " test_scoring_server_successfully_evaluates_correct_tf_serving_sklearn",
         content_type=JSON, body=json.dumps({"instances": [[r[c] for c in INPUTS] for r in R]}), status=200, predictions=len(R)),
    dict(source=SRC + " test_serving_model_with_schema ('inputs' format, to_dict(orient='list'))",
         content_type=JSON, body=json.dumps({"inputs": {c: [r[c] for r in R] for c in COLS}}), status=200, predictions=len(R)),
    dict(source=SRC + " test_serving_model_with_param_schema (no params)",
         content_type=JSON + "; charset=UTF-8", body=json.dumps({"dataframe_split": split(R)}), status=200, predictions=len(R)),
    dict(source=SRC + " test_serving_model_with_param_schema (invalid value)",
         content_type=JSON + "; charset=UTF-8", body=json.dumps({"dataframe_split": split(R), "params": {"predict_method": "invalid_value1"}}),
         status=400, error_code="INVALID_PARAMETER_VALUE", message="predict_method"),
    dict(source=SRC + " test_serving_model_with_param_schema (a param the model does not declare is ignored)",
         content_type=JSON + "; charset=UTF-8", body=json.dumps({"dataframe_split": split(R), "params": {"invalid_param": "value"}}),
         status=200, predictions=len(R)),
    dict(source=SRV + " invocations(): params passed to predict (Gyre declares predict_method)",
         content_type=JSON, body=json.dumps({"dataframe_split": split(R), "params": {"predict_method": "predict_proba"}}),
         status=200, predictions=len(R), proba_width=2),
    dict(source=SRV + " init(): @app.route('/invocations', methods=['POST'])",
         method="GET", content_type="", body="", status=405),
    dict(source=SRV + " init(): @app.route('/ping', methods=['GET'])", method="GET", path="/ping", content_type="", body="", status=200),
]
for c in mlflow:
    c.setdefault("method", "POST")
    c.setdefault("path", "/invocations")

SPEC = "kserve/open-inference-protocol specification/protocol/inference_rest.md"
V1 = "kserve/kserve docs: Data Plane (V1)"
one = R[0]


def v2input(c, v, dt=None):
    if dt is None:
        dt = "FP64" if c in NUMERIC else "BYTES"
    if isinstance(v, float) and math.isnan(v):
        v = None
    return {"name": c, "shape": [1], "datatype": dt, "data": [v]}


inputs = [v2input(c, one[c]) for c in COLS]
oip = [
    dict(source=SPEC + " Server Live: $live_server_response", method="GET", path="/v2/health/live", status=200, equals={"live": True}),
    dict(source=SPEC + " Server Ready ($ready_server_response; \"ready\", as KServe answers)", method="GET", path="/v2/health/ready", status=200, equals={"ready": True}),
    dict(source=SPEC + " Model Ready: $ready_model_response", method="GET", path="/v2/models/titanic/ready", status=200, equals={"name": "titanic", "ready": True}),
    dict(source=SPEC + " Server Metadata: $metadata_server_response", method="GET", path="/v2", status=200, keys=["name", "version", "extensions"]),
    dict(source=SPEC + " Model Metadata: $metadata_model_response", method="GET", path="/v2/models/titanic", status=200, keys=["name", "versions", "platform", "inputs", "outputs"]),
    dict(source=SPEC + " Model Metadata Response JSON Error Object", method="GET", path="/v2/models/nope", status=404, keys=["error"]),
    dict(source=SPEC + " Inference Request Examples: the id is returned", method="POST", path="/v2/models/titanic/infer",
         body=json.dumps({"id": "42", "inputs": inputs}), status=200, equals={"id": "42", "model_name": "titanic"}, outputs=["predict", "proba_0", "proba_1"]),
    dict(source=SPEC + " $inference_request outputs: only the requested output is returned", method="POST", path="/v2/models/titanic/infer",
         body=json.dumps({"id": "42", "inputs": inputs, "outputs": [{"name": "proba_1"}]}), status=200, outputs=["proba_1"]),
    dict(source=SPEC + " $inference_request outputs: an output the model does not produce", method="POST", path="/v2/models/titanic/infer",
         body=json.dumps({"id": "42", "inputs": inputs, "outputs": [{"name": "output0"}]}), status=400, keys=["error"], message="output0"),
    dict(source=SPEC + " $request_input datatype: must fit the model's input", method="POST", path="/v2/models/titanic/infer",
         body=json.dumps({"inputs": [v2input(c, one[c], "BYTES" if c == "Fare" else None) for c in COLS]}), status=400, keys=["error"], message="Fare"),
    dict(source=SPEC + " Tensor Data Types: a datatype outside the table", method="POST", path="/v2/models/titanic/infer",
         body=json.dumps({"inputs": [v2input(c, one[c], "FLOAT" if c == "Age" else None) for c in COLS]}), status=400, keys=["error"], message="FLOAT"),
    dict(source=SPEC + " $inference_request parameters, returned in $inference_response parameters", method="POST", path="/v2/models/titanic/infer",
         body=json.dumps({"id": "p", "parameters": {"content_type": "pd", "trace": "a<b>&c"}, "inputs": inputs}), status=200,
         equals={"parameters": {"content_type": "pd", "trace": "a<b>&c"}}),
    dict(source=V1 + ": Model Ready GET /v1/models/<model_name> → {\"name\", \"ready\"}", method="GET", path="/v1/models/titanic", status=200,
         equals={"name": "titanic", "ready": True}),
    dict(source=V1 + ": Predict POST /v1/models/<model_name>:predict {\"instances\": [...]} → {\"predictions\": [...]}", method="POST",
         path="/v1/models/titanic:predict", body=json.dumps({"instances": [[r[c] for c in INPUTS] for r in R]}), status=200, predictions=len(R)),
    dict(source=V1 + ": Predict, instances as objects", method="POST", path="/v1/models/titanic:predict",
         body=json.dumps({"instances": R}), status=200, predictions=len(R)),
    dict(source=V1 + ": Predict on a model not served", method="POST", path="/v1/models/nope:predict",
         body=json.dumps({"instances": R}), status=404, keys=["error"]),
]
for c in oip:
    c.setdefault("body", "")
    c.setdefault("content_type", JSON if c["body"] else "")

for name, cases in [("mlflow.json", mlflow), ("oip.json", oip)]:
    with open(name, "w") as f:
        # allow_nan (the default) writes NaN bare inside the bodies' strings
        # too: the bodies are strings here, so the file itself is plain JSON.
        json.dump(cases, f, indent=1)
        f.write("\n")
