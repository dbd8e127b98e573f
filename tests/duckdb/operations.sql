-- critpath's operations table, reproduced from `analyze --export-parquet`
-- files in DuckDB. Run it over the files of every shard at once:
--   duckdb -c "SET VARIABLE dir = 'results/*'; .read operations.sql"
-- Percentiles are nearest-rank, like critpath's: the value at 1-based rank
-- ceil(q * n) of the sorted durations (DuckDB lists are 1-based).
WITH spans AS (
    SELECT * FROM read_parquet(getvariable('dir') || '/spans.parquet')
),
total AS (
    SELECT sum(duration_ns) AS root_ns
    FROM read_parquet(getvariable('dir') || '/traces.parquet')
)
SELECT
    service,
    operation,
    count(*) AS count,
    count(*) FILTER (WHERE error) AS errors,
    list_sort(list(duration_ns))[CAST(ceil(0.50 * count(*)) AS BIGINT)] / 1e6 AS p50_ms,
    list_sort(list(duration_ns))[CAST(ceil(0.95 * count(*)) AS BIGINT)] / 1e6 AS p95_ms,
    list_sort(list(duration_ns))[CAST(ceil(0.99 * count(*)) AS BIGINT)] / 1e6 AS p99_ms,
    max(duration_ns) / 1e6 AS max_ms,
    sum(duration_ns) / 1e6 AS total_ms,
    sum(self_ns) / 1e6 AS self_ms,
    sum(self_ns) / any_value(total.root_ns) AS self_share,
    sum(critical_ns) / 1e6 AS critical_ms,
    sum(critical_ns) / any_value(total.root_ns) AS critical_share,
    arg_max(trace_id, duration_ns) AS example_trace_id
FROM spans, total
GROUP BY service, operation
ORDER BY critical_ms DESC, service, operation;
