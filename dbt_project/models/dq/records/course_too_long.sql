-- 培训时长超标: a course longer than 1.5 × its programme's standard duration, the most the
-- province allows (docs/domain.md), usually a wrong end date or a padded course.
-- The shape is course_too_short's (macros/dq_mirror_checks.sql).
{{ course_length_finding('course_too_long', 'long') }}
