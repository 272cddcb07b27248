-- 报表多报: a progress report claims more trainee-times done than the real-name ledger shows
-- for the same county, programme and month (reconcile_reported_progress; macros/dq_mirror_checks.sql).
{{ report_vs_ledger_finding('report_overclaims_ledger', 'over') }}
