//! This instance's recent token activity, minute by minute, for the dashboard's live overview:
//! tokens issued per grant type and token endpoint errors per error code.
//!
//! It lives in memory, in a ring of one slot per minute, and is per instance: behind a load
//! balancer each instance sees its own share (Prometheus's `oauth2_tokens_issued_total` and
//! `oauth2_token_errors_total` are the fleet-wide view). A restart starts it afresh.

use oauth2_core::client::GrantType;
use oauth2_core::{ErrorCode, UnixTime};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// How many minutes the ring keeps.
pub const MINUTES_KEPT: usize = 60;

/// The counts of one minute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MinuteCounts {
    /// The start of the minute (a multiple of 60).
    pub minute: UnixTime,
    /// Tokens issued, in the order of [`GrantType::ALL`].
    pub issued: [u64; GrantType::ALL.len()],
    /// Token endpoint errors by error code.
    pub errors: BTreeMap<&'static str, u64>,
}

impl MinuteCounts {
    fn empty(minute: UnixTime) -> MinuteCounts {
        MinuteCounts {
            minute,
            ..MinuteCounts::default()
        }
    }

    /// Tokens issued with `grant`.
    pub fn issued_by(&self, grant: GrantType) -> u64 {
        GrantType::ALL
            .iter()
            .position(|g| *g == grant)
            .and_then(|i| self.issued.get(i))
            .copied()
            .unwrap_or(0)
    }

    pub fn issued_total(&self) -> u64 {
        self.issued.iter().sum()
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The ring: slot `minute % MINUTES_KEPT` holds that minute's counts, or an older minute's that
/// a newer one overwrites on first use.
#[derive(Debug)]
pub struct Activity {
    slots: Mutex<Vec<MinuteCounts>>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            slots: Mutex::new(vec![MinuteCounts::empty(UnixTime::MIN); MINUTES_KEPT]),
        }
    }
}

fn minute_of(now: UnixTime) -> UnixTime {
    now.div_euclid(60) * 60
}

fn slot_index(minute: UnixTime) -> usize {
    let n = MINUTES_KEPT as i64;
    // rem_euclid of a positive modulus is in 0..n.
    usize::try_from(minute.div_euclid(60).rem_euclid(n)).unwrap_or(0)
}

impl Activity {
    /// Runs `f` on the slot of `now`'s minute, clearing it first if it holds an older minute.
    fn with_slot(&self, now: UnixTime, f: impl FnOnce(&mut MinuteCounts)) {
        let minute = minute_of(now);
        // A poisoned lock only means another thread panicked while counting: the counts are
        // still usable.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get_mut(slot_index(minute)) {
            if slot.minute != minute {
                *slot = MinuteCounts::empty(minute);
            }
            f(slot);
        }
    }

    /// A token was issued with `grant`.
    pub fn token_issued(&self, grant: GrantType, now: UnixTime) {
        let Some(i) = GrantType::ALL.iter().position(|g| *g == grant) else {
            return;
        };
        self.with_slot(now, |slot| {
            if let Some(n) = slot.issued.get_mut(i) {
                *n += 1;
            }
        });
    }

    /// The token endpoint answered with an error.
    pub fn token_error(&self, code: ErrorCode, now: UnixTime) {
        self.with_slot(now, |slot| {
            *slot.errors.entry(code.as_str()).or_default() += 1;
        });
    }

    /// The last `minutes` minutes up to and including `now`'s, newest first; minutes without
    /// activity are there with zero counts.
    pub fn recent(&self, now: UnixTime, minutes: usize) -> Vec<MinuteCounts> {
        let current = minute_of(now);
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        (0..minutes.min(MINUTES_KEPT) as i64)
            .map(|back| {
                let minute = current - back * 60;
                match slots.get(slot_index(minute)) {
                    Some(slot) if slot.minute == minute => slot.clone(),
                    _ => MinuteCounts::empty(minute),
                }
            })
            .collect()
    }
}
