//! Definition and instance ids as they appear in paths: strings of digits.

/// The id named by a path segment, or `None` when the text cannot name one (it is not
/// a positive whole number of digits that fits in 63 bits). A `None` is answered like
/// an id that does not exist.
pub fn parse_id(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_positive_string_of_digits() {
        assert_eq!(parse_id("10000001"), Some(10_000_001));
        assert_eq!(parse_id("007"), Some(7));
        for text in [
            "",
            "0",
            "-1",
            "+1",
            " 1",
            "1.0",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(parse_id(text), None, "{text:?}");
        }
    }
}
