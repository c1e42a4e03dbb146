#!/usr/bin/env python3
"""Writes the .xlsx fixtures of internal/ingest's Excel tests with pandas and
openpyxl (Debian's python3-pandas and python3-openpyxl):

    /usr/bin/python3 testdata/ingest/xlsx/make_xlsx.py

penguins.xlsx: sheet "penguins" holds the held-out penguins rows
(testdata/modelimport/penguins.csv: four measurements with missing values
and the species), plus columns made up for the test: "zip" (text that looks
numeric: "007", "010", ...), "gentoo" (booleans), "observed" (a date per
row from 2007-11-10) and "at" (date-times with minutes), with two cells
made missing; sheet "notes" a second small table. penguins.csv beside it is the same table, for the
comparison.
"""
import os

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
df = pd.read_csv(os.path.join(HERE, "..", "..", "modelimport", "penguins.csv"))
n = len(df)
df.loc[3, "bill_length_mm"] = None  # missing cells
df.loc[7, "species"] = None
df["zip"] = [f"{i % 20:03d}" for i in range(n)]
df["gentoo"] = df["species"] == "Gentoo"
df["observed"] = pd.Timestamp("2007-11-10") + pd.to_timedelta(range(n), unit="D")
df["at"] = pd.Timestamp("2007-11-10 08:30") + pd.to_timedelta([37 * i for i in range(n)], unit="min")
notes = pd.DataFrame({"key": ["a", "b", "c"], "value": [1.5, 2.25, None]})
with pd.ExcelWriter(os.path.join(HERE, "penguins.xlsx"), engine="openpyxl") as w:
    df.to_excel(w, sheet_name="penguins", index=False)
    notes.to_excel(w, sheet_name="notes", index=False)
df.to_csv(os.path.join(HERE, "penguins.csv"), index=False)
