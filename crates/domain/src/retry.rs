//! When to try a deferred message again, and when to give up.

use time::{Duration, OffsetDateTime};

/// Exponential backoff with jitter, bounded by a maximum delay between attempts and a
/// maximum age of the message (after which it fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub initial_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// How long after the first attempt a message may still be retried (upstream: 72 h).
    pub max_age: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_delay: Duration::minutes(1),
            max_delay: Duration::hours(1),
            max_age: Duration::hours(72),
        }
    }
}

impl RetryPolicy {
    /// The time of the next attempt after `attempts` failed ones (1 = the first failed),
    /// or `None` when the message is too old to retry. `jitter` in `0.0..1.0` spreads
    /// retries over the upper half of the delay (so they do not arrive in lockstep).
    pub fn next_attempt(
        &self,
        attempts: u32,
        first_attempt_at: OffsetDateTime,
        now: OffsetDateTime,
        jitter: f64,
    ) -> Option<OffsetDateTime> {
        let exponent = attempts.saturating_sub(1).min(30);
        let full = (self.initial_delay * 2_i32.saturating_pow(exponent)).min(self.max_delay);
        let delay = full * (0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        let at = now + delay;
        (at <= first_attempt_at + self.max_age).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);

    #[test]
    fn delays_double_from_the_initial_delay_up_to_the_maximum() {
        let policy = RetryPolicy::default();
        let delay = |attempts| policy.next_attempt(attempts, T0, T0, 1.0).unwrap() - T0;
        assert_eq!(delay(1), Duration::minutes(1));
        assert_eq!(delay(2), Duration::minutes(2));
        assert_eq!(delay(3), Duration::minutes(4));
        assert_eq!(delay(10), Duration::hours(1));
        assert_eq!(delay(1000), Duration::hours(1));
    }

    #[test]
    fn jitter_keeps_the_delay_within_its_upper_half() {
        let policy = RetryPolicy::default();
        let low = policy.next_attempt(3, T0, T0, 0.0).unwrap() - T0;
        let high = policy.next_attempt(3, T0, T0, 0.999).unwrap() - T0;
        assert_eq!(low, Duration::minutes(2));
        assert!(high > low && high <= Duration::minutes(4));
    }

    #[test]
    fn a_message_older_than_the_maximum_age_is_not_retried() {
        let policy = RetryPolicy::default();
        let now = T0 + Duration::hours(71) + Duration::minutes(30);
        assert_eq!(policy.next_attempt(40, T0, now, 1.0), None);
        assert!(policy.next_attempt(40, T0, now, 0.0).is_some());
    }
}
