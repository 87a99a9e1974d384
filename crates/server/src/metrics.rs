//! Prometheus metrics, served at `GET /metrics` in the text exposition format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The outcome label of `herald_messages_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

/// Every metric Herald exports.
pub struct Metrics {
    registry: Registry,
    /// Delivery attempts by outcome: sent, captured, deferred, bounced, failed.
    pub messages: Family<OutcomeLabel, Counter>,
    /// Recipients waiting for an attempt, across running sends.
    pub queue_depth: Gauge,
    /// Messages this node is rendering or handing to a relay right now.
    pub in_flight: Gauge,
    /// Seconds from handing a message to a relay to its final reply.
    pub relay_reply_seconds: Histogram,
    /// Seconds between an instance's scheduled time and its start.
    pub scheduler_lag_seconds: Histogram,
    /// Open SMTP connections waiting for the next message.
    pub smtp_idle_connections: Gauge,
    /// SMTP connections opened since start.
    pub smtp_connections_opened: Gauge,
    /// Delivery status notifications taken in, by outcome (hard_bounce, soft_bounce, …).
    pub bounce_notifications: Family<OutcomeLabel, Counter>,
    /// Webhook requests by outcome: delivered, failed.
    pub webhook_deliveries: Family<OutcomeLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("herald");
        let metrics = Metrics {
            messages: Family::default(),
            queue_depth: Gauge::default(),
            in_flight: Gauge::default(),
            relay_reply_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            scheduler_lag_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            smtp_idle_connections: Gauge::default(),
            smtp_connections_opened: Gauge::default(),
            bounce_notifications: Family::default(),
            webhook_deliveries: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "messages",
            "Delivery attempts by outcome",
            metrics.messages.clone(),
        );
        registry.register(
            "queue_depth",
            "Recipients waiting for an attempt",
            metrics.queue_depth.clone(),
        );
        registry.register(
            "in_flight",
            "Messages being rendered or delivered on this node",
            metrics.in_flight.clone(),
        );
        registry.register(
            "relay_reply_seconds",
            "Seconds from handing a message to a relay to its reply",
            metrics.relay_reply_seconds.clone(),
        );
        registry.register(
            "scheduler_lag_seconds",
            "Seconds between an instance's scheduled time and its start",
            metrics.scheduler_lag_seconds.clone(),
        );
        registry.register(
            "smtp_idle_connections",
            "Open SMTP connections waiting for a message",
            metrics.smtp_idle_connections.clone(),
        );
        registry.register(
            "bounce_notifications",
            "Delivery status notifications taken in, by outcome",
            metrics.bounce_notifications.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook requests by outcome",
            metrics.webhook_deliveries.clone(),
        );
        registry.register(
            "smtp_connections_opened",
            "SMTP connections opened since start",
            metrics.smtp_connections_opened.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    /// Counts one attempt's outcome.
    pub fn count(&self, outcome: &str) {
        self.messages
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts one in `family` under `outcome`.
    pub fn count_in(family: &Family<OutcomeLabel, Counter>, outcome: &str) {
        family
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
