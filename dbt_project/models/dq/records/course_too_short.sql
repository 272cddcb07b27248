-- 培训时长不足: a course shorter than its programme's minimum (docs/domain.md: 15 days, 2 years, 3 months,
-- 7 days, 10 days, 80 class hours, 10 days). Such a course does not count towards the task.
-- The shape is course_too_long's (macros/dq_mirror_checks.sql).
{{ course_length_finding('course_too_short', 'short') }}
