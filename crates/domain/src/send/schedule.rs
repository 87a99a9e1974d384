//! When a send starts: now, or at a time given with its UTC offset.

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::wire_time::rfc3339;

/// The form a `ScheduledTime` takes, shown in errors.
pub const SCHEDULED_TIME_EXAMPLE: &str = "2026-12-01T09:00:00-06:00";

/// A schedule as the client sent it (`Schedule` in a create body, or the Schedule Send
/// body).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleInput {
    pub start_immediately: Option<bool>,
    pub scheduled_time: Option<String>,
    pub all_recipients_opted_in: Option<bool>,
}

/// A valid schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// When the send may start: `now` for an immediate send.
    pub start_at: OffsetDateTime,
    /// The sender's statement that the whole audience consented (default false).
    pub all_recipients_opted_in: bool,
}

impl ScheduleInput {
    /// Checks the schedule at `now`.
    ///
    /// Exactly one of `StartImmediately: true` and a `ScheduledTime` must be given: both
    /// is ambiguous, neither says nothing about when. `StartImmediately: false` (or
    /// absent) with a time schedules at that time; the time must have an offset and not
    /// be in the past (see [`parse_scheduled_time`]).
    pub fn parse(self, now: OffsetDateTime) -> Result<Schedule, ScheduleError> {
        let time = self
            .scheduled_time
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty());
        let start_at = match (self.start_immediately.unwrap_or(false), time) {
            (true, Some(_)) => return Err(ScheduleError::Both),
            (true, None) => now,
            (false, Some(text)) => parse_scheduled_time(text, now)?,
            (false, None) => return Err(ScheduleError::NoTime),
        };
        Ok(Schedule {
            start_at,
            all_recipients_opted_in: self.all_recipients_opted_in.unwrap_or(false),
        })
    }
}

impl Schedule {
    /// A commercial (Marketing) classification sends only on the sender's statement that
    /// every recipient opted in; a transactional one does not need it.
    pub fn check_consent(&self, commercial: bool) -> Result<(), ScheduleError> {
        if commercial && !self.all_recipients_opted_in {
            return Err(ScheduleError::ConsentRequired);
        }
        Ok(())
    }
}

/// Reads an ISO-8601 date and time that carries its UTC offset (`Z` or `±hh:mm`), such
/// as [`SCHEDULED_TIME_EXAMPLE`], and refuses one earlier than `now`.
///
/// A time without an offset is refused rather than guessed: the sender's time zone is
/// not known, and a guess would send hours early or late.
pub fn parse_scheduled_time(
    text: &str,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, ScheduleError> {
    let text = text.trim();
    let time = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
        .map_err(|_| {
            if PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).is_ok() {
                ScheduleError::NoOffset(text.to_owned())
            } else {
                ScheduleError::Malformed(text.to_owned())
            }
        })?;
    if time < now {
        return Err(ScheduleError::InPast {
            time: text.to_owned(),
            now,
        });
    }
    Ok(time)
}

/// Why a schedule is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "ScheduledTime {0:?} has no UTC offset: give it as ISO-8601 with an offset, \
         such as {SCHEDULED_TIME_EXAMPLE}"
    )]
    NoOffset(String),
    #[error(
        "ScheduledTime {0:?} is not an ISO-8601 date and time with an offset, \
         such as {SCHEDULED_TIME_EXAMPLE}"
    )]
    Malformed(String),
    #[error("ScheduledTime {time:?} is in the past (it is now {})", rfc3339(*now))]
    InPast { time: String, now: OffsetDateTime },
    #[error(
        "the Schedule says neither StartImmediately true nor a ScheduledTime: \
         give one of them"
    )]
    NoTime,
    #[error(
        "the Schedule says both StartImmediately true and a ScheduledTime: \
         give one of them"
    )]
    Both,
    #[error(
        "the schedule is given both inside Schedule and at the top level of the body: \
         give it once"
    )]
    TwoPlaces,
    #[error(
        "a commercial send classification needs AllRecipientsOptedIn true: \
         state that the audience consented, or use a transactional classification"
    )]
    ConsentRequired,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);

    fn at(text: &str) -> Result<OffsetDateTime, ScheduleError> {
        parse_scheduled_time(text, NOW)
    }

    fn schedule(
        start_immediately: Option<bool>,
        scheduled_time: Option<&str>,
    ) -> Result<Schedule, ScheduleError> {
        ScheduleInput {
            start_immediately,
            scheduled_time: scheduled_time.map(str::to_owned),
            all_recipients_opted_in: Some(true),
        }
        .parse(NOW)
    }

    #[test]
    fn a_time_with_an_offset_is_read_as_that_instant() {
        assert_eq!(
            at("2026-12-01T09:00:00-06:00"),
            Ok(datetime!(2026-12-01 15:00 UTC))
        );
        assert_eq!(
            at("2026-12-01T15:00:00Z"),
            Ok(datetime!(2026-12-01 15:00 UTC))
        );
        assert_eq!(
            at("2026-12-01T15:00:00.250+01:00"),
            Ok(datetime!(2026-12-01 14:00:00.25 UTC))
        );
        assert_eq!(
            at("2026-12-01T15:00+01:00"),
            Ok(datetime!(2026-12-01 14:00 UTC))
        );
    }

    #[test]
    fn a_time_without_an_offset_is_refused_naming_the_expected_form() {
        let refused = at("2026-12-01T09:00:00").unwrap_err();
        assert_eq!(
            refused,
            ScheduleError::NoOffset("2026-12-01T09:00:00".into())
        );
        assert!(
            refused.to_string().contains("2026-12-01T09:00:00-06:00"),
            "{refused}"
        );
    }

    #[test]
    fn text_that_is_not_a_time_is_refused() {
        for text in ["tomorrow", "2026-13-01T09:00:00Z", "12/01/2026 09:00", ""] {
            assert_eq!(
                at(text),
                Err(ScheduleError::Malformed(text.into())),
                "{text}"
            );
        }
    }

    #[test]
    fn a_time_in_the_past_is_refused_and_now_is_not_the_past() {
        let refused = at("2026-11-26T05:59:59-06:00").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "ScheduledTime \"2026-11-26T05:59:59-06:00\" is in the past (it is now 2026-11-26T12:00:00Z)"
        );
        assert_eq!(at("2026-11-26T06:00:00-06:00"), Ok(NOW));
    }

    #[test]
    fn start_immediately_starts_now() {
        assert_eq!(schedule(Some(true), None).unwrap().start_at, NOW);
    }

    #[test]
    fn a_scheduled_time_without_start_immediately_schedules_at_that_time() {
        let later = datetime!(2026-12-01 15:00 UTC);
        assert_eq!(
            schedule(Some(false), Some("2026-12-01T15:00:00Z"))
                .unwrap()
                .start_at,
            later
        );
        assert_eq!(
            schedule(None, Some("2026-12-01T15:00:00Z"))
                .unwrap()
                .start_at,
            later
        );
    }

    #[test]
    fn neither_or_both_ways_of_saying_when_is_an_error() {
        assert_eq!(schedule(Some(false), None), Err(ScheduleError::NoTime));
        assert_eq!(schedule(None, None), Err(ScheduleError::NoTime));
        assert_eq!(
            schedule(Some(false), Some("  ")),
            Err(ScheduleError::NoTime)
        );
        assert_eq!(
            schedule(Some(true), Some("2026-12-01T15:00:00Z")),
            Err(ScheduleError::Both)
        );
    }

    #[test]
    fn consent_is_required_for_commercial_sends_only() {
        let without = ScheduleInput {
            start_immediately: Some(true),
            ..ScheduleInput::default()
        }
        .parse(NOW)
        .unwrap();
        assert!(!without.all_recipients_opted_in);
        assert_eq!(
            without.check_consent(true),
            Err(ScheduleError::ConsentRequired)
        );
        assert_eq!(without.check_consent(false), Ok(()));
        let with = schedule(Some(true), None).unwrap();
        assert_eq!(with.check_consent(true), Ok(()));
    }
}
