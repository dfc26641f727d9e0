//! Hashing of job ids for the job table.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use queue_core::JobId;

/// Hashes job ids by their bits: they are ULIDs (a timestamp and random bits), so SipHash's
/// protection against chosen keys buys nothing, and the table is looked up on every call.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;
/// The hash bits taken from the id as is; the rest come from a mix.
const LOW_BITS: u64 = (1 << 57) - 1;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(MIX);
        }
    }

    fn write_u128(&mut self, n: u128) {
        // Ids made one after another differ by one in their low bits: keeping those bits
        // as they are puts them in neighbouring buckets, so a large table is filled and
        // drained (first in, first out) with few cache misses. The top 7 bits, which the
        // table compares before the keys, come from a mix so neighbours differ there.
        let low = n as u64;
        let mixed = (low ^ (n >> 64) as u64).wrapping_mul(MIX);
        self.0 = (low & LOW_BITS) | (mixed & !LOW_BITS);
    }
}

/// A map keyed by job id.
pub(crate) type IdMap<V> = HashMap<JobId, V, BuildHasherDefault<IdHasher>>;
/// A set of job ids.
pub(crate) type IdSet = HashSet<JobId, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn ids_made_in_a_row_differ_in_the_high_bits() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let tops: HashSet<u64> = (0..64)
            .map(|_| build.hash_one(JobId::new()) >> 57)
            .collect();
        assert!(tops.len() > 16, "{} distinct top bits", tops.len());
    }
}
