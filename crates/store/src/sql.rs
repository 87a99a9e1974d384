//! Small helpers for building SQL that runs on both backends.

/// `$start, $start+1, …` for `count` values bound in a row (an `IN (…)` or `VALUES (…)`
/// list).
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
