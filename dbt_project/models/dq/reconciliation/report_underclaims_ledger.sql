-- 报表少报: a progress report claims fewer trainee-times done than the real-name ledger shows
-- for the same county, programme and month (reconcile_reported_progress; macros/dq_mirror_checks.sql).
{{ report_vs_ledger_finding('report_underclaims_ledger', 'under') }}
