//! The records an import has written so far, in about one bit each.
//!
//! Herald mints record ids from a counter, so the records of one import have nearby
//! sequence numbers: a bitmap in pages of 32,768 ids holds a million of them in about
//! 128 KiB, where a set of ids would take tens of megabytes.

use std::collections::{HashMap, HashSet};

use herald_domain::salesforce_id::SalesforceId;

/// Ids per page.
const PAGE_BITS: u64 = 1 << 15;
const WORDS: usize = (PAGE_BITS / 64) as usize;

/// A set of record ids of one object (one key prefix: the prefix is not kept).
#[derive(Debug, Default)]
pub struct TouchedIds {
    pages: HashMap<u64, Box<[u64; WORDS]>>,
    /// Ids that carry no sequence number (Herald mints none of these).
    others: HashSet<SalesforceId>,
}

impl TouchedIds {
    pub fn insert(&mut self, id: SalesforceId) {
        match id.sequence() {
            Some(n) => {
                let page = self
                    .pages
                    .entry(n / PAGE_BITS)
                    .or_insert_with(|| Box::new([0; WORDS]));
                let (word, bit) = word_and_bit(n);
                page[word] |= bit;
            }
            None => {
                self.others.insert(id);
            }
        }
    }

    pub fn contains(&self, id: SalesforceId) -> bool {
        match id.sequence() {
            Some(n) => self.pages.get(&(n / PAGE_BITS)).is_some_and(|page| {
                let (word, bit) = word_and_bit(n);
                page[word] & bit != 0
            }),
            None => self.others.contains(&id),
        }
    }
}

/// Where sequence number `n` is within its page.
fn word_and_bit(n: u64) -> (usize, u64) {
    let offset = n % PAGE_BITS;
    ((offset / 64) as usize, 1 << (offset % 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_remembered_exactly_across_pages() {
        let mut touched = TouchedIds::default();
        let contact = |n| SalesforceId::generate("003", n);
        for n in [
            0,
            63,
            64,
            PAGE_BITS - 1,
            PAGE_BITS,
            5 * PAGE_BITS + 7,
            u64::MAX,
        ] {
            assert!(!touched.contains(contact(n)));
            touched.insert(contact(n));
            assert!(touched.contains(contact(n)), "{n}");
        }
        assert!(!touched.contains(contact(1)));
        assert!(!touched.contains(contact(PAGE_BITS + 1)));
        let odd = SalesforceId::parse("003zzzzzzzzzzzz").unwrap();
        touched.insert(odd);
        assert!(touched.contains(odd));
    }
}
