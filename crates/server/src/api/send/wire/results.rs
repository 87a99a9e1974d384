//! Herald's additions to the Send API's bodies: what happened after a message was sent,
//! per recipient (in the recipients listing) and per instance (in the status response).

use herald_store::{EngagementCounts, RecipientResults};
use serde::Serialize;

use super::response::wire_time;

/// An instance's `Statistics`: every open and click counted (`Opens`, `Clicks`), and the
/// distinct recipients (`UniqueOpens`, `UniqueClicks`, `Unsubscribes`, `Bounced` for good,
/// `SoftBounced` by a notification of a temporary failure).
/// `BounceRate` is bounced recipients over those a relay accepted or refused (0 to 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticsView {
    unique_opens: i64,
    opens: i64,
    unique_clicks: i64,
    clicks: i64,
    unsubscribes: i64,
    bounced: i64,
    soft_bounced: i64,
    bounce_rate: f64,
}

impl From<EngagementCounts> for StatisticsView {
    fn from(counts: EngagementCounts) -> Self {
        let rate = if counts.attempted == 0 {
            0.0
        } else {
            counts.bounced as f64 / counts.attempted as f64
        };
        StatisticsView {
            unique_opens: counts.unique_opens,
            opens: counts.opens,
            unique_clicks: counts.unique_clicks,
            clicks: counts.clicks,
            unsubscribes: counts.unsubscribes,
            bounced: counts.bounced,
            soft_bounced: counts.soft_bounced,
            bounce_rate: (rate * 10_000.0).round() / 10_000.0,
        }
    }
}

/// One recipient's results, flattened into its entry of the recipients listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultsView {
    sent_time: Option<String>,
    bounce: Option<BounceView>,
    opens: OpensView,
    clicks: Vec<ClickView>,
    unsubscribed_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct BounceView {
    time: String,
    /// `hard` (a 5xx refusal) unless the bounce says otherwise.
    kind: String,
    reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OpensView {
    count: i64,
    first_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ClickView {
    url: String,
    count: i64,
    first_time: String,
}

impl From<&RecipientResults> for ResultsView {
    fn from(results: &RecipientResults) -> Self {
        let text = |detail: &Option<serde_json::Value>, key: &str| {
            detail
                .as_ref()
                .and_then(|detail| detail.get(key))
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        ResultsView {
            sent_time: results.sent_at.map(wire_time),
            bounce: results.bounced.as_ref().map(|(at, detail)| BounceView {
                time: wire_time(*at),
                kind: text(detail, "kind").unwrap_or_else(|| "hard".to_owned()),
                reason: text(detail, "reason")
                    .or_else(|| text(detail, "diagnostic"))
                    .or_else(|| text(detail, "reply")),
            }),
            opens: OpensView {
                count: results.opens,
                first_time: results.first_opened_at.map(wire_time),
            },
            clicks: results
                .clicks
                .iter()
                .map(|click| ClickView {
                    url: click.url.clone(),
                    count: click.count,
                    first_time: wire_time(click.first_at),
                })
                .collect(),
            unsubscribed_time: results.unsubscribed_at.map(wire_time),
        }
    }
}
