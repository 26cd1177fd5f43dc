"""Aggregates the extracted records per region and publishes the result as this task's output."""
import json
import os

records = json.loads(os.environ["DAGRUN_UPSTREAM_EXTRACT"])["records"]
totals = {}
for record in records:
    totals[record["region"]] = round(totals.get(record["region"], 0) + record["amount"], 2)

result = {"records": [{"region": r, "total": t} for r, t in sorted(totals.items())], "count": len(records)}
with open(os.environ["DAGRUN_OUTPUT"], "w") as out:
    json.dump(result, out)
print(f"aggregated {len(records)} records into {len(totals)} regions")
