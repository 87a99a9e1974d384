//! What happened to an instance's audience, counted.

/// Recipients of one send instance by outcome, as Get Instance Status reports them.
///
/// `targeted` records came out of the targets; `excluded` of them were members of an
/// exclusion, `suppressed` were opted out, unsubscribed or hard-bounced, `duplicates` were
/// folded into another record with the same address (`DeduplicateByEmail`). Of the
/// messages then attempted, `sent` were accepted by the relay, `deferred` await a retry,
/// `bounced` were refused permanently and `failed` could not be built or delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendCounts {
    pub targeted: i64,
    pub excluded: i64,
    pub suppressed: i64,
    pub duplicates: i64,
    pub sent: i64,
    pub deferred: i64,
    pub bounced: i64,
    pub failed: i64,
}
