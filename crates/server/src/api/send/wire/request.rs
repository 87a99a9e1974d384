//! Request bodies. Keys are PascalCase; unknown keys are ignored (clients send extra
//! fields), except inside a search's `Criteria`, where an unknown key would silently
//! widen the search.

use std::fmt;

use herald_domain::send::criteria::CriteriaInput;
use herald_domain::send::definition::DefinitionInput;
use herald_domain::send::schedule::{ScheduleError, ScheduleInput};
use herald_domain::send::target::TargetInput;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::api::error::ApiError;
use crate::api::json;

/// The body of Create Definition and Update Definition:
/// `{"EmailDefinition":{…},"Schedule":{…}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefinitionBody {
    pub email_definition: Option<EmailDefinition>,
    /// On create: schedule the new definition in the same step.
    pub schedule: Option<ScheduleFields>,
}

impl DefinitionBody {
    /// The definition as the client sent it; an absent `EmailDefinition` is one with
    /// every field absent (so a create names all required fields as missing).
    pub fn definition_input(&mut self) -> DefinitionInput {
        self.email_definition
            .take()
            .unwrap_or_default()
            .into_input()
    }
}

/// `EmailDefinition`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailDefinition {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The email's integer id: a JSON number or a string of digits.
    #[serde(default, deserialize_with = "integer_or_digits")]
    pub email_id: Option<i64>,
    /// A classification's id or customer key: a string, or a JSON number.
    #[serde(default, deserialize_with = "text_or_integer")]
    pub send_classification_id: Option<String>,
    pub targets: Option<Vec<TargetBody>>,
    pub exclusions: Option<Vec<TargetBody>>,
    pub deduplicate_by_email: Option<bool>,
}

impl EmailDefinition {
    /// The domain's view of the same fields.
    pub fn into_input(self) -> DefinitionInput {
        let targets = |list: Option<Vec<TargetBody>>| {
            list.map(|list| list.into_iter().map(TargetBody::into_input).collect())
        };
        DefinitionInput {
            name: self.name,
            description: self.description,
            email_id: self.email_id,
            send_classification: self.send_classification_id,
            targets: targets(self.targets),
            exclusions: targets(self.exclusions),
            deduplicate_by_email: self.deduplicate_by_email,
        }
    }
}

/// One of `Targets` or `Exclusions`: `{"Type","Name","Id"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetBody {
    #[serde(rename = "Type")]
    pub target_type: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
}

impl TargetBody {
    pub fn into_input(self) -> TargetInput {
        TargetInput {
            target_type: self.target_type,
            name: self.name,
            id: self.id,
        }
    }
}

/// `Schedule`: `{"StartImmediately","ScheduledTime","AllRecipientsOptedIn"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleFields {
    pub start_immediately: Option<bool>,
    pub scheduled_time: Option<String>,
    pub all_recipients_opted_in: Option<bool>,
}

impl ScheduleFields {
    pub fn into_input(self) -> ScheduleInput {
        ScheduleInput {
            start_immediately: self.start_immediately,
            scheduled_time: self.scheduled_time,
            all_recipients_opted_in: self.all_recipients_opted_in,
        }
    }

    fn is_empty(&self) -> bool {
        self.start_immediately.is_none()
            && self.scheduled_time.is_none()
            && self.all_recipients_opted_in.is_none()
    }
}

/// The body of Schedule Send. The contract shows the schedule's fields only inside a
/// create's `Schedule`; this body takes them either at the top level or wrapped the
/// same way (`{"Schedule":{…}}`), but not both.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleBody {
    #[serde(flatten)]
    pub fields: ScheduleFields,
    pub schedule: Option<ScheduleFields>,
}

impl ScheduleBody {
    /// The schedule as the client sent it.
    pub fn into_input(self) -> Result<ScheduleInput, ScheduleError> {
        match self.schedule {
            Some(_) if !self.fields.is_empty() => Err(ScheduleError::TwoPlaces),
            Some(wrapped) => Ok(wrapped.into_input()),
            None => Ok(self.fields.into_input()),
        }
    }
}

/// The body of Search Definitions: `{"Criteria":{…}}`; no criteria match everything.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchBody {
    pub criteria: Option<CriteriaBody>,
}

impl SearchBody {
    /// The criteria as the client sent them (all absent when there are none).
    pub fn into_input(self) -> CriteriaInput {
        self.criteria
            .map(CriteriaBody::into_input)
            .unwrap_or_default()
    }
}

/// `Criteria`: `{"Operation","Name","SubscriberListId"}`, nothing else.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CriteriaBody {
    pub operation: Option<String>,
    pub name: Option<String>,
    pub subscriber_list_id: Option<String>,
}

impl CriteriaBody {
    pub fn into_input(self) -> CriteriaInput {
        CriteriaInput {
            operation: self.operation,
            name: self.name,
            subscriber_list_id: self.subscriber_list_id,
        }
    }
}

/// Parses a body that may be left out (no bytes, or only blanks), as Schedule Send's
/// and Search Definitions' may: then it is `T::default()`. Otherwise as
/// [`json::parse`].
pub fn parse_optional_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json::parse(bytes)
}

/// An integer id: a JSON number, or a string of digits (blank means absent).
fn integer_or_digits<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct IntegerOrDigits;

    impl<'de> Visitor<'de> for IntegerOrDigits {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number, or a string of digits")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            Ok(Some(value))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            i64::try_from(value)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            let digits = text.trim();
            if digits.is_empty() {
                return Ok(None);
            }
            if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(E::invalid_value(de::Unexpected::Str(text), &self));
            }
            digits
                .parse()
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    deserializer.deserialize_any(IntegerOrDigits)
}

/// A key that may be text or a JSON whole number (kept as its digits).
fn text_or_integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct TextOrInteger;

    impl<'de> Visitor<'de> for TextOrInteger {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, or a whole number")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            Ok(Some(value.to_string()))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Some(value.to_string()))
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            Ok(Some(text.to_owned()))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    deserializer.deserialize_any(TextOrInteger)
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::send::definition::{DefinitionError, RequiredField};

    fn code<T: DeserializeOwned + fmt::Debug>(body: &str) -> u32 {
        match json::parse::<T>(body.as_bytes()) {
            Err(ApiError::BadRequest { errorcode, .. }) => errorcode,
            other => panic!("{other:?}"),
        }
    }

    fn message<T: DeserializeOwned + fmt::Debug>(body: &str) -> String {
        json::parse::<T>(body.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn the_contracts_example_body_parses_into_a_valid_definition_and_schedule() {
        let mut body: DefinitionBody = json::parse(
            br#"{ "EmailDefinition": { "Name": "Demo Definition", "Description": "...",
                  "EmailId": 123456, "SendClassificationId": "123456",
                  "Targets": [ { "Type": "Report", "Name": "Contacts", "Id": "00O000000000001AAA" } ] },
                "Schedule": { "StartImmediately": true, "AllRecipientsOptedIn": true } }"#,
        )
        .unwrap();
        let input = body.definition_input();
        assert_eq!(input.email_id, Some(123_456));
        assert_eq!(input.send_classification.as_deref(), Some("123456"));
        let targets = input.targets.as_ref().unwrap();
        assert_eq!(targets[0].target_type.as_deref(), Some("Report"));
        assert_eq!(targets[0].id.as_deref(), Some("00O000000000001AAA"));
        let schedule = body.schedule.unwrap().into_input();
        assert_eq!(schedule.start_immediately, Some(true));
        assert_eq!(schedule.all_recipients_opted_in, Some(true));
    }

    #[test]
    fn email_id_is_a_number_or_a_string_of_digits() {
        for (json, id) in [
            (r#"{"EmailId": 42}"#, Some(42)),
            (r#"{"EmailId": "42"}"#, Some(42)),
            (r#"{"EmailId": " 42 "}"#, Some(42)),
            (r#"{"EmailId": ""}"#, None),
            (r#"{"EmailId": null}"#, None),
            (r#"{}"#, None),
            (r#"{"EmailId": -3}"#, Some(-3)),
        ] {
            let parsed: EmailDefinition = json::parse(json.as_bytes()).unwrap();
            assert_eq!(parsed.email_id, id, "{json}");
        }
        for json in [
            r#"{"EmailId": "12a"}"#,
            r#"{"EmailId": "-3"}"#,
            r#"{"EmailId": 1.5}"#,
            r#"{"EmailId": true}"#,
            r#"{"EmailId": [1]}"#,
            r#"{"EmailId": 18446744073709551615}"#,
        ] {
            assert_eq!(code::<EmailDefinition>(json), 10001, "{json}");
        }
        assert!(
            message::<EmailDefinition>(r#"{"EmailId": "12a"}"#)
                .contains("a whole number, or a string of digits"),
        );
    }

    #[test]
    fn a_classification_is_named_by_text_or_by_number() {
        for (json, key) in [
            (r#"{"SendClassificationId": 7}"#, "7"),
            (
                r#"{"SendClassificationId": "Default Commercial"}"#,
                "Default Commercial",
            ),
        ] {
            let parsed: EmailDefinition = json::parse(json.as_bytes()).unwrap();
            assert_eq!(parsed.send_classification_id.as_deref(), Some(key));
        }
        assert_eq!(
            code::<EmailDefinition>(r#"{"SendClassificationId": {}}"#),
            10001
        );
    }

    #[test]
    fn a_body_that_is_not_json_or_of_the_wrong_type_is_a_400() {
        assert_eq!(code::<DefinitionBody>("EmailDefinition=1"), 10004);
        assert_eq!(code::<DefinitionBody>(r#"{"EmailDefinition": {"#), 10004);
        assert_eq!(code::<DefinitionBody>("[]"), 10001);
        assert_eq!(code::<DefinitionBody>(r#"{"EmailDefinition": []}"#), 10001);
        assert_eq!(
            code::<DefinitionBody>(r#"{"EmailDefinition": {"Name": 5}}"#),
            10001
        );
        assert_eq!(
            code::<DefinitionBody>(r#"{"EmailDefinition": {"Targets": {"Type": "Report"}}}"#),
            10001
        );
        assert_eq!(
            code::<DefinitionBody>(r#"{"EmailDefinition": {"DeduplicateByEmail": "yes"}}"#),
            10001
        );
        assert_eq!(
            code::<DefinitionBody>(r#"{"Schedule": {"StartImmediately": 1}}"#),
            10001
        );
        let located = message::<DefinitionBody>(r#"{"EmailDefinition": {"Name": 5}}"#);
        assert!(located.contains("EmailDefinition.Name"), "{located}");
    }

    #[test]
    fn missing_fields_are_a_business_error_naming_all_of_them() {
        for body in [
            "{}",
            r#"{"EmailDefinition": {}}"#,
            r#"{"EmailDefinition": null}"#,
        ] {
            let mut parsed: DefinitionBody = json::parse(body.as_bytes()).unwrap();
            assert_eq!(
                parsed.definition_input().into_spec(),
                Err(DefinitionError::MissingFields(vec![
                    RequiredField::Name,
                    RequiredField::EmailId,
                    RequiredField::SendClassificationId,
                    RequiredField::Targets,
                ])),
                "{body}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_ignored_but_not_in_search_criteria() {
        let parsed: DefinitionBody =
            json::parse(br#"{"EmailDefinition": {"Name": "x", "Extra": 1}, "Other": true}"#)
                .unwrap();
        assert_eq!(parsed.email_definition.unwrap().name.as_deref(), Some("x"));
        assert_eq!(
            code::<SearchBody>(r#"{"Criteria": {"LeftOperand": {"Name": "x"}}}"#),
            10001
        );
        let refused = message::<SearchBody>(r#"{"Criteria": {"Nmae": "x"}}"#);
        assert!(refused.contains("SubscriberListId"), "{refused}");
    }

    #[test]
    fn search_criteria_are_read_and_may_be_left_out() {
        let body: SearchBody = json::parse(
            br#"{"Criteria": {"Operation": "or", "Name": "spring", "SubscriberListId": "00O000000000001"}}"#,
        )
        .unwrap();
        let criteria = body.into_input();
        assert_eq!(criteria.operation.as_deref(), Some("or"));
        assert_eq!(
            criteria.subscriber_list_id.as_deref(),
            Some("00O000000000001")
        );
        for empty in ["", "  \n", "{}"] {
            let body: SearchBody = parse_optional_body(empty.as_bytes()).unwrap();
            assert_eq!(body.into_input(), CriteriaInput::default());
        }
        assert!(parse_optional_body::<SearchBody>(b"nope").is_err());
    }

    #[test]
    fn a_schedule_send_body_takes_the_fields_flat_or_wrapped_but_not_both() {
        let flat: ScheduleBody = json::parse(
            br#"{"StartImmediately": false, "ScheduledTime": "2026-12-01T09:00:00-06:00"}"#,
        )
        .unwrap();
        let flat = flat.into_input().unwrap();
        assert_eq!(flat.start_immediately, Some(false));
        assert_eq!(
            flat.scheduled_time.as_deref(),
            Some("2026-12-01T09:00:00-06:00")
        );
        let wrapped: ScheduleBody = json::parse(
            br#"{"Schedule": {"StartImmediately": true, "AllRecipientsOptedIn": true}}"#,
        )
        .unwrap();
        let wrapped = wrapped.into_input().unwrap();
        assert_eq!(wrapped.start_immediately, Some(true));
        assert_eq!(wrapped.all_recipients_opted_in, Some(true));
        let both: ScheduleBody =
            json::parse(br#"{"StartImmediately": true, "Schedule": {"StartImmediately": true}}"#)
                .unwrap();
        assert_eq!(both.into_input(), Err(ScheduleError::TwoPlaces));
        let empty: ScheduleBody = parse_optional_body(b"").unwrap();
        assert_eq!(empty.into_input(), Ok(ScheduleInput::default()));
        assert_eq!(
            code::<ScheduleBody>(r#"{"StartImmediately": "yes"}"#),
            10001
        );
    }
}
