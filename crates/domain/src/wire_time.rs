//! The one way Herald writes a time: RFC 3339 in UTC, with as many fraction digits as the
//! time has (`2026-12-01T15:00:00Z`, `2026-11-26T12:00:00.5Z`), as Marketing Cloud and
//! Salesforce write dates. Every wire type and message writes times through [`rfc3339`].

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// `at` in RFC 3339, in UTC.
///
/// RFC 3339 writes the years 0 to 9999 only; a time outside them (which no clock or
/// stored time gives) is written as its Unix timestamp in seconds rather than failing.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    utc.format(&Rfc3339)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_time_is_written_in_utc_with_only_the_fraction_digits_it_has() {
        assert_eq!(
            rfc3339(datetime!(2026-12-01 15:00 UTC)),
            "2026-12-01T15:00:00Z"
        );
        assert_eq!(
            rfc3339(datetime!(2026-11-26 12:00:00.5 UTC)),
            "2026-11-26T12:00:00.5Z"
        );
        assert_eq!(
            rfc3339(datetime!(2026-12-01 17:00 +02:00)),
            "2026-12-01T15:00:00Z"
        );
    }

    #[test]
    fn a_time_rfc_3339_cannot_write_is_its_unix_timestamp() {
        assert_eq!(rfc3339(datetime!(-0001-01-01 0:00 UTC)), "-62198755200");
    }
}
