//! `--shard I/N`: which targets this worker takes when N workers share one list. A target
//! belongs to the shard its key's hash falls in; the hash is SHA-256, so every worker, on any
//! machine and any version, splits the list the same way.

use std::fmt;
use std::str::FromStr;

/// Most shards a list can be split into.
pub const MAX_SHARDS: u32 = 100_000;

/// One share of a list: shard `index` of `count` (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This worker's share, from 0.
    pub index: u32,
    /// How many shares in all.
    pub count: u32,
}

impl Shard {
    /// The whole list.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether the target with `key` is this shard's.
    pub fn contains(&self, key: &str) -> bool {
        self.count <= 1 || bucket(key, self.count) == self.index
    }
}

/// The shard (of `count`) a key falls in.
fn bucket(key: &str, count: u32) -> u32 {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    // The remainder of a u64 by a u32 fits in a u32.
    u32::try_from(u64::from_be_bytes(first) % u64::from(count)).unwrap_or(0)
}

/// Why `--shard` did not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a shard: use I/N with 0 <= I < N <= {MAX_SHARDS}, e.g. 0/4")]
pub struct ShardError(String);

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let error = || ShardError(text.to_string());
        let (index, count) = text.trim().split_once('/').ok_or_else(error)?;
        let index: u32 = index.trim().parse().map_err(|_| error())?;
        let count: u32 = count.trim().parse().map_err(|_| error())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(error());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1/0", "-1/3", "a/b", "3", "", "0/100001"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_key_is_in_exactly_one_shard_and_the_split_is_even() {
        let count = 4;
        let mut sizes = [0usize; 4];
        for n in 0..4000 {
            let key = format!("customer-{n}.example");
            let owners: Vec<u32> = (0..count)
                .filter(|&index| Shard { index, count }.contains(&key))
                .collect();
            assert_eq!(owners.len(), 1, "{key}");
            sizes[owners[0] as usize] += 1;
        }
        assert!(sizes.iter().all(|&s| (850..1150).contains(&s)), "{sizes:?}");
    }

    #[test]
    fn the_split_is_stable() {
        // Pinned (computed independently with Python's hashlib): a change would send running
        // workers' targets to other shards.
        let got: Vec<u32> = ["a.example", "b.example", "c.example"]
            .iter()
            .map(|k| bucket(k, 1000))
            .collect();
        assert_eq!(got, [2, 715, 616]);
    }
}
