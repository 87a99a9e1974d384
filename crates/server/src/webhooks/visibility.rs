//! How far a cursor may move. Event ids come from an identity column: on PostgreSQL a
//! transaction draws its id when it inserts but the row becomes visible only when it
//! commits, so id 11 can be visible while id 10 is not yet. A cursor that moved past 10
//! would never deliver it. So the dispatcher reads every account's ids above the cursor
//! and moves only through ids that are contiguous; at a gap it waits, and gives a gap up
//! (an id drawn by a transaction that rolled back, which never appears) only once it has
//! been seen for `margin`. SQLite commits one writer at a time, so its only gaps are
//! rollbacks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Gaps seen in the id sequence, by their first missing id, with when each was first seen.
#[derive(Debug, Default)]
pub struct Gaps(HashMap<i64, Instant>);

impl Gaps {
    /// The highest id through which a cursor at `after` may move, given the ids visible
    /// above it (ascending): through every contiguous id, and across gaps seen for at
    /// least `margin`.
    pub fn settled_through(
        &mut self,
        after: i64,
        visible: &[i64],
        now: Instant,
        margin: Duration,
    ) -> i64 {
        let mut through = after;
        for &id in visible {
            if id > through + 1 {
                let first_seen = *self.0.entry(through + 1).or_insert(now);
                if now.duration_since(first_seen) < margin {
                    break;
                }
            }
            through = id;
        }
        // A gap given up stays known for a while, so that other cursors reaching it do
        // not wait for it again; then it is forgotten.
        self.0
            .retain(|_, first_seen| now.duration_since(*first_seen) < 10 * margin);
        through
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARGIN: Duration = Duration::from_secs(10);

    #[test]
    fn a_cursor_moves_through_contiguous_ids_and_stops_at_a_fresh_gap() {
        let mut gaps = Gaps::default();
        let now = Instant::now();
        assert_eq!(gaps.settled_through(9, &[10, 11, 12], now, MARGIN), 12);
        assert_eq!(gaps.settled_through(9, &[11, 12], now, MARGIN), 9);
        assert_eq!(gaps.settled_through(9, &[10, 12, 13], now, MARGIN), 10);
        assert_eq!(gaps.settled_through(9, &[], now, MARGIN), 9);
    }

    #[test]
    fn a_late_commit_is_waited_for_and_a_rollback_is_given_up_after_the_margin() {
        let mut gaps = Gaps::default();
        let start = Instant::now();
        assert_eq!(gaps.settled_through(9, &[11], start, MARGIN), 9);
        let later = start + Duration::from_secs(3);
        assert_eq!(gaps.settled_through(9, &[11], later, MARGIN), 9);
        assert_eq!(
            gaps.settled_through(9, &[10, 11], later, MARGIN),
            11,
            "the late commit arrived: both are settled, in order"
        );
        assert_eq!(gaps.settled_through(11, &[13], later, MARGIN), 11);
        let after_margin = later + MARGIN;
        assert_eq!(
            gaps.settled_through(11, &[13], after_margin, MARGIN),
            13,
            "12 never appeared: a rollback"
        );
    }
}
