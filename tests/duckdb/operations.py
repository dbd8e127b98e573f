"""Runs operations.sql over one `--export-parquet` folder with DuckDB and
prints the rows as JSON, for the integration test to compare with critpath's
own operations table."""

import json
import pathlib
import sys

import duckdb

here = pathlib.Path(__file__).parent
con = duckdb.connect()
con.execute("SET VARIABLE dir = ?", [sys.argv[1]])
cursor = con.execute((here / "operations.sql").read_text())
names = [d[0] for d in cursor.description]
print(json.dumps([dict(zip(names, row)) for row in cursor.fetchall()]))
