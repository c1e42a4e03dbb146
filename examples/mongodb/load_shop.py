#!/usr/bin/python3
"""Load examples/data/adult into a MongoDB collection as nested documents.

    /usr/bin/python3 examples/mongodb/load_shop.py [mongodb://127.0.0.1:27017] [--drop]

writes the database `shop`, collection `customers`: one document per row of
the UCI Adult training file (examples/data/adult/adult.train.csv, 39,074
rows), shaped like an application's customer records rather than a flat
table, so `gyre automl mongodb://127.0.0.1:27017/shop?collection=customers
--target churned --budget 30s` exercises flattening (profile.age,
work.hours_per_week), an array (tags, read as JSON text), ObjectId keys and
mixed BSON types (int32, int64, double, bool, string):

    {_id: ObjectId, customer_no: int64, since: date,
     profile: {age, sex, race, country, marital_status, relationship},
     work: {class, occupation, hours_per_week},
     education: {level, years},
     finance: {capital_gain: double, capital_loss: double, weight: int},
     tags: [..], churned: bool}

The data set holds no customer-churn label: `churned` is Adult's income
class (true for ">50K"), a stand-in binary target on real data. Run by
.ci/run against the FerretDB it starts; needs python3-pymongo.
"""

import csv
import datetime
import os
import sys

import pymongo


def documents(path):
    base = datetime.datetime(2015, 1, 1)
    with open(path, newline="") as f:
        for i, r in enumerate(csv.DictReader(f)):
            tags = []
            if int(r["hours-per-week"]) > 45:
                tags.append("long-hours")
            if int(r["capital-gain"]) > 0:
                tags.append("investor")
            if r["native-country"] not in ("United-States", "?"):
                tags.append("abroad")
            yield {
                "customer_no": i + 1,
                "since": base + datetime.timedelta(days=(i * 37) % 3650),
                "profile": {
                    "age": int(r["age"]),
                    "sex": r["sex"],
                    "race": r["race"],
                    "country": None if r["native-country"] == "?" else r["native-country"],
                    "marital_status": r["marital-status"],
                    "relationship": r["relationship"],
                },
                "work": {
                    "class": None if r["workclass"] == "?" else r["workclass"],
                    "occupation": None if r["occupation"] == "?" else r["occupation"],
                    "hours_per_week": int(r["hours-per-week"]),
                },
                "education": {"level": r["education"], "years": int(r["education-num"])},
                "finance": {
                    "capital_gain": float(r["capital-gain"]),
                    "capital_loss": float(r["capital-loss"]),
                    "weight": int(r["fnlwgt"]),
                },
                "tags": tags,
                "churned": r["class"].strip() == ">50K",
            }


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    url = args[0] if args else "mongodb://127.0.0.1:27017"
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "data", "adult", "adult.train.csv")
    coll = pymongo.MongoClient(url, serverSelectionTimeoutMS=10000).shop.customers
    if "--drop" in sys.argv:
        coll.drop()
    elif coll.estimated_document_count() > 0:
        print("shop.customers already holds documents; pass --drop to reload")
        return
    batch, n = [], 0
    for d in documents(path):
        batch.append(d)
        if len(batch) == 5000:
            coll.insert_many(batch)
            n += len(batch)
            batch = []
    if batch:
        coll.insert_many(batch)
        n += len(batch)
    print("loaded %d documents into shop.customers" % n)


if __name__ == "__main__":
    main()
